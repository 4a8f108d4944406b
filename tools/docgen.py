"""Man pages and shell completion scripts, generated from the click command tree.

Owns: reading the click tree (`kmscli.cli.root.cli`, with every command module registered as
`kmscli.cli.main` registers them) into a plain model, and rendering it as the committed files
`completions/kmscli.bash`, `completions/_kmscli` (zsh), `completions/kmscli.fish`,
`man/kmscli.1` and `man/kmscli-format.5`. Each renderer is a function returning the file's text;
`python tools/docgen.py --write` rewrites the files (after changing a command) and `--check` fails
when one is stale, as tests/test_docs.py does.

A development tool, not part of the product: it lives outside the `kmscli` package, so the wheel
does not ship it, and nothing in kmscli imports it.

Must not: keep a copy of what the product declares. The exit statuses come from
`kmscli.errors.EXIT_STATUSES` and the error classes, the environment variables and config.toml's
settings from `kmscli.cli.settings`, the regions from `kmscli.cli.params.REGIONS`, the word lists
of key specs, usages and suites from the modules that check them.

The completion scripts are static: they start kmscli only to list the key IDs and aliases of the
keyring (`kmscli key list` / `kmscli alias list`, piped form, first column), silently, handing on
the command line's --home, --region and --profile, so that kmscli itself finds the keyring
(environment, config.toml, profiles) as the command would; a listing never creates a keyring.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import click

GENERATED = "python tools/docgen.py --write"
ROOT = Path(__file__).resolve().parent.parent  # the repository
NOTICE = f"Generated from the click command tree by `{GENERATED}`: do not edit."

# What a value completes to. "words" values carry their list; the others are completed by the
# shell (file, dir), from the keyring (key: key IDs and aliases, alias: aliases) or not at all.
NONE, WORDS, KEY, ALIAS, FILE, DIR = "none", "words", "key", "alias", "file", "dir"
_SAFE_WORD = re.compile(r"[A-Za-z0-9_.+-]+")


@dataclass(frozen=True)
class Values:
    kind: str
    words: tuple[str, ...] = ()
    name: str = ""  # the shell variable name of a word list

    @property
    def token(self) -> str:
        """How the bash and zsh scripts name this kind: the word list's name for words."""
        return self.name if self.kind == WORDS else self.kind


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]
    help: str
    metavar: str | None  # None: a flag
    values: Values
    default: str | None = None  # shown in the man page when the option shows its default
    choices: tuple[str, ...] = ()  # those click checks (click.Choice), listed in the man page

    @property
    def takes_value(self) -> bool:
        return self.metavar is not None


@dataclass(frozen=True)
class Argument:
    metavar: str
    values: Values
    variadic: bool


@dataclass(frozen=True)
class Block:
    text: str
    literal: bool  # a click `\b` block: kept line by line


@dataclass(frozen=True)
class Help:
    summary: str
    description: tuple[Block, ...]
    example: tuple[str, ...]


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]  # () for kmscli itself
    help: Help
    options: tuple[Option, ...]  # its own: the global options are Tree.global_options
    arguments: tuple[Argument, ...]
    subcommands: tuple[str, ...]

    @property
    def name(self) -> str:
        return " ".join(("kmscli", *self.path))

    @property
    def key(self) -> str:
        """The command path as the completion scripts match it: "" or "key describe"."""
        return " ".join(self.path)

    @property
    def usage(self) -> str:
        pieces = ["[OPTIONS]"]
        if self.subcommands:
            pieces.append("COMMAND [ARGS]...")
        pieces.extend(argument.metavar for argument in self.arguments)
        return " ".join(pieces)


@dataclass(frozen=True)
class Tree:
    commands: tuple[Command, ...]  # kmscli first, then depth first in name order
    global_options: tuple[Option, ...]  # accepted by every command and group

    @property
    def root(self) -> Command:
        return self.commands[0]

    def subcommands(self, command: Command) -> list[tuple[str, str]]:
        """(name, summary) of each subcommand of `command`."""
        summaries = {c.path: c.help.summary for c in self.commands}
        return [(name, summaries[(*command.path, name)]) for name in command.subcommands]

    def word_lists(self) -> dict[str, tuple[str, ...]]:
        lists: dict[str, tuple[str, ...]] = {}
        for command in self.commands:
            for values in _all_values(command, self.global_options):
                if values.kind == WORDS:
                    lists.setdefault(values.name, values.words)
        return dict(sorted(lists.items()))


def _all_values(command: Command, global_options: Sequence[Option]) -> Iterator[Values]:
    for option in (*command.options, *global_options):
        if option.takes_value:
            yield option.values
    for argument in command.arguments:
        yield argument.values


# -- reading the click tree ----------------------------------------------------------------------


def load_cli() -> click.Group:
    """The root group with every command registered, exactly as `kmscli` runs it."""
    from kmscli.cli import commands  # noqa: F401  (registers every command module)
    from kmscli.cli.root import cli

    return cli


def parse_help(raw: str | None) -> Help:
    """Split a command's help into its summary, description blocks and `Example:` lines."""
    text = inspect.cleandoc(raw or "").partition("\f")[0]
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    if not paragraphs:
        return Help("", (), ())
    description: list[Block] = []
    example: tuple[str, ...] = ()
    for paragraph in paragraphs[1:]:
        lines = paragraph.split("\n")
        if lines[0].strip() != "\b":
            description.append(Block(" ".join(paragraph.split()), literal=False))
        elif len(lines) > 1 and lines[1].strip() == "Example:":
            example = tuple(textwrap.dedent("\n".join(lines[2:])).splitlines())
        else:
            description.append(Block(textwrap.dedent("\n".join(lines[1:])), literal=True))
    return Help(" ".join(paragraphs[0].split()), tuple(description), example)


def _word_list(name: str) -> tuple[str, ...]:
    from kmscli.cli.params import REGIONS
    from kmscli.kms.service import KNOWN_KEY_SPECS, KNOWN_KEY_USAGES
    from kmscli.message.suites import ENCRYPT_SUITES

    lists = {
        "regions": REGIONS,
        "key_specs": tuple(sorted(KNOWN_KEY_SPECS)),
        "key_usages": tuple(sorted(KNOWN_KEY_USAGES)),
        "suites": tuple(suite.name for suite in ENCRYPT_SUITES),
    }
    return lists[name]


# Values kmscli knows although click does not check them (the service or the encoder does).
_OPTION_WORDS = {
    "--region": "regions",
    "--replica-region": "regions",
    "--key-spec": "key_specs",
    "--key-usage": "key_usages",
}
_COMMAND_OPTION_WORDS = {("encrypt", "--algorithm"): "suites"}
_ARGUMENT_WORDS = {"region": "regions"}
_KEY_METAVARS = {"KEY", "NEWKEY"}
_ALTERNATIVES = re.compile(r"[A-Z][A-Z0-9_]+(?:\|[A-Z][A-Z0-9_]+)+")


def _words(name: str, words: Sequence[str]) -> Values:
    for word in words:
        if not _SAFE_WORD.fullmatch(word):
            raise ValueError(f"completion word {word!r} ({name}) needs shell quoting")
    return Values(WORDS, tuple(words), name)


def _values(path: tuple[str, ...], param: click.Parameter, metavar: str) -> Values:
    ptype = param.type
    name = param.name or ""
    own = re.sub(r"[^a-z0-9]+", "_", "_".join((*path, name)).lower())
    if isinstance(ptype, click.Choice):
        return _words(own, [str(choice) for choice in ptype.choices])
    for option in param.opts:
        listed = _COMMAND_OPTION_WORDS.get((" ".join(path), option), _OPTION_WORDS.get(option))
        if listed:
            return _words(listed, _word_list(listed))
    if isinstance(param, click.Argument) and name in _ARGUMENT_WORDS:
        return _words(_ARGUMENT_WORDS[name], _word_list(_ARGUMENT_WORDS[name]))
    if _ALTERNATIVES.fullmatch(metavar):
        return _words(own, metavar.split("|"))
    if metavar in _KEY_METAVARS or name in ("key", "keys", "new_key"):
        return Values(KEY)
    if isinstance(param, click.Argument) and name == "alias":
        return Values(ALIAS if path[-1] != "create" else NONE)
    if isinstance(ptype, click.Path):
        return Values(FILE if ptype.file_okay else DIR)
    if isinstance(ptype, click.File) or "FILE" in metavar or metavar == "OUT":
        return Values(FILE)
    if "DIR" in metavar:
        return Values(DIR)
    return Values(NONE)


