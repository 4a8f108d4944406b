"""What every command needs from its environment: settings, the keyring, the service, the clock.

Owns the precedence option > environment > profile > configuration defaults > built-in default
for the global options and the default key, the configuration file (TOML in the platformdirs
user config dir, or KMSCLI_CONFIG), where the keyring and its root key live by default, how a
passphrase is obtained (environment, file, or a prompt only when stdin is a terminal), and
`KMSCLI_NOW`. It is the only place that reads these environment variables and the only
importer of platformdirs.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from kmscli.errors import UsageError

if TYPE_CHECKING:
    from kmscli.kms.provider import LocalKeyProvider
    from kmscli.kms.service import KmsService
    from kmscli.store import Keyring

DEFAULT_REGION = "us-east-1"
CONFIG_SETTINGS = ("home", "region", "principal", "key")


@dataclass
class Settings:
    """Global options as given on the command line (None: not given)."""

    home: str | None = None
    region: str | None = None
    principal: str | None = None
    profile: str | None = None
    json: bool = False
    quiet: bool = False
    verbose: bool = False
    no_progress: bool = False


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


@dataclass
class Environment:
    """The resolved settings plus lazily opened keyring and service."""

    settings: Settings = field(default_factory=Settings)

    @property
    def json(self) -> bool:
        return self.settings.json

    @property
    def quiet(self) -> bool:
        return self.settings.quiet

    @property
    def verbose(self) -> bool:
        return self.settings.verbose and not self.settings.quiet

    @property
    def debug(self) -> bool:
        return _env("KMSCLI_DEBUG") == "1"

    @cached_property
    def config_file(self) -> Path:
        explicit = _env("KMSCLI_CONFIG")
        if explicit:
            return Path(explicit).expanduser()
        import platformdirs

        return Path(platformdirs.user_config_dir("kmscli", appauthor=False)) / "config.toml"

    @cached_property
    def configured(self) -> dict[str, str]:
        """The settings the configuration file gives: its defaults, overlaid by the profile."""
        profile = self.settings.profile or _env("KMSCLI_PROFILE")
        return load_configuration(self.config_file, profile)

    @cached_property
    def home(self) -> Path:
        explicit = self.settings.home or _env("KMSCLI_HOME") or self.configured.get("home")
        if explicit:
            return Path(explicit).expanduser()
        import platformdirs

        return Path(platformdirs.user_data_dir("kmscli", appauthor=False))

    @cached_property
    def root_key_file(self) -> Path | None:
        explicit = _env("KMSCLI_ROOT_KEY_FILE")
        return Path(explicit).expanduser() if explicit else None

    @cached_property
    def root_key_dir(self) -> Path:
        import platformdirs

        return Path(platformdirs.user_config_dir("kmscli", appauthor=False)) / "root-keys"

    @cached_property
    def region(self) -> str:
        from kmscli.kms.ids import is_valid_region

        region = (
            self.settings.region
            or _env("KMSCLI_REGION")
            or _env("AWS_REGION")
            or _env("AWS_DEFAULT_REGION")
            or self.configured.get("region")
            or DEFAULT_REGION
        )
        if not is_valid_region(region):
            raise UsageError(
                f"'{region}' is not a region name", hints=["regions look like us-east-1"]
            )
        return region

    @cached_property
    def principal(self) -> str | None:
        return (
            self.settings.principal or _env("KMSCLI_PRINCIPAL") or self.configured.get("principal")
        )

    @cached_property
    def default_key(self) -> str | None:
        """The key `encrypt` uses without -k: KMSCLI_KEY, else the configured key."""
        return _env("KMSCLI_KEY") or self.configured.get("key")

    def now(self) -> datetime:
        fixed = _env("KMSCLI_NOW")
        if fixed is None:
            return datetime.now(UTC)
        try:
            instant = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"KMSCLI_NOW='{fixed}' is not an ISO-8601 instant",
                hints=["for example KMSCLI_NOW=2027-01-01T00:00:00Z"],
            ) from None
        return instant if instant.tzinfo else instant.replace(tzinfo=UTC)

    def passphrase_from_environment(self) -> bytes | None:
        value = os.environ.get("KMSCLI_PASSPHRASE")
        if value:
            return value.encode()
        path = _env("KMSCLI_PASSPHRASE_FILE")
        if path:
            return read_passphrase_file(Path(path))
        return None

    def passphrase(self) -> bytes | None:
        """The keyring passphrase, or None when there is no way to get one without waiting."""
        given = self.passphrase_from_environment()
        if given is not None:
            return given
        if stdin_is_terminal():
            import getpass

            return getpass.getpass("kmscli: keyring passphrase: ").encode()
        return None

    def open_keyring(self, *, create: bool = True) -> Keyring:
        from kmscli.store import open_keyring

        return open_keyring(
            self.home,
            root_key_file=self.root_key_file,
            root_key_dir=self.root_key_dir,
            passphrase=self.passphrase,
            create=create,
        )

    @cached_property
    def service(self) -> KmsService:
        from kmscli.kms.service import KmsService

        return KmsService(
            self.open_keyring(), region=self.region, caller=self.principal, clock=self.now
        )

    @cached_property
    def provider(self) -> LocalKeyProvider:
        from kmscli.kms.provider import LocalKeyProvider

        return LocalKeyProvider(self.service)


def load_configuration(path: Path, profile: str | None) -> dict[str, str]:
    """Read the TOML configuration: top-level defaults, then `[profiles.NAME]` over them.

    A missing file is an empty configuration, unless a profile was asked for.
    """
    if not path.is_file():
        if profile is not None:
            raise UsageError(
                f"profile '{profile}' is not defined: there is no configuration file '{path}'"
            )
        return {}
    import tomllib

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
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


def _settings_table(table: object, where: str) -> dict[str, str]:
    if not isinstance(table, dict):
        raise UsageError(f"{where} is not a table")
    settings = {}
    for name, value in table.items():
        if name == "profiles":
            continue
        if name not in CONFIG_SETTINGS:
            raise UsageError(
                f"{where}: unknown setting '{name}'",
                hints=["settings are: " + ", ".join(CONFIG_SETTINGS) + ", and [profiles.NAME]"],
            )
        if not isinstance(value, str):
            raise UsageError(f"{where}: '{name}' must be a string")
        settings[name] = value
    return settings


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def read_passphrase_file(path: Path) -> bytes:
    from kmscli.errors import InputOutputError

    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputOutputError(f"cannot read passphrase file '{path}': {error.strerror}") from None
    return data.rstrip(b"\r\n")
