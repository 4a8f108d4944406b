"""Global options, accepted before the subcommand and on every subcommand.

Owns the decorator that adds them to every group and command, and the helpers that give a
command its `Environment`. A value given later on the command line (on the subcommand) wins over
one given earlier (on a group), as `aws kms ... --region x` users expect. A command's `--help`
lists its own options first, under "Options", and the global ones after, under "Global options".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from kmscli.cli.context import Environment
from kmscli.cli.suggest import SuggestingGroup

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def environment(ctx: click.Context | None = None) -> Environment:
    """The one Environment of this invocation, kept on the root context."""
    root = (ctx or click.get_current_context()).find_root()
    if not isinstance(root.obj, Environment):
        root.obj = Environment()
    return root.obj


def _setter(attribute: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return
        setattr(environment(ctx).settings, attribute, value)

    return store


class GlobalOption(click.Option):
    """One of the global options: listed after a command's own options in its help."""


class _SectionedHelp(click.Command):
    """Help with the command's own options first, then the global options and --help."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        help_names = set(ctx.help_option_names)
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
            if record is None:
                continue
            is_shared = isinstance(param, GlobalOption) or help_names.intersection(param.opts)
            (shared if is_shared else own).append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if shared:
            with formatter.section("Global options"):
                formatter.write_dl(shared)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class KmsCommand(_SectionedHelp):
    """A command: its own options listed before the global ones."""


class KmsGroup(_SectionedHelp, SuggestingGroup):
    """A subgroup: sectioned help, and the closest names for an unknown command."""


def _option(*names: str, attribute: str, **kwargs: Any) -> Callable[[F], F]:
    return click.option(
        *names,
        cls=GlobalOption,
        callback=_setter(attribute),
        expose_value=False,
        is_eager=True,
        **kwargs,
    )


def global_options(function: F) -> F:
    """Add --home, --region, --as, --profile, --backend, --endpoint-url, --json, -q, -v and
    --no-progress to a command."""
    decorators = [
        _option(
            "--home",
            attribute="home",
            metavar="DIR",
            help="Keyring directory [env KMSCLI_HOME].",
        ),
        _option(
            "--region",
            attribute="region",
            metavar="NAME",
            help="Region to act in [env KMSCLI_REGION, AWS_REGION; default us-east-1].",
        ),
        _option(
            "--as",
            "principal",
            attribute="principal",
            metavar="PRINCIPAL_ARN",
            help="Caller identity for policy evaluation [env KMSCLI_PRINCIPAL].",
        ),
        _option(
            "--profile",
            attribute="profile",
            metavar="NAME",
            help="Settings from [profiles.NAME] of the configuration file [env KMSCLI_PROFILE].",
        ),
        _option(
            "--backend",
            attribute="backend",
            type=click.Choice(["local", "aws"]),
            help="Where keys live: the local keyring or AWS KMS [env KMSCLI_BACKEND].",
        ),
        _option(
            "--endpoint-url",
            attribute="endpoint_url",
            metavar="URL",
            help="AWS KMS endpoint for --backend aws [env AWS_ENDPOINT_URL_KMS].",
        ),
        _option("--json", attribute="json", is_flag=True, help="Machine output on stdout."),
        _option("-q", "--quiet", attribute="quiet", is_flag=True, help="No progress or notices."),
        _option("-v", "--verbose", attribute="verbose", is_flag=True, help="Say what was done."),
        _option(
            "--no-progress", attribute="no_progress", is_flag=True, help="Never show progress."
        ),
    ]
    for decorate in reversed(decorators):
        function = decorate(function)
    # click lists parameters in the reverse order of __click_params__: moving the global
    # options to its front puts them after the command's own in the parameter list.
    params: list[click.Parameter] = getattr(function, "__click_params__", [])
    count = len(decorators)
    params[:] = params[-count:] + params[:-count]
    return function


def command(group: click.Group, name: str, **kwargs: Any) -> Callable[[F], click.Command]:
    """Register a command on `group` with the global options and the shared context settings."""

    def register(function: F) -> click.Command:
        decorated = global_options(function)
        return group.command(name, cls=KmsCommand, context_settings=CONTEXT_SETTINGS, **kwargs)(
            decorated
        )

    return register


def subgroup(parent: click.Group, name: str, **kwargs: Any) -> Callable[[F], click.Group]:
    def register(function: F) -> click.Group:
        decorated = global_options(function)
        kwargs.setdefault("cls", KmsGroup)
        return parent.group(name, context_settings=CONTEXT_SETTINGS, **kwargs)(decorated)

    return register