def _metavar(param: click.Parameter) -> str:
    if param.metavar:
        return param.metavar
    ptype = param.type
    if isinstance(ptype, click.Choice):
        return (param.name or "value").upper()
    if isinstance(ptype, click.IntRange) and ptype.min is not None and ptype.max is not None:
        return f"{ptype.min}..{ptype.max}"
    if isinstance(ptype, click.types.IntParamType):
        return "N"
    return ptype.name.upper()


def _option(path: tuple[str, ...], param: click.Option) -> Option:
    flag = param.is_flag or param.count
    metavar = None if flag else _metavar(param)
    shown = param.show_default and not flag and param.default is not None
    return Option(
        names=(*param.opts, *param.secondary_opts),
        help=" ".join((param.help or "").split()),
        metavar=metavar,
        values=Values(NONE) if metavar is None else _values(path, param, metavar),
        default=str(param.default) if shown and not callable(param.default) else None,
        choices=tuple(map(str, param.type.choices)) if isinstance(param.type, click.Choice) else (),
    )


def _argument(path: tuple[str, ...], param: click.Argument) -> Argument:
    metavar = param.metavar or (param.name or "").upper()
    if not param.metavar:
        metavar += "..." if param.nargs == -1 else ""
        metavar = metavar if param.required else f"[{metavar}]"
    return Argument(metavar, _values(path, param, metavar), variadic=param.nargs == -1)


def _context(command: click.Command, name: str, parent: click.Context | None) -> click.Context:
    """The context click would run `command` in (its context settings name the help options)."""
    return click.Context(command, info_name=name, parent=parent, **command.context_settings)


def _walk(
    command: click.Command, ctx: click.Context, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command, click.Context]]:
    yield path, command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, _context(sub, name, ctx), (*path, name))


def read_tree(root: click.Group | None = None) -> Tree:
    """The plain model of the command tree that every renderer works from."""
    group = root or load_cli()
    found: list[tuple[tuple[str, ...], click.Command, list[Option], list[Argument]]] = []
    for path, command, ctx in _walk(group, _context(group, "kmscli", None), ()):
        options: list[Option] = []
        arguments: list[Argument] = []
        for param in command.get_params(ctx):
            if isinstance(param, click.Option) and not param.hidden:
                options.append(_option(path, param))
            elif isinstance(param, click.Argument):
                arguments.append(_argument(path, param))
        found.append((path, command, options, arguments))
    everywhere = set.intersection(*({o.names for o in options} for _, _, options, _ in found))
    commands = tuple(
        Command(
            path=path,
            help=parse_help(command.help),
            options=tuple(o for o in options if o.names not in everywhere),
            arguments=tuple(arguments),
            subcommands=tuple(sub[-1] for sub, *_ in found if sub[:-1] == path and sub),
        )
        for path, command, options, arguments in found
    )
    global_options = tuple(o for o in found[0][2] if o.names in everywhere)
    return Tree(commands, global_options)


# -- shell quoting -------------------------------------------------------------------------------


def _sh(text: str) -> str:
    """A single-quoted word for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _fish(text: str) -> str:
    """A single-quoted word for fish."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _specs(options: Sequence[Option]) -> str:
    """`NAME=KIND` for every name of every option that takes a value."""
    return " ".join(
        f"{name}={option.values.token}"
        for option in options
        if option.takes_value
        for name in option.names
    )


def _arguments(command: Command) -> str:
    return " ".join(a.values.token + ("..." if a.variadic else "") for a in command.arguments)


# -- bash ----------------------------------------------------------------------------------------

_BASH_MAIN = r"""
# The key IDs and alias names of the current region, one a line, from kmscli's piped listings
# (a header line, then one record a line, its ID first). $1: the word being completed, $2: key
# (IDs and aliases) or alias (aliases only), then the --home, --region and --profile options of
# the command line. kmscli finds the keyring itself (options, environment, config.toml and its
# profiles), and a listing never creates one: a missing keyring offers nothing. Silent.
_kmscli_keys() {
    local cur=$1 kind=$2
    shift 2
    if [[ alias/ == "$cur"* || $cur == alias/* ]]; then
        kmscli "$@" alias list </dev/null 2>/dev/null | tail -n +2 | cut -f1
    fi
    if [[ $kind == key && $cur != alias/* ]]; then
        kmscli "$@" key list </dev/null 2>/dev/null | tail -n +2 | cut -f1
    fi
}

# Sets _kmscli_kind to what option $1 takes on the current command; fails for a flag.
_kmscli_value_kind() {
    local spec
    for spec in $_kmscli_valued $_kmscli_global_valued; do
        if [[ ${spec%%=*} == "$1" ]]; then
            _kmscli_kind=${spec#*=}
            return 0
        fi
    done
    return 1
}

# COMPREPLY from the lines of stdin.
_kmscli_reply() {
    local line
    COMPREPLY=()
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done
}

_kmscli() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local path= word= ended= _kmscli_kind=
    local -i i=1 positional=0
    local -a arguments global
    COMPREPLY=()
    _kmscli_spec ''
    # The words before the cursor: the command path, the positional arguments given so far,
    # and --home / --region / --profile (the key listing must read the same keyring and region).
    while ((i < COMP_CWORD)); do
        word=${COMP_WORDS[i]}
        if [[ -z $ended && $word == -?* ]]; then
            if [[ $word == -- ]]; then
                ended=1
            elif _kmscli_value_kind "$word"; then
                [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)) # bash splits --opt=value at the =
                ((i++))
                case $word in
                --home) global+=(--home "${COMP_WORDS[i]/#\~/$HOME}") ;;
                --region | --profile) global+=("$word" "${COMP_WORDS[i]}") ;;
                esac
            fi
        elif ((positional == 0)) && [[ " $_kmscli_commands " == *" $word "* ]]; then
            path=${path:+$path }$word
            _kmscli_spec "$path"
        else
            ((positional++))
        fi
        ((i++))
    done

    if [[ -z $ended && $cur == = ]] && _kmscli_value_kind "$prev"; then
        cur=
    elif [[ -z $ended && $prev == = ]] && _kmscli_value_kind "${COMP_WORDS[COMP_CWORD-2]}"; then
        :
    elif [[ -z $ended ]] && _kmscli_value_kind "$prev"; then
        :
    elif [[ -z $ended && $cur == -* ]]; then
        _kmscli_kind=options
    elif [[ -n $_kmscli_commands ]]; then
        _kmscli_kind=commands
    else
        read -ra arguments <<<"$_kmscli_arguments"
        if ((positional < ${#arguments[@]})); then
            _kmscli_kind=${arguments[positional]}
        elif ((${#arguments[@]})); then
            _kmscli_kind=${arguments[${#arguments[@]}-1]}
            [[ $_kmscli_kind == *... ]] || _kmscli_kind=none
        fi
        _kmscli_kind=${_kmscli_kind%...}
    fi

    local words=
    case $_kmscli_kind in
    options) words="$_kmscli_options $_kmscli_global_options" ;;
    commands) words=$_kmscli_commands ;;
    key | alias) words=$(_kmscli_keys "$cur" "$_kmscli_kind" "${global[@]}") ;;
    file | dir)
        compopt -o filenames 2>/dev/null
        if [[ $_kmscli_kind == dir ]]; then
            _kmscli_reply < <(compgen -d -- "$cur")
        else
            _kmscli_reply < <(compgen -f -- "$cur")
        fi
        return 0
        ;;
    none | '') return 0 ;;
    *)
        local list=_kmscli_$_kmscli_kind
        words=${!list}
        ;;
    esac
    _kmscli_reply < <(compgen -W "$words" -- "$cur")
}

complete -F _kmscli kmscli
"""


