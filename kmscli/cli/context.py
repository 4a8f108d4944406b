"""What every command needs from its environment: settings, the keyring, the service, the clock.

Owns the precedence option > environment > profile > configuration defaults > built-in default
for the global options and the default key (each setting declared once, in kmscli.cli.settings),
the configuration file (TOML in the platformdirs
user config dir, or KMSCLI_CONFIG), where the keyring and its root key live by default, how a
passphrase is obtained (environment, file, or a prompt only when stdin is a terminal, asked
again after a wrong one), which commands may create a missing keyring (see `open_keyring`),
the clock (always the real one: no variable, option or setting moves it), and which backend
answers the KMS operations (the local keyring, or AWS KMS with its endpoint and how many calls
may run at once). It is the only place that reads the environment variables of the settings
table, and the only importer of platformdirs.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from kmscli.cli.settings import BACKENDS, CONFIG_SETTINGS, NUMBER, SETTING
from kmscli.errors import KeyringLockedError, KeyringMissingError, NotFoundException, UsageError

if TYPE_CHECKING:
    from kmscli.aws.client import ClientFactory
    from kmscli.aws.provider import AwsKeyProvider
    from kmscli.aws.service import AwsKmsService
    from kmscli.kms.provider import LocalKeyProvider
    from kmscli.kms.service import KmsService
    from kmscli.kmsapi.protocol import KmsApi
    from kmscli.store import Keyring

Configured = dict[str, str | int]


class Settings:
    """Global options as given on the command line (None: not given).

    (Plain classes here and below: a dataclass costs about 1 ms of every command's start-up.)
    """

    def __init__(self) -> None:
        self.home: str | None = None
        self.region: str | None = None
        self.principal: str | None = None
        self.profile: str | None = None
        self.backend: str | None = None
        self.endpoint_url: str | None = None
        self.json = False
        self.quiet = False
        self.verbose = False
        self.no_progress = False


def _small_number(text: str) -> bool:
    """ASCII digits, few enough for int() (which also takes "²" and refuses 4,301 digits)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def from_environment(name: str) -> str | None:
    """The setting `name` as its environment variables give it: the first one set and not
    empty, else None."""
    for variable in SETTING[name].variables:
        value = os.environ.get(variable)
        if value:
            return value
    return None


def _number(name: str, value: str | int) -> int:
    """A NUMBER setting's value within its bounds; anything else is a usage error (exit 2)."""
    setting = SETTING[name]
    # (ASCII digits only from text: int() also takes "²", and refuses 4,301 digits.)
    number = value if isinstance(value, int) else int(value) if _small_number(value) else None
    if number is None or number < setting.low or (setting.high and number > setting.high):
        raise UsageError(f"{setting.label} '{value}' is not {setting.bounds}")
    return number


def escapes_wanted() -> bool:
    """Whether the user lets kmscli write escape sequences to a terminal: not with NO_COLOR
    (any non-empty value, no-color.org) nor TERM=dumb."""
    return not from_environment("no_color") and os.environ.get("TERM", "") != "dumb"


class Environment:
    """The resolved settings plus lazily opened keyring and service."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.creates_keys = False
        self._typed_passphrase: bytes | None = None
        self._accepted_passphrase: bytes | None = None

    @property
    def json(self) -> bool:
        return self.settings.json

    @property
    def quiet(self) -> bool:
        return self.settings.quiet

    @property
    def verbose(self) -> bool:
        return self.settings.verbose and not self.settings.quiet

    def given(self, name: str) -> str | int | None:
        """The setting `name` as the user gave it: its global option, else its environment
        variables, else the configuration file (the profile over the file's defaults); None
        when none of them gives it (empty counts as not given)."""
        option = getattr(self.settings, name, None)
        if isinstance(option, str) and option:
            return option
        value = from_environment(name)
        if value is not None:
            return value
        if SETTING[name].in_config:
            configured = self.configured.get(name)
            if configured is not None and configured != "":
                return configured
        return None

    def _number(self, name: str) -> int:
        value = self.given(name)
        return _number(name, value) if value is not None else int(SETTING[name].default or 0)

    def _text(self, name: str) -> str | None:
        value = self.given(name)
        return None if value is None else str(value)

    @property
    def debug(self) -> bool:
        return from_environment("debug") == "1"

    @cached_property
    def config_file(self) -> Path:
        explicit = from_environment("config")
        if explicit:
            return Path(explicit).expanduser()
        return user_directory("config") / "config.toml"

    @cached_property
    def configured(self) -> Configured:
        """The settings the configuration file gives: its defaults, overlaid by the profile."""
        return load_configuration(self.config_file, self._text("profile"))

    @cached_property
    def home(self) -> Path:
        explicit = self._text("home")
        if explicit:
            return Path(explicit).expanduser()
        return user_directory("data")

    @cached_property
    def root_key_file(self) -> Path | None:
        explicit = from_environment("root_key_file")
        return Path(explicit).expanduser() if explicit else None

    @cached_property
    def root_key_dir(self) -> Path:
        return user_directory("config") / "root-keys"

    @cached_property
    def region(self) -> str:
        from kmscli.kms.ids import is_valid_region

        region = (
            self._text("region") or self._aws_configured_region() or str(SETTING["region"].default)
        )
        if not is_valid_region(region):
            raise UsageError(
                f"'{region}' is not a region name", hints=["regions look like us-east-1"]
            )
        return region

    def _aws_configured_region(self) -> str | None:
        """For the aws backend, the region of the AWS profile (~/.aws/config), as the AWS CLI."""
        if self.backend != "aws":
            return None
        return self.aws_clients.configured_region()

    @cached_property
    def principal(self) -> str | None:
        return self._text("principal")

    @cached_property
    def default_key(self) -> str | None:
        """The key `encrypt` uses without -k: KMSCLI_KEY, else the configured key."""
        return self._text("key")

    def now(self) -> datetime:
        """The real time. Nothing a user sets moves it: a waiting period or a rotation date
        passes only when it has (in-process tests replace this method, see tests/timetravel.py)."""
        return datetime.now(UTC)

    def passphrase_from_environment(self) -> bytes | None:
        value = from_environment("passphrase")
        if value:
            return value.encode()
        path = from_environment("passphrase_file")
        if path:
            return read_passphrase_file(Path(path))
        return None

    def _passphrase_source(self) -> str:
        if from_environment("passphrase"):
            return "KMSCLI_PASSPHRASE"
        return f"KMSCLI_PASSPHRASE_FILE ('{from_environment('passphrase_file')}')"

    def passphrase(self) -> bytes | None:
        """The keyring passphrase: the one already accepted in this command, else from the
        environment, else typed at a prompt when stdin is a terminal; None when there is no
        way to get one without waiting."""
        if self._accepted_passphrase is not None:
            return self._accepted_passphrase
        given = self.passphrase_from_environment()
        if given is not None:
            return given
        if stdin_is_terminal():
            from kmscli.cli.passphrase import ask

            self._typed_passphrase = ask("kmscli: keyring passphrase: ")
            return self._typed_passphrase
        return None

    @cached_property
    def backend(self) -> str:
        """Where keys live: `local` (the keyring) or `aws` (AWS KMS through boto3)."""
        backend = self._text("backend") or str(SETTING["backend"].default)
        if backend not in BACKENDS:
            raise UsageError(
                f"'{backend}' is not a backend", hints=["backends are: " + ", ".join(BACKENDS)]
            )
        return backend

    @cached_property
    def max_concurrency(self) -> int:
        """How many files (and so KMS calls) the aws backend works on at once."""
        return self._number("max_concurrency")

    def open_keyring(self) -> Keyring:
        """The keyring at `home`, unlocked.

        A missing keyring is created only for a command that creates a key and so means to
        have a keyring: `key create`, and `encrypt` under the AWS managed key alias/aws/kmscli
        (which it creates). They set `creates_keys` before the keyring is opened, and the new
        keyring is announced once on stderr. Every other command (lists, describe, decrypt,
        policy, audit, serve, ...) refuses a missing keyring with KeyringMissingError (exit 9)
        and leaves nothing behind, so a mistyped --home creates nothing.

        A passphrase typed at the terminal that is wrong is asked for again, TRIES times in all;
        one from KMSCLI_PASSPHRASE or _FILE fails at once (exit 9).
        """
        if self.backend != "local":
            raise UsageError(
                f"this command works on the local keyring, and the backend is '{self.backend}'",
                hints=[
                    "run it with --backend local (AWS KMS: CloudTrail is its audit trail, "
                    "IAM its identity policies)"
                ],
            )
        try:
            return self._unlock()
        except NotFoundException:
            if not self.creates_keys:
                raise self._missing() from None
        return self._create_keyring()

    def _missing(self) -> KeyringMissingError:
        hints = ["create one with 'kmscli keyring init' (or 'kmscli key create')"]
        if self.given("home"):
            hints.append("or check --home, KMSCLI_HOME and the configuration's 'home'")
        return KeyringMissingError(f"no keyring at '{self.home}'", hints=hints)

    def _unlock(self) -> Keyring:
        """Open the existing keyring (NotFoundException if there is none), prompting again
        after a wrong passphrase typed at the terminal."""
        from kmscli.cli.passphrase import TRIES, say
        from kmscli.store import open_keyring

        attempt = 1
        while True:
            self._forget_typed_passphrase()
            try:
                keyring = open_keyring(
                    self.home,
                    root_key_file=self.root_key_file,
                    root_key_dir=self.root_key_dir,
                    passphrase=self.passphrase,
                    create=False,
                )
            except KeyringLockedError as error:
                if self._typed_passphrase is None:
                    raise self._explain_locked(error) from None
                if attempt == TRIES:
                    raise KeyringLockedError(
                        f"wrong passphrase for the keyring at '{self.home}' ({TRIES} tries)",
                        hints=["a forgotten passphrase cannot be recovered: restore a backup"],
                    ) from None
                say("wrong passphrase, try again")
                attempt += 1
                continue
            self._accepted_passphrase = self._typed_passphrase
            return keyring

    def _forget_typed_passphrase(self) -> None:
        self._typed_passphrase = None

    def _explain_locked(self, error: KeyringLockedError) -> KeyringLockedError:
        """A wrong passphrase from the environment names where it came from, not a prompt."""
        given = from_environment("passphrase") or from_environment("passphrase_file")
        # The store's words for a passphrase that does not unwrap the root key.
        if not given or not error.message.startswith("wrong passphrase"):
            return error
        return KeyringLockedError(
            f"wrong passphrase for the keyring at '{self.home}'",
            hints=[f"it came from {self._passphrase_source()}: set the keyring's passphrase there"],
        )

    def _create_keyring(self) -> Keyring:
        from kmscli.errors import AlreadyExistsException
        from kmscli.store import init_keyring

        try:
            keyring = init_keyring(
                self.home, root_key_file=self.root_key_file, root_key_dir=self.root_key_dir
            )
        except AlreadyExistsException:  # another process created it meanwhile: use theirs
            return self._unlock()
        self.announce_new_keyring(keyring)
        return keyring

    def announce_new_keyring(self, keyring: Keyring) -> None:
        """Say once, on stderr (not with -q), where a keyring just created is, its account and
        where its root key is, which must be backed up."""
        from kmscli.cli.output import notice

        info = keyring.info
        notice(self, f"created a keyring at '{info.home}' (account {info.account_id})")
        if info.root_key_file is not None:
            notice(
                self,
                f"its root key is the file '{info.root_key_file}': back it up, apart from the "
                "keyring; without it no key of the keyring can be used",
            )

    def catch_up(self, keyring: Keyring) -> None:
        """Do the KMS's own work that fell due (rotations, deletions, material expiries), as
        `local_service` does first, for commands that use the keyring without it."""
        from kmscli.kms.service import KmsService

        KmsService(keyring, region=self.region, clock=self.now).catch_up()

    @cached_property
    def service(self) -> KmsApi:
        """The KMS operations of the chosen backend: what both backends offer, no more."""
        if self.backend == "aws":
            return self.aws_service
        return self.local_service

    @cached_property
    def local_service(self) -> KmsService:
        """The local KMS, for what only it has (audit trail, identity policies, simulation).

        Made once per command, when the command first needs it; the KMS's own work that fell
        due happens then, before the command's operation."""
        from kmscli.kms.service import KmsService

        service = KmsService(
            self.open_keyring(), region=self.region, caller=self.principal, clock=self.now
        )
        service.catch_up()
        return service

    @cached_property
    def aws_clients(self) -> ClientFactory:
        """The botocore session and clients of the aws backend (one session per command)."""
        from kmscli.aws.client import ClientFactory, ClientSettings

        return ClientFactory(
            ClientSettings(
                endpoint_url=self._text("endpoint_url"),
                aws_profile=self._text("aws_profile"),
                max_attempts=self._max_attempts(),
                max_pool_connections=self.max_concurrency,
            )
        )

    @cached_property
    def aws_service(self) -> AwsKmsService:
        from kmscli.aws.service import AwsKmsService

        if self.principal is not None:
            raise UsageError(
                "--as (KMSCLI_PRINCIPAL) chooses the caller of the local backend; AWS KMS acts "
                "for the principal of your AWS credentials",
                hints=["drop --as, or choose another AWS_PROFILE"],
            )
        return AwsKmsService(self.aws_clients, region=self.region, concurrency=self.max_concurrency)

    def _max_attempts(self) -> int:
        """AWS_MAX_ATTEMPTS, as every AWS SDK reads it; else kmscli's default."""
        return self._number("max_attempts")

    @cached_property
    def provider(self) -> LocalKeyProvider | AwsKeyProvider:
        """The data keys of the chosen backend, for the envelope layer."""
        if self.backend == "aws":
            from kmscli.aws.provider import AwsKeyProvider

            return AwsKeyProvider(self.aws_service)
        from kmscli.kms.provider import LocalKeyProvider

        return LocalKeyProvider(self.local_service)

    @property
    def concurrency(self) -> int:
        """How many jobs run at once: the local keyring takes one at a time."""
        return self.max_concurrency if self.backend == "aws" else 1


_XDG = {"config": ("XDG_CONFIG_HOME", ".config"), "data": ("XDG_DATA_HOME", ".local/share")}


def user_directory(kind: str) -> Path:
    """kmscli's user `config` or `data` directory, as platformdirs names it.

    On Linux it is computed here by the XDG Base Directory rule platformdirs follows there (an
    absolute $XDG_..._HOME, else under an absolute $HOME), because importing platformdirs
    costs about 6 ms of every command's start-up; elsewhere, and for an unusual $HOME,
    platformdirs answers. tests/cli/test_user_directories.py holds the two equal."""
    variable, under_home = _XDG[kind]
    if sys.platform == "linux":
        base = os.environ.get(variable, "")
        if os.path.isabs(base):
            return Path(base) / "kmscli"
        home = os.environ.get("HOME", "")
        if os.path.isabs(home):
            return Path(home) / under_home / "kmscli"
    import platformdirs

    if kind == "config":
        return Path(platformdirs.user_config_dir("kmscli", appauthor=False))
    return Path(platformdirs.user_data_dir("kmscli", appauthor=False))


def load_configuration(path: Path, profile: str | None) -> Configured:
    """Read the TOML configuration: top-level defaults, then `[profiles.NAME]` over them.

    A missing file is an empty configuration, unless a profile was asked for.
    """
    if not path.exists():
        if profile is not None:
            raise UsageError(
                f"profile '{profile}' is not defined: there is no configuration file '{path}'"
            )
        return {}
    import tomllib

    from kmscli.cli.reading import read_settings_file

    data = read_settings_file(
        path, limit=CONFIG_FILE_LIMIT, what="configuration file", refuse=UsageError
    )
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"configuration file '{path}' cannot be read: {error}") from None
    settings = _settings_table(document, f"configuration file '{path}'")
    if profile is not None:
        profiles = document.get("profiles", {})
        if not isinstance(profiles, dict) or profile not in profiles:
            known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else ""
            raise UsageError(
                f"profile '{profile}' is not defined in '{path}'",
                hints=[f"defined profiles: {known}"] if known else [],
            )
        settings.update(_settings_table(profiles[profile], f"profile '{profile}' in '{path}'"))
    return settings


def _settings_table(table: object, where: str) -> Configured:
    """The settings of one TOML table, each of its declared type: a string, or for a number an
    integer (a string of digits too); checked for range only when the setting is used."""
    if not isinstance(table, dict):
        raise UsageError(f"{where} is not a table")
    settings: Configured = {}
    for name, value in table.items():
        if name == "profiles":
            continue
        if name not in CONFIG_SETTINGS:
            raise UsageError(
                f"{where}: unknown setting '{name}'",
                hints=["settings are: " + ", ".join(CONFIG_SETTINGS) + ", and [profiles.NAME]"],
            )
        if SETTING[name].kind == NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise UsageError(f"{where}: '{name}' must be a number")
        elif not isinstance(value, str):
            raise UsageError(f"{where}: '{name}' must be a string")
        settings[name] = value
    return settings


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


PASSPHRASE_FILE_LIMIT = 4096
CONFIG_FILE_LIMIT = 1 << 20


def read_passphrase_file(path: Path) -> bytes:
    """The passphrase in a file or pipe, without its line ending; never blocks on a FIFO that
    no one writes to, and refuses a device, directory or socket (exit 9)."""
    from kmscli.cli.reading import read_settings_file
    from kmscli.errors import KeyringLockedError

    data = read_settings_file(
        path, limit=PASSPHRASE_FILE_LIMIT, what="passphrase file", refuse=KeyringLockedError
    )
    return data.rstrip(b"\r\n")
