"""Every setting kmscli takes from the environment or the configuration file, declared once.

Owns the table of settings: for each, the environment variables that give it (the first one set
wins), whether the configuration file (config.toml and its profiles) may give it, its type
(text, or a whole number within bounds), its default and the text kmscli(1) prints for it under
ENVIRONMENT (tools/docgen.py renders this table; the man page has no other list).
`kmscli.cli.context` resolves settings through it; the global options, which win over both,
are click's.

Must not: read the environment or a file (context.py does), or import anything: every command
loads it. Nothing here may move the clock (tests/test_real_clock.py).
"""

from __future__ import annotations

TEXT = "text"
NUMBER = "number"  # a whole number: ASCII digits from the environment, an integer in TOML


class Setting:
    """One setting. (A plain class: a dataclass costs about 1 ms of every command's start-up.)"""

    __slots__ = (
        "choices",
        "default",
        "help",
        "high",
        "in_config",
        "kind",
        "low",
        "name",
        "variables",
    )

    def __init__(
        self,
        name: str,
        variables: tuple[str, ...],
        help: str,
        *,
        in_config: bool = False,
        kind: str = TEXT,
        default: str | int | None = None,
        low: int = 1,
        high: int | None = None,
        choices: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.variables = variables
        self.help = help
        self.in_config = in_config
        self.kind = kind
        self.default = default
        self.low = low
        self.high = high
        self.choices = choices

    @property
    def label(self) -> str:
        """How an error names it: its configuration key, else its variable."""
        return self.name if self.in_config or not self.variables else self.variables[0]

    @property
    def bounds(self) -> str:
        """The numbers a NUMBER setting takes, in words."""
        if self.high is None:
            return f"a number of at least {self.low}"
        return f"a number from {self.low} to {self.high}"


DEFAULT_REGION = "us-east-1"
BACKENDS = ("local", "aws")
DEFAULT_MAX_CONCURRENCY = 10
MAX_CONCURRENCY = 256
DEFAULT_MAX_ATTEMPTS = 8

SETTINGS = (
    Setting(
        "home",
        ("KMSCLI_HOME",),
        "The keyring directory, when --home is not given.",
        in_config=True,
    ),
    Setting(
        "region",
        ("KMSCLI_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        "The region, when --region is not given: the first of them that is set; otherwise "
        f"{DEFAULT_REGION}.",
        in_config=True,
        default=DEFAULT_REGION,
    ),
    Setting(
        "principal",
        ("KMSCLI_PRINCIPAL",),
        "The caller identity that policies are evaluated for, when --as is not given; "
        "otherwise the keyring account's root, arn:aws:iam::ACCOUNT:root.",
        in_config=True,
    ),
    Setting(
        "key",
        ("KMSCLI_KEY",),
        "The key encrypt uses when no -k is given; without it, the keyring's AWS managed key "
        "alias/aws/kmscli, created on first use.",
        in_config=True,
    ),
    Setting(
        "passphrase",
        ("KMSCLI_PASSPHRASE",),
        "The passphrase of a passphrase-protected keyring, and the new passphrase for "
        "keyring init --passphrase.",
    ),
    Setting(
        "passphrase_file",
        ("KMSCLI_PASSPHRASE_FILE",),
        "A file holding the passphrase (a final newline is ignored), or a pipe such as "
        "<(pass show kmscli); a FIFO no one writes to reads as empty, and a device or directory "
        "is refused with exit status 9. Without either variable kmscli prompts when stdin is a "
        "terminal, and otherwise fails at once with exit status 9: it never waits on a prompt.",
    ),
    Setting(
        "root_key_file",
        ("KMSCLI_ROOT_KEY_FILE",),
        "The root key file of a keyring protected by a key file, instead of the default under "
        "the user configuration directory.",
    ),
    Setting(
        "config",
        ("KMSCLI_CONFIG",),
        "The configuration file, instead of config.toml in the user configuration directory.",
    ),
    Setting(
        "profile",
        ("KMSCLI_PROFILE",),
        "The profile of the configuration file to use when --profile is not given.",
    ),
    Setting(
        "backend",
        ("KMSCLI_BACKEND",),
        "Where keys live when --backend is not given: local (the keyring, the default) or aws "
        "(AWS KMS through boto3: pip install 'kmscli[aws]').",
        in_config=True,
        default="local",
        choices=BACKENDS,
    ),
    Setting(
        "endpoint_url",
        ("AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL"),
        "The AWS KMS endpoint of the aws backend when --endpoint-url is not given; otherwise "
        "AWS's endpoint of the region. Credentials come from the AWS SDKs' standard chain "
        "(AWS_ACCESS_KEY_ID, AWS_PROFILE, shared files, SSO, roles).",
        in_config=True,
    ),
    Setting(
        "aws_profile",
        (),
        "The profile of ~/.aws/config the aws backend uses (else the standard credential chain).",
        in_config=True,
    ),
    Setting(
        "max_concurrency",
        ("KMSCLI_MAX_CONCURRENCY",),
        f"How many files the aws backend works on at once (1 to {MAX_CONCURRENCY}, default "
        f"{DEFAULT_MAX_CONCURRENCY}); the local keyring takes one at a time.",
        in_config=True,
        kind=NUMBER,
        default=DEFAULT_MAX_CONCURRENCY,
        high=MAX_CONCURRENCY,
    ),
    Setting(
        "max_attempts",
        ("AWS_MAX_ATTEMPTS",),
        "Attempts per AWS KMS call, the first included, with exponential backoff on throttling "
        f"and transient errors (default {DEFAULT_MAX_ATTEMPTS}).",
        kind=NUMBER,
        default=DEFAULT_MAX_ATTEMPTS,
    ),
    Setting(
        "debug",
        ("KMSCLI_DEBUG",),
        "Set to 1 to print the traceback of the error that ended the command.",
    ),
    Setting(
        "no_color",
        ("NO_COLOR",),
        "When set to a non-empty value, kmscli writes no escape sequence at all: table headers "
        "are not bold and no progress bar is drawn (so too with TERM=dumb).",
    ),
    Setting(
        "columns",
        ("COLUMNS",),  # read by the standard library's shutil.get_terminal_size
        "The width terminal tables fit (default: the terminal's). Identifiers are never cut: "
        "when they do not fit side by side, a list prints one Field: value block a record.",
    ),
)

SETTING = {setting.name: setting for setting in SETTINGS}
CONFIG_SETTINGS = tuple(setting.name for setting in SETTINGS if setting.in_config)