def bash_completion(tree: Tree | None = None) -> str:
    tree = tree or read_tree()
    lines = [
        "# bash completion for kmscli" + " " * 37 + "-*- shell-script -*-",
        f"# {NOTICE}",
        "# Install: source it from ~/.bashrc, or copy it to",
        "# ~/.local/share/bash-completion/completions/kmscli (bash-completion loads it).",
        "",
    ]
    for name, words in tree.word_lists().items():
        lines.append(f"_kmscli_{name}={_sh(' '.join(words))}")
    global_names = [name for option in tree.global_options for name in option.names]
    lines += [
        f"_kmscli_global_options={_sh(' '.join(global_names))}",
        f"_kmscli_global_valued={_sh(_specs(tree.global_options))}",
        "",
        "# The facts of command path $1: its subcommands, its own options, those of them that",
        "# take a value (NAME=KIND) and its positional arguments (KIND, ... when it repeats).",
        "_kmscli_spec() {",
        "    _kmscli_commands= _kmscli_options= _kmscli_valued= _kmscli_arguments=",
        "    case $1 in",
    ]
    for command in tree.commands:
        lines.append(f"    {_sh(command.key)})")
        facts = {
            "commands": " ".join(command.subcommands),
            "options": " ".join(name for option in command.options for name in option.names),
            "valued": _specs(command.options),
            "arguments": _arguments(command),
        }
        lines += [f"        _kmscli_{k}={_sh(v)}" for k, v in facts.items() if v]
        lines.append("        ;;")
    lines += ["    *) return 1 ;;", "    esac", "}"]
    return "\n".join(lines) + "\n" + _BASH_MAIN


# -- zsh -----------------------------------------------------------------------------------------

_ZSH_MAIN = r"""
# The key IDs and alias names of the current region, one a line, from kmscli's piped listings
# (a header line, then one record a line, its ID first). $1: the word being completed, $2: key
# (IDs and aliases) or alias (aliases only), then the --home, --region and --profile options of
# the command line. kmscli finds the keyring itself (options, environment, config.toml and its
# profiles), and a listing never creates one: a missing keyring offers nothing. Silent.
_kmscli_keys() {
  local cur=$1 kind=$2
  shift 2
  if [[ alias/ == "$cur"* || $cur == alias/* ]]; then
    kmscli "$@" alias list </dev/null 2>/dev/null | tail -n +2 | cut -f1
  fi
  if [[ $kind == key && $cur != alias/* ]]; then
    kmscli "$@" key list </dev/null 2>/dev/null | tail -n +2 | cut -f1
  fi
}

# Sets kind to what option $1 takes on the current command; fails for a flag.
_kmscli_value_kind() {
  local spec
  for spec in $valued $_kmscli_global_valued; do
    if [[ ${spec%%=*} == "$1" ]]; then
      kind=${spec#*=}
      return 0
    fi
  done
  return 1
}

_kmscli() {
  local -a subcommands names cmd_options valued arguments ids global
  local cmdpath= word= ended= kind= list=
  local -i i=2 positional=0
  _kmscli_spec ''
  # The words before the cursor: the command path, the positional arguments given so far,
  # and --home / --region / --profile (the key listing must read the same keyring and region).
  while (( i < CURRENT )); do
    word=$words[i]
    if [[ -z $ended && $word == -?* ]]; then
      if [[ $word == -- ]]; then
        ended=1
      elif [[ $word == --*=* ]]; then
        case ${word%%=*} in
          (--home) global+=(--home ${${word#*=}/#\~/$HOME}) ;;
          (--region|--profile) global+=(${word%%=*} ${word#*=}) ;;
        esac
      elif _kmscli_value_kind "$word"; then
        (( i++ ))
        case $word in
          (--home) global+=(--home ${words[i]/#\~/$HOME}) ;;
          (--region|--profile) global+=($word $words[i]) ;;
        esac
      fi
    elif (( positional == 0 && ${names[(Ie)$word]} )); then
      cmdpath=${cmdpath:+$cmdpath }$word
      _kmscli_spec "$cmdpath"
    else
      (( positional++ ))
    fi
    (( i++ ))
  done

  local cur=$words[CURRENT] prev=$words[CURRENT-1]
  if [[ -z $ended && $cur == --*=* ]] && _kmscli_value_kind "${cur%%=*}"; then
    compset -P '*='
  elif [[ -z $ended ]] && _kmscli_value_kind "$prev"; then
    :
  elif [[ -z $ended && $cur == -* ]]; then
    _describe -t options option cmd_options -- _kmscli_global_options
    return
  elif (( $#subcommands )); then
    _describe -t commands command subcommands
    return
  elif (( positional < $#arguments )); then
    kind=$arguments[positional+1]
  elif [[ $arguments[-1] == *... ]]; then
    kind=$arguments[-1]
  fi
  kind=${kind%...}

  case $kind in
    (key|alias)
      ids=(${(f)"$(_kmscli_keys "$PREFIX" $kind $global)"})
      compadd -a ids
      ;;
    (file) _files ;;
    (dir) _files -/ ;;
    (none|'') return 1 ;;
    (*)
      list=_kmscli_$kind
      compadd -a $list
      ;;
  esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _kmscli "$@"
else
  compdef _kmscli kmscli
fi
"""


def _described(option: Option) -> list[str]:
    return [_sh(f"{name}:{option.help}") for name in option.names]


def zsh_completion(tree: Tree | None = None) -> str:
    tree = tree or read_tree()
    lines = [
        "#compdef kmscli",
        "# zsh completion for kmscli.",
        f"# {NOTICE}",
        "# Install: copy it as _kmscli into a directory of $fpath (before compinit runs),",
        "# or source it after compinit.",
        "",
    ]
    for name, words in tree.word_lists().items():
        lines.append(f"typeset -ga _kmscli_{name}=({' '.join(words)})")
    described = [d for option in tree.global_options for d in _described(option)]
    lines += [
        "typeset -ga _kmscli_global_options=(",
        *(f"  {d}" for d in described),
        ")",
        f"typeset -ga _kmscli_global_valued=({_specs(tree.global_options)})",
        "",
        "# The facts of command path $1: its subcommands (NAME:SUMMARY) and their names, its own",
        "# options (NAME:HELP), those of them that take a value (NAME=KIND) and its positional",
        "# arguments (KIND, ... when it repeats).",
        "_kmscli_spec() {",
        "  subcommands=() names=() cmd_options=() valued=() arguments=()",
        "  case $1 in",
    ]
    for command in tree.commands:
        lines.append(f"    ({_sh(command.key)})")
        if command.subcommands:
            subs = [_sh(f"{name}:{summary}") for name, summary in tree.subcommands(command)]
            lines += ["      subcommands=(", *(f"        {s}" for s in subs), "      )"]
            lines.append(f"      names=({' '.join(command.subcommands)})")
        if command.options:
            described = [d for option in command.options for d in _described(option)]
            lines += ["      cmd_options=(", *(f"        {d}" for d in described), "      )"]
        if valued := _specs(command.options):
            lines.append(f"      valued=({valued})")
        if arguments := _arguments(command):
            lines.append(f"      arguments=({arguments})")
        lines.append("      ;;")
    lines += ["    (*) return 1 ;;", "  esac", "}"]
    return "\n".join(lines) + "\n" + _ZSH_MAIN


# -- fish ----------------------------------------------------------------------------------------

_FISH_MAIN = r"""
# Sets __kmscli_path (the command path before the cursor) and __kmscli_next (what the next
# positional argument is: command, a kind, or nothing while an option value is expected).
function __kmscli_state
    set -l line (commandline -cp)
    test "$line" = "$__kmscli_line"; and return 0
    set -g __kmscli_line $line
    set -g __kmscli_path
    set -g __kmscli_next
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l positional 0
    set -l skip 0
    set -l ended 0
    __kmscli_spec ''
    for token in $tokens
        if test $skip = 1
            set skip 0
        else if test $ended = 0; and string match -qr -- '^-.' $token
            if test $token = --
                set ended 1
            else if contains -- $token $__kmscli_valued $__kmscli_global_valued
                set skip 1
            end
        else if test $positional = 0; and contains -- $token $__kmscli_commands
            set -a __kmscli_path $token
            __kmscli_spec "$__kmscli_path"
        else
            set positional (math $positional + 1)
        end
    end
    if test $skip = 1
        return 0
    else if set -q __kmscli_commands[1]
        set -g __kmscli_next command
    else if test $positional -lt (count $__kmscli_arguments)
        set -g __kmscli_next $__kmscli_arguments[(math $positional + 1)]
    else if string match -q -- '*...' "$__kmscli_arguments[-1]"
        set -g __kmscli_next $__kmscli_arguments[-1]
    end
    set -g __kmscli_next (string replace -r -- '\.\.\.$' '' "$__kmscli_next")
end

# True when the command path before the cursor is $argv[1] ('' for kmscli itself).
function __kmscli_at
    __kmscli_state
    test "$__kmscli_path" = "$argv[1]"
end

# True when the next positional argument is of kind $argv[1].
function __kmscli_arg
    __kmscli_state
    test "$__kmscli_next" = "$argv[1]"
end

# The key IDs and alias names of the current region, one a line, from kmscli's piped listings
# (a header line, then one record a line, its ID first); $argv[1]: key (IDs and aliases) or
# alias (aliases only). The --home, --region and --profile options of the command line are
# handed on: kmscli finds the keyring itself (options, environment, config.toml and its
# profiles), and a listing never creates one: a missing keyring offers nothing. Silent.
function __kmscli_keys
    set -l tokens (commandline -opc)
    set -l global
    for i in (seq (count $tokens))
        set -l next (math $i + 1)
        switch $tokens[$i]
            case --home --region --profile
                if set -q tokens[$next]
                    set -a global $tokens[$i] (string replace -r '^~' -- $HOME $tokens[$next])
                end
            case '--home=*' '--region=*' '--profile=*'
                set -l pair (string split -m 1 = -- $tokens[$i])
                set -a global $pair[1] (string replace -r '^~' -- $HOME $pair[2])
        end
    end
    set -l cur (commandline -ct)
    if string match -q -- 'alias/*' $cur; or string match -q -- "$cur*" alias/
        kmscli $global alias list </dev/null 2>/dev/null | tail -n +2 | cut -f1
    end
    if test "$argv[1]" = key; and not string match -q -- 'alias/*' $cur
        kmscli $global key list </dev/null 2>/dev/null | tail -n +2 | cut -f1
    end
end
"""


def _fish_values(values: Values) -> str:
    """The `complete` flags that offer these values (file names, or a list and no files)."""
    if values.kind == FILE:
        return "-F"
    source = {
        DIR: "(__fish_complete_directories)",
        KEY: "(__kmscli_keys key)",
        ALIAS: "(__kmscli_keys alias)",
        WORDS: " ".join(values.words),
    }.get(values.kind)
    return f"-f -a {_fish(source)}" if source else "-f"


def _valued_names(options: Sequence[Option]) -> str:
    return " ".join(name for option in options if option.takes_value for name in option.names)


def _fish_option(option: Option, condition: str | None) -> str:
    parts = ["complete -c kmscli"]
    if condition is not None:
        parts.append(f"-n {_fish(condition)}")
    for name in option.names:
        parts.append(f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}")
    if option.takes_value:
        parts.append("-r " + _fish_values(option.values))
    if option.help:
        parts.append(f"-d {_fish(option.help)}")
    return " ".join(parts)


def fish_completion(tree: Tree | None = None) -> str:
    tree = tree or read_tree()
    lines = [
        "# fish completion for kmscli.",
        f"# {NOTICE}",
        "# Install: copy it to ~/.config/fish/completions/kmscli.fish.",
        "",
        f"set -g __kmscli_global_valued {_valued_names(tree.global_options)}",
        "set -g __kmscli_line",
        "",
        "# The facts of command path $argv: its subcommands, its own options that take a value",
        "# and its positional arguments (KIND, ... when it repeats).",
        "function __kmscli_spec",
        "    set -g __kmscli_commands",
        "    set -g __kmscli_valued",
        "    set -g __kmscli_arguments",
        '    switch "$argv"',
    ]
    for command in tree.commands:
        lines.append(f"        case {_fish(command.key)}")
        facts = {
            "commands": " ".join(command.subcommands),
            "valued": _valued_names(command.options),
            "arguments": _arguments(command),
        }
        lines += [f"            set -g __kmscli_{k} {v}" for k, v in facts.items() if v]
    lines += ["    end", "end", _FISH_MAIN]
    lines += [
        "# Nothing completes to file names unless an argument or an option value is a file.",
        "complete -c kmscli -f",
        "",
        "# Global options, accepted before the command and on every command.",
        *(_fish_option(option, None) for option in tree.global_options),
    ]
    for command in tree.commands:
        at = '__kmscli_at "' + command.key + '"'
        lines += ["", f"# {command.name}"]
        for sub, summary in tree.subcommands(command):
            lines.append(f"complete -c kmscli -n {_fish(at)} -a {sub} -d {_fish(summary)}")
        lines += [_fish_option(option, at) for option in command.options]
    lines += ["", "# Positional arguments, by kind."]
    kinds: dict[str, Values] = {}
    for command in tree.commands:
        for argument in command.arguments:
            kinds.setdefault(argument.values.token, argument.values)
    for token, values in sorted(kinds.items()):
        if values.kind != NONE:
            condition = _fish(f"__kmscli_arg {token}")
            lines.append(f"complete -c kmscli -n {condition} {_fish_values(values)}")
    return "\n".join(lines) + "\n"


# -- roff ----------------------------------------------------------------------------------------

_ROFF = {"\\": "\\e", "-": "\\-", "'": "\\(aq", "`": "\\(ga", "~": "\\(ti", "^": "\\(ha"}


def roff(text: str) -> str:
    """Text for roff text lines: escapes, non-ASCII as \\[uXXXX], no line read as a request."""
    escaped = "".join(
        _ROFF.get(ch) or (f"\\[u{ord(ch):04X}]" if ord(ch) > 126 else ch) for ch in text
    )
    return "\n".join("\\&" + line if line.startswith(".") else line for line in escaped.split("\n"))


def _bold(text: str) -> str:
    return f"\\fB{roff(text)}\\fR"


def _italic(text: str) -> str:
    return f"\\fI{roff(text)}\\fR"


def _url(address: str) -> str:
    """A URL that may break after each slash (a long one would not fit a line)."""
    return "\\:/".join(roff(part) for part in address.split("/"))


def _literal(lines: Sequence[str]) -> list[str]:
    return [".RS 4", ".nf", *(roff(line) if line else "" for line in lines), ".fi", ".RE"]


def _paragraphs(blocks: Sequence[Block]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        out += [
            ".PP",
            *(_literal(block.text.splitlines()) if block.literal else [roff(block.text)]),
        ]
    return out


def _usage(command: Command) -> str:
    pieces = [_bold(command.name)]
    for piece in command.usage.split():
        match = re.fullmatch(r"(\[?)([^\[\]]+?)(\]?)(\.\.\.)?", piece)
        if match is None:
            pieces.append(roff(piece))
        else:
            opening, word, closing, more = match.groups()
            pieces.append(roff(opening) + _italic(word) + roff(closing) + roff(more or ""))
    return " ".join(pieces)


def _option_entry(option: Option) -> list[str]:
    tag = ", ".join(_bold(name) for name in option.names)
    if option.metavar is not None:
        tag += " " + _italic(option.metavar)
    text = option.help
    if option.choices:
        text += f" One of: {', '.join(option.choices)}."
    if option.default is not None:
        text += f" [default: {option.default}]"
    return [".TP", tag, roff(text)] if text else [".TP", tag]


def _exit_statuses() -> list[tuple[int, str, list[str]]]:
    """(status, meaning, error codes) from the kmscli.errors hierarchy, in status order."""
    from kmscli import errors

    meanings = errors.EXIT_STATUSES
    codes: dict[int, list[str]] = {status: [] for status in meanings}
    pending: list[type[errors.KmsError]] = [errors.KmsError]
    while pending:
        cls = pending.pop(0)
        pending.extend(cls.__subclasses__())
        if cls.code:
            if cls.exit_status not in codes:
                raise ValueError(f"exit status {cls.exit_status} of {cls.code} has no meaning")
            codes[cls.exit_status].append(cls.code)
    return [(status, meanings[status], sorted(codes[status])) for status in sorted(meanings)]


def environment() -> list[tuple[tuple[str, ...], str]]:
    """kmscli(1) ENVIRONMENT: (variables, text) of each setting of kmscli.cli.settings that an
    environment variable gives, with its configuration key when config.toml may give it too."""
    from kmscli.cli.settings import NUMBER, SETTINGS

    entries = []
    for setting in SETTINGS:
        if not setting.variables:
            continue
        text = setting.help
        if setting.in_config:
            kind = "a number" if setting.kind == NUMBER else "a string"
            text += f" In the configuration file: {setting.name} ({kind})."
        entries.append((setting.variables, text))
    return entries


def _configuration_entry() -> str:
    """kmscli(1) FILES on config.toml: its settings, from kmscli.cli.settings."""
    from kmscli.cli.settings import NUMBER, SETTINGS

    names = [
        setting.name + (" (a number)" if setting.kind == NUMBER else "")
        for setting in SETTINGS
        if setting.in_config
    ]
    return (
        "The configuration file (the platformdirs user configuration directory; KMSCLI_CONFIG "
        "names another), TOML: top-level settings are defaults for every command, and a table "
        "[profiles.NAME] holds the settings of a profile, chosen with --profile or "
        f"KMSCLI_PROFILE. Settings, strings unless said: {', '.join(names)}. An option wins "
        "over its environment variable, which wins over the profile, which wins over the "
        "defaults; an unknown setting or profile, or a value of the wrong type, is refused "
        "with exit status 2."
    )


_SEE_ALSO_URLS = (
    "https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/message-format.html",
    "https://docs.aws.amazon.com/kms/latest/APIReference/Welcome.html",
)


def _title(name: str, section: int) -> str:
    from kmscli import __version__

    # No hyphenation and a ragged right margin: option names, ARNs and suite names stay whole.
    return f'.TH {name.upper()} {section} "" "kmscli {__version__}" "kmscli manual"\n.nh\n.ad l'


def man_page(tree: Tree | None = None) -> str:
    tree = tree or read_tree()
    root = tree.root
    summary = root.help.summary.rstrip(".")
    name_line = summary[:1].lower() + summary[1:] if summary[1:2].islower() else summary
    out = [f'.\\" {roff(NOTICE)}', _title("kmscli", 1), ".SH NAME", f"kmscli \\- {roff(name_line)}"]
    out += [".SH SYNOPSIS", ".nf", f"{_bold('kmscli')} [{_italic('OPTIONS')}] {_italic('COMMAND')}"]
    out += [_usage(command) for command in tree.commands[1:] if not command.subcommands]
    out += [".fi", ".SH DESCRIPTION", *_paragraphs(root.help.description)]
    out += [
        ".PP",
        roff("The commands are described below, with their options; ")
        + _bold("kmscli COMMAND -h")
        + roff(" prints the same help."),
        ".SH OPTIONS",
        roff(
            "The global options are accepted before the command and on every command; the "
            "option wins over its environment variable, and an option given later wins over "
            "one given earlier."
        ),
    ]
    for option in (*tree.global_options, *root.options):
        out += _option_entry(option)
    out.append(".SH COMMANDS")
    for command in tree.commands[1:]:
        out += [f".SS {roff(command.name)}", _usage(command), ".PP", roff(command.help.summary)]
        out += _paragraphs(command.help.description)
        if command.subcommands:
            listed = ", ".join(_bold(sub) for sub in command.subcommands)
            out += [".PP", f"Commands: {listed}."]
        for option in command.options:
            out += _option_entry(option)
    out.append(".SH ENVIRONMENT")
    for names, text in environment():
        tag = ", ".join(_bold(name) for name in names)
        out += [".TP", tag, roff(text)]
    out += [
        ".SH FILES",
        ".TP",
        _italic("~/.local/share/kmscli/"),
        roff(
            "The keyring directory (the platformdirs user data directory for kmscli; --home or "
            "KMSCLI_HOME name another), mode 0700, made by keyring init or on first use by key "
            "create and encrypt under the AWS managed key; other commands refuse a missing one. "
            "Its layout and protection are described in kmscli-format(5)."
        ),
        ".TP",
        _italic("~/.config/kmscli/root-keys/KEYRING_ID.key"),
        roff(
            "The root key file of a keyring protected by a key file (the platformdirs user "
            "configuration directory; KMSCLI_ROOT_KEY_FILE names another), mode 0600 and kept "
            "outside the keyring directory, so that a copy of the keyring alone reveals no key. "
            "A root key file accessible by group or others, or that is not a regular file (a "
            "FIFO, a device, a directory), is refused at once with exit status 9."
        ),
        ".TP",
        _italic("~/.config/kmscli/config.toml"),
        roff(_configuration_entry()),
        '.SH "EXIT STATUS"',
    ]
    for status, meaning, codes in _exit_statuses():
        text = meaning + (f" Errors: {', '.join(codes)}." if codes else "")
        out += [".TP", _bold(str(status)), roff(text)]
    out += [
        ".PP",
        roff(
            "Errors go to stderr as `kmscli: error: CODE: MESSAGE`, optionally followed by "
            '`kmscli: hint: ...` lines; with --json also as one JSON object, {"Error": {"Code": '
            '..., "Message": ..., "ExitStatus": N}}. A write to a closed pipe ends kmscli with '
            "status 141, as a shell reports a process killed by SIGPIPE."
        ),
        ".SH EXAMPLES",
        roff(
            "Each example stands alone and runs as written (a test runs every one) in a keyring "
            "of account 111122223333 where KEY is a symmetric key with the alias alias/backups, "
            "NEWKEY another (alias/backups-2027), MRK a multi-Region key, RSA_KEY an RSA "
            "encryption key, alias/release an RSA signing key, alias/tokens an HMAC key, "
            "alias/agree an ECC key-agreement key, EXTERNAL a key of origin EXTERNAL awaiting its "
            "material (its import parameters in params/, the material wrapped in wrapped.bin), "
            "IMPORTED one with imported material, ALICE the ARN of the user alice (with the "
            "identity policy use-backups), GRANT a grant ID and TOKEN a grant token on KEY; "
            "big.tar.kms, notes.kms, sealed/*.log.kms, secret.txt.kms and secret.blob are "
            "files encrypted there, nightly.kmsbak a backup of the keyring, and the other files "
            "named are files of yours."
        ),
    ]
    for command in tree.commands:
        if command.help.example:
            out += [".PP", _bold(command.name), *_literal(command.help.example)]
    out += ['.SH "SEE ALSO"', ".BR kmscli\\-format (5)"]
    for address in _SEE_ALSO_URLS:
        out += [".PP", _url(address)]
    return "\n".join(out) + "\n"


def _fields(rows: Sequence[tuple[str, str]]) -> list[str]:
    """A .TP list: each row's tag in bold, its text below."""
    out: list[str] = []
    for tag, text in rows:
        out += [".TP", _bold(tag), roff(text)]
    return out


def _audit_section() -> list[str]:
    """The audit trail, with kmscli.store.auditlog's, auditrecord's and anchor's names."""
    from kmscli.store import anchor, auditlog, auditrecord

    log, head = f"{auditlog.AUDIT_DIR}/{auditlog.LOG}", f"{auditlog.AUDIT_DIR}/{auditlog.HEAD}"
    return [
        ".SS Audit trail",
        roff(
            f"{log} holds one record a line, each chained to the one before by an HMAC-SHA256 "
            "under the audit subkey (prev: the MAC of the record before, 64 zeros for the "
            "first; seq counts from 1):"
        ),
        *_fields(
            [
                (
                    f"version {auditrecord.VERSION} (written)",
                    '{"v":2, "mac":HEX, "seq":N, "prev":HEX, "sealed":BASE64} (on disk without '
                    "spaces). sealed is IV || "
                    "AES-256-GCM of the event (one line of CloudTrail-like JSON) under the "
                    'audit-seal subkey || tag, with the associated data "kmscli audit event v2", '
                    "NUL, keyring ID, NUL, seq (8, big-endian): the file shows only how many "
                    'events there are and how long each is. mac covers "kmscli audit record v2", '
                    'NUL, keyring ID, NUL and the bytes from "seq" to the end of sealed\'s '
                    "value.",
                ),
                (
                    "version 1 (read only)",
                    '{"mac":HEX,"seq":N,"prev":HEX,"event":JSON}, the event in clear, as kmscli '
                    'before sealed records wrote it; mac covers "kmscli audit record v1", NUL, '
                    'keyring ID, NUL and the bytes from "seq" to the end of the event. A log '
                    "made by such a kmscli keeps its version 1 records and goes on with version "
                    "2 ones, chained alike. A record of a newer version is refused with exit "
                    "status 9.",
                ),
            ]
        ),
        roff(
            f"{head} holds two 128-byte slots, each KMAH 0x01 || seq (8) || log size (8) || MAC "
            "of record seq || HMAC of the slot, naming the last record; the newer valid slot "
            "counts, so a torn write leaves the other. It is also the lock appenders take. "
            f"The record {anchor.KIND}/{anchor.NAME} (kind {anchor.KIND}, sealed like any "
            f'record) anchors the trail: {{"v":{anchor.VERSION},"seq":N,"size":LOG SIZE,'
            '"mac":HEX}, the audit record the last change committed with, renamed into place '
            "by the same transaction. Verification requires the log to hold that record with "
            "that MAC and the head not to be older, so a trail removed, cut back or replaced "
            "is reported, even when what is left is a valid chain; a change that finds the "
            "anchored record gone keeps the old anchor. Operations that change nothing append "
            "their events after the anchor. A keyring without the record has no change "
            "anchored yet (made by an older kmscli)."
        ),
    ]


def _backup_section() -> list[str]:
    """The archive of `kmscli keyring backup`, with kmscli.store.backup's numbers."""
    from kmscli.store import backup

    magic = backup.MAGIC.decode("ascii")
    chunk_mib = backup.CHUNK_BYTES >> 20
    return [
        ".SH BACKUPS",
        roff(
            "kmscli keyring backup writes the whole keyring as one archive (integers "
            "big-endian), and kmscli keyring restore reads it back:"
        ),
        *_fields(
            [
                (f"{magic} 0x{backup.VERSION:02X}", "Magic and format version (8 bytes)."),
                (
                    "header length (4), header",
                    "The keyring's header file byte for byte: it holds no secret in clear, so "
                    "the archive restores with what opens the keyring itself (its root key file, "
                    "which is not in the archive, or its passphrase).",
                ),
                (f"archive ID ({backup.ARCHIVE_ID_BYTES})", "Random bytes."),
                (
                    "chunks",
                    "Each: final flag (1: 0, or 1 for the last chunk) || length (4) || IV || "
                    "AES-256-GCM ciphertext || tag, under HKDF-SHA256 of the keyring's backup "
                    'subkey with the archive ID as salt, with the associated data "kmscli backup '
                    'chunk v1", '
                    "NUL, SHA-256 of everything before the chunks, chunk index (8), final flag; "
                    "nothing may follow the final chunk. An edited preamble, or a chunk changed, "
                    "moved, dropped, added or cut off, fails to open.",
                ),
            ]
        ),
        ".PP",
        roff(
            f"The plaintext, in chunks of at most {chunk_mib} MiB, is a list of entries: 1 || "
            "path length (2) || path for a directory, 2 || path length (2) || path || size (8) || "
            "data for a file, and 0 at the end. Paths are relative to the keyring directory, "
            "/-separated ASCII. Everything of the keyring is in it (records, the audit trail) "
            "except the header (in the preamble), the lock file, journals and temporary files. "
            "A restore checks the root key and every byte of the archive, then verifies the "
            "restored keyring, before it puts it in place; it never replaces a keyring without "
            "-f."
        ),
    ]


def format_page() -> str:
    """kmscli-format(5): the message, ciphertext blob and keyring formats as kmscli writes them.

    Hand-written prose; the numbers and names that code defines are taken from the code.
    """
    from kmscli.crypto.primitives import GCM_NONCE_BYTES, GCM_TAG_BYTES
    from kmscli.envelope import KMS_PROVIDER_ID
    from kmscli.kms import blob
    from kmscli.message import frames
    from kmscli.message.decoder import DEFAULT_MAX_ENCRYPTED_DATA_KEYS, DEFAULT_MAX_FRAME_LENGTH
    from kmscli.message.encoder import DEFAULT_FRAME_LENGTH
    from kmscli.message.header import MAX_FRAME_LENGTH, MESSAGE_ID_LENGTH, VERSION_2
    from kmscli.message.suites import DEFAULT_SUITE, ENCRYPT_SUITES, SIGNED_SUITE
    from kmscli.store import auditlog, header, journal, layout, records, rootkey

    iv, tag = GCM_NONCE_BYTES, GCM_TAG_BYTES
    message_id = MESSAGE_ID_LENGTH[VERSION_2]
    suites = " or ".join(suite.id_hex for suite in ENCRYPT_SUITES)
    magic = blob.MAGIC.decode("ascii")
    marker = " ".join(f"{byte:02X}" for byte in frames.FINAL_FRAME_MARKER)
    argon = (
        f"Argon2id ({rootkey.ARGON2_MEMORY_KIB // 1024} MiB, {rootkey.ARGON2_ITERATIONS} passes, "
        f"{rootkey.ARGON2_LANES} lanes, a random {rootkey.ARGON2_SALT_BYTES}-byte salt)"
    )
    out = [
        f'.\\" {roff(NOTICE)}',
        _title("kmscli-format", 5),
        ".SH NAME",
        "kmscli\\-format \\- the files kmscli writes: encrypted messages, ciphertext blobs and "
        "the keyring",
        ".SH DESCRIPTION",
        roff(
            "kmscli encrypt writes messages in the AWS Encryption SDK (ESDK) message format, so "
            "that ESDK libraries read what kmscli writes and kmscli reads what they write. Direct "
            "encryption (encrypt --direct) and data keys (datakey generate) produce kmscli's own "
            "ciphertext blob, which is also what wraps the data keys of a message. Keys live in "
            "the keyring, a directory of encrypted, authenticated records."
        ),
        ".PP",
        roff(
            "Integers are unsigned and big-endian. A || B is A followed by B. Every AES-GCM "
            f"operation uses a {iv}-byte IV and a {tag}-byte tag."
        ),
        ".SH MESSAGES",
        roff(
            f"A message is a header, a body of frames and, for the signed suite only, a footer. "
            f"kmscli writes version {VERSION_2} messages with framed content under one of two "
            "algorithm suites:"
        ),
        *_fields(
            [
                (
                    f"{DEFAULT_SUITE.id_hex} {DEFAULT_SUITE.name}",
                    "The default: AES-256-GCM with a key derived by HKDF-SHA512 and committed "
                    "to; no signature.",
                ),
                (
                    f"{SIGNED_SUITE.id_hex} {SIGNED_SUITE.name}",
                    "The same, plus an ECDSA P-384 signature with SHA-384 in the footer "
                    "(encrypt --algorithm).",
                ),
            ]
        ),
        ".PP",
        roff(
            "kmscli decrypt reads version 1 and 2 messages, framed and (legacy) non-framed, in "
            "every ESDK suite that --commitment-policy allows: by default only the two "
            "committing suites above. kmscli inspect shows the header of any of them."
        ),
        ".SS Header",
        *_fields(
            [
                ("Version (1 byte)", f"0x{VERSION_2:02X}."),
                ("Algorithm suite ID (2)", f"{suites}."),
                (f"Message ID ({message_id})", "Random."),
                (
                    "Encryption context length (2), encryption context",
                    "The context: a pair count (2), then each pair as key length (2), key, "
                    "value length (2), value, in UTF-8 and sorted by the bytes of the key. An "
                    "empty context is a length of 0 and nothing else. Keys beginning aws-crypto- "
                    "are reserved: the signed suite keeps its verification key in "
                    "aws-crypto-public-key.",
                ),
                (
                    "Encrypted data key count (2), encrypted data keys",
                    "Each as provider ID length (2), provider ID, provider info length (2), "
                    "provider info, ciphertext length (2), ciphertext. kmscli writes one for "
                    f"each -k key: provider ID {KMS_PROVIDER_ID}, provider info the key ARN in "
                    "UTF-8, ciphertext a ciphertext blob (see CIPHERTEXT BLOBS) of the data key, "
                    "made under the message's whole encryption context (aws-crypto-public-key "
                    "included). So any ESDK whose AWS KMS keyring can reach this keyring's KMS "
                    "decrypts them; on decrypt, kmscli tries the data keys of key ARNs of its "
                    "keyring in the current region.",
                ),
                ("Content type (1)", "0x02: framed."),
                (
                    "Frame length (4)",
                    f"Plaintext bytes per frame: {DEFAULT_FRAME_LENGTH} unless encrypt "
                    "--frame-size gives another multiple of 128.",
                ),
                ("Suite data (32)", "The commitment key."),
                (
                    f"Header authentication ({tag})",
                    "The AES-GCM tag, under the derived encryption key, of an empty plaintext "
                    f"with an IV of {iv} zero bytes and the header from its version byte to the "
                    "suite data as associated data.",
                ),
            ]
        ),
        ".SS Keys",
        roff(
            f"The data key is {DEFAULT_SUITE.key_length} random bytes (GenerateDataKey under "
            "the first -k key; every further key wraps the same data key with Encrypt). "
            "HKDF-SHA512 with the message ID as salt and the data key as input gives the "
            "encryption key, with info the suite ID (2) || DERIVEKEY, and the commitment key, "
            "with info COMMITKEY, both 32 bytes. A reader derives the commitment key again and "
            "compares it, in constant time, with the suite data before it uses the key."
        ),
        ".SS Body",
        *_fields(
            [
                (
                    "Regular frame",
                    f"Sequence number (4), IV ({iv}), ciphertext (frame length bytes), tag "
                    f"({tag}).",
                ),
                (
                    "Final frame",
                    f"{marker} (4), sequence number (4), IV ({iv}), content length (4), "
                    f"ciphertext (content length bytes), tag ({tag}).",
                ),
            ]
        ),
        ".PP",
        roff(
            "Sequence numbers start at 1 and grow by 1; a frame's IV is 8 zero bytes followed by "
            "its sequence number (4). Each frame's associated data is the message ID || "
            f'"{frames.REGULAR_FRAME.decode()}" (or "{frames.FINAL_FRAME.decode()}") || sequence '
            "number (4) || plaintext length (8). kmscli writes the last frame as a full-length "
            "final frame when the plaintext is an exact, non-zero multiple of the frame length, "
            "and an empty plaintext as one empty final frame; it reads an empty final frame "
            "after regular frames too, as other ESDKs write it."
        ),
        ".SS Footer",
        roff(
            f"Only with suite {SIGNED_SUITE.id_hex}: the signature length (2), then the "
            "DER-encoded ECDSA P-384 signature with SHA-384 of every byte of the message from "
            "the first byte of the header to the end of the body. The verification key is the "
            "encryption context's aws-crypto-public-key: the compressed SEC1 point, in Base64. "
            "Decrypting to a file, no plaintext appears before the signature verified; to stdout, "
            "regular frames are released as their tags verify and the final frame only after "
            "the end of the message verified."
        ),
        ".SS Limits",
        roff(
            "A frame is authenticated whole, so a reader holds it in memory, twice (ciphertext "
            "and plaintext). The format allows frame lengths up to "
            f"{MAX_FRAME_LENGTH}; kmscli decrypt and reencrypt refuse a header declaring more "
            f"than {DEFAULT_MAX_FRAME_LENGTH} bytes ({DEFAULT_MAX_FRAME_LENGTH // 2**20} MiB) "
            "per frame, or a non-framed body longer than that, unless --max-frame-length allows "
            "it (exit 8). The check comes right after the header, before any buffer is sized and "
            "before any data key is unwrapped, so a header with a valid tag that declares huge "
            "frames costs nothing; memory then stays within about two frames plus a constant. "
            "Messages with more than "
            f"{DEFAULT_MAX_ENCRYPTED_DATA_KEYS} encrypted data keys are refused unless "
            "--max-encrypted-data-keys allows them (decrypt, reencrypt, inspect). Every other "
            "length in a header is a 2-byte field, so no field is longer than 65535 bytes. Bytes "
            "after the end of a message are an error (exit 7)."
        ),
        '.SH "CIPHERTEXT BLOBS"',
        roff(
            "What AWS KMS calls a CiphertextBlob: the output of encrypt --direct and the "
            "CiphertextBlob of datakey generate, and the ciphertext of a message's encrypted data "
            f"keys. A blob is at most {blob.MAX_BLOB_BYTES} bytes:"
        ),
        *_fields(
            [
                ("Magic (4)", f"{magic}."),
                ("Version (1)", f"0x{blob.VERSION:02X}."),
                ("Key ID length (1)", "n."),
                (
                    "Key ID (n)",
                    "The bare key ID in ASCII, so that a multi-Region key decrypts it in any of "
                    "its Regions.",
                ),
                (
                    f"Key material ID ({blob.MATERIAL_ID_BYTES})",
                    "The key material (the version of the key) that encrypted it; shown as 64 "
                    "hex digits.",
                ),
                (f"IV ({iv})", "Random."),
                (
                    "Ciphertext",
                    f"AES-256-GCM under that key material, followed by the {tag}-byte tag.",
                ),
            ]
        ),
        ".PP",
        roff(
            "The associated data is every byte before the IV, a NUL byte, and the encryption "
            "context as canonical JSON (UTF-8, keys sorted by code point, no whitespace), so "
            "that both the key identity and the exact encryption context are bound to the "
            "ciphertext: decrypting needs the same context."
        ),
        ".SH KEYRING",
        roff(
            "The keyring is a directory (--home, KMSCLI_HOME, or the platformdirs user data "
            "directory) holding one AWS-style account with keys in any number of regions. "
            "Directories are created with mode 0700 and files with mode 0600, whatever the "
            "umask."
        ),
        ".SS Layout",
        *_fields(
            [
                (layout.HEADER, "The authenticated header: IDs, protection mode, schema version."),
                (layout.LOCK, "The flock(2) target: readers take it shared, writers exclusive."),
                (
                    f"{layout.OPAQUE_RECORDS}/KIND/HASH",
                    "One file per record: kind keys (name REGION/KEY_ID: metadata, state, "
                    "policy, tags and the sealed key materials), aliases (REGION/alias/NAME), "
                    "grants, identity-policies and others. HASH is the HMAC-SHA256, in "
                    "lower-case hex, under the record-names subkey of kind, NUL, name (UTF-8): "
                    "the directory shows the kinds and how many records each has, never a "
                    "name; the name is inside the record (schema version 2).",
                ),
                (
                    f"{layout.RECORDS}/KIND/NAME",
                    "Schema version 1 (kmscli before opaque names): the name encoded byte by "
                    "byte from UTF-8: a-z, 0-9, - and _ stand for themselves and every other "
                    "byte becomes %xx (lower-case hex); an encoding too long for a file name "
                    f"becomes {layout.HASHED_PREFIX} followed by the SHA-256 of the name in hex. "
                    "Read as it is; migrated at the first write (see Migration).",
                ),
                (
                    f"{layout.JOURNAL_PENDING}, {layout.JOURNAL}",
                    "A transaction being prepared, and one committed but not yet fully applied "
                    "(see Transactions).",
                ),
                (f"{layout.TEMP_PREFIX}*", "Temporary files of atomic writes."),
                (
                    f"{layout.AUDIT}/{auditlog.LOG}, {layout.AUDIT}/{auditlog.HEAD}",
                    "The audit trail and its head (see Audit trail).",
                ),
            ]
        ),
        ".SS Root key and subkeys",
        roff(
            f"The root key is {rootkey.ROOT_KEY_BYTES} random bytes. Every key the keyring uses "
            "is derived from it with HKDF-SHA256, the keyring ID as salt and "
            "kmscli/keyring/v1/PURPOSE as info, one per purpose (key-check, header-mac, "
            "records, record-names, journal, seal, audit, audit-seal, backup): no subkey "
            "serves two purposes."
        ),
        *_fields(
            [
                (
                    "Key file (the default)",
                    "The root key as 64 hex digits and a newline (32 raw bytes are read too) in "
                    "root-keys/KEYRING_ID.key under the platformdirs user configuration "
                    "directory, or at KMSCLI_ROOT_KEY_FILE; created with mode 0600, and refused "
                    "when group or others may access it. It is kept outside the keyring "
                    "directory, so that a copy of the directory alone reveals no key.",
                ),
                (
                    "Passphrase (keyring init --passphrase)",
                    f"The root key sealed with AES-256-GCM under {argon} of the passphrase, with "
                    'the associated data "kmscli root key wrap v1", NUL, keyring ID; kept in '
                    "the header.",
                ),
            ]
        ),
        ".SS Header file",
        roff(
            "Two lines of compact JSON with sorted keys. The first holds the fields: format "
            f'("{header.FORMAT}"), schema_version ({header.SCHEMA_VERSION}), keyring_id, '
            f'account_id, created, protection ("{header.KEY_FILE}" or "{header.PASSPHRASE}"), '
            "key_check (an HMAC-SHA256 under the key-check subkey that tells a wrong root key "
            "from a corrupt header) and, for a passphrase, kdf (the Argon2id parameters and "
            "salt) and wrapped_root_key. The second is "
            '{"mac": HMAC-SHA256 of line 1 under the header-mac subkey, "sha256": SHA-256 of '
            "line 1}, both in hex. A header with a newer schema version is refused; one "
            "with schema version 1 is read, and migrated at the first write."
        ),
        ".SS Records",
        roff(
            f"A record file is {records.MAGIC[:4].decode()} 0x{records.MAGIC[4]:02X} || IV || "
            "AES-256-GCM under the records subkey of (name length (2) || name || data) || tag, "
            'with the associated data "kmscli record v1", NUL, kind, NUL, file name: an edited '
            "byte, a file renamed onto another name or moved to another kind does not open. Key "
            "material inside a key record is sealed once more, under the seal subkey, with the "
            "key ARN and the material ID in its associated data, so that a material moved onto "
            "another key does not open either. kmscli refuses a keyring with any such damage "
            "with exit status 9 and a message naming the file."
        ),
        ".SS Transactions",
        roff(
            "Writers hold the exclusive lock and commit all their records at once: they write "
            f"{layout.JOURNAL_PENDING} ({journal.MAGIC[:4].decode()} 0x{journal.MAGIC[4]:02X} || "
            "the list of renames and deletions, sealed under the journal subkey) and fsync it, "
            f"write each new record as a {layout.TEMP_PREFIX}TXID-N file and fsync it, rename "
            f"{layout.JOURNAL_PENDING} to {layout.JOURNAL} and fsync the directory (the commit "
            f"point), rename the temporary files onto their records, remove deleted records, "
            f"and remove {layout.JOURNAL}. A process that finds a {layout.JOURNAL} completes it; "
            f"a {layout.JOURNAL_PENDING} and temporary files are removed. A process killed in "
            "the middle of a write leaves either the old or the new state. A transaction's "
            "audit events travel in its journal (payload version 2) as finished record lines, "
            "with the position of the chain they follow: after the commit point they are "
            f"appended to {layout.AUDIT}/{auditlog.LOG} before any record is renamed, and if "
            "that fails the writer cuts the log back and removes the journal, so the change "
            "does not happen. Completing a journal appends only the events not yet in the log."
        ),
        ".SS Migration",
        roff(
            f"A keyring of schema version 1 ({layout.RECORDS}/) is opened and read as it is; "
            "reading never changes it. The first write, under the exclusive lock and after "
            f"completing any journal, migrates it: it removes a {layout.OPAQUE_RECORDS}/ an "
            "interrupted migration left, writes every record again under its schema-2 name in "
            f"a new {layout.OPAQUE_RECORDS}/ (each file, each directory and the keyring "
            "directory fsynced), replaces the header with the same header at schema version 2 "
            f"(the commit point), and removes {layout.RECORDS}/. Record contents do not change. "
            f"A process killed before the commit point leaves a {layout.OPAQUE_RECORDS}/ that "
            f"the next exclusive lock removes; one killed after it leaves a {layout.RECORDS}/ "
            "that the next exclusive lock removes. A process that opened the keyring before "
            "another one migrated it follows the header. A damaged or unexpected file in "
            f"{layout.RECORDS}/ stops the migration before its commit point (exit status 9)."
        ),
        *_audit_section(),
        *_backup_section(),
        '.SH "SEE ALSO"',
        ".BR kmscli (1)",
    ]
    for address in _SEE_ALSO_URLS:
        out += [".PP", _url(address)]
    return "\n".join(out) + "\n"


# -- the files -----------------------------------------------------------------------------------

FILES: dict[str, Callable[[Tree], str]] = {
    "completions/kmscli.bash": bash_completion,
    "completions/_kmscli": zsh_completion,
    "completions/kmscli.fish": fish_completion,
    "man/kmscli.1": man_page,
    "man/kmscli-format.5": lambda _tree: format_page(),
}


def generate(tree: Tree | None = None) -> dict[str, str]:
    """Every generated file's text, by its path relative to the repository root."""
    tree = tree or read_tree()
    return {path: render(tree) for path, render in FILES.items()}


def stale(root: Path) -> list[str]:
    """The generated files under `root` that differ from what the generator produces now."""
    return [
        path
        for path, text in generate().items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/docgen.py",
        description="Generate kmscli's man pages and shell completions from its click tree.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="rewrite completions/ and man/")
    action.add_argument("--check", action="store_true", help="fail when a file is stale")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the repository root (default: this checkout)"
    )
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.root)
        for path in outdated:
            sys.stderr.write(f"docgen: {path} is stale; run `{GENERATED}`\n")
        return 1 if outdated else 0
    for path, text in generate().items():
        target = args.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    # Run as a script: document this checkout's kmscli, not whichever one is installed.
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
