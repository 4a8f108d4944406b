"""Keyring passphrases typed at a terminal, and the rule a new passphrase is held to.

Owns the prompts (read from the terminal without echo, by getpass), how many times a
passphrase may be typed (`TRIES`: a wrong or mistyped one is asked for again, then the command
fails), and `weakness`, the documented strength rule for a new passphrase. It never reads the
environment and never opens a keyring: `context.Environment` decides when to prompt (only when
stdin is a terminal and no KMSCLI_PASSPHRASE / _FILE is set) and checks what was typed.
"""

from __future__ import annotations

import sys

from kmscli.errors import UsageError

TRIES = 3
MIN_LENGTH = 12
MIN_DISTINCT = 6

# Passphrases of 12 or more characters that still top the lists of leaked passwords; anything
# shorter is weak by length already. Compared case-insensitively.
COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789abc",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "abcdefghijkl",
        "abcd1234abcd",
        "administrator",
        "changemenow!",
        "correct horse battery staple",
        "correcthorsebatterystaple",
        "iloveyou1234",
        "letmeinletmein",
        "passw0rd1234",
        "password1234",
        "password123!",
        "password12345",
        "passwordpassword",
        "qwerty123456",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwertyuiopasdf",
        "trustno1trustno1",
    }
)


def weakness(secret: bytes) -> str | None:
    """Why `secret` is a weak new passphrase, or None if it passes the rule: at least 12
    characters, at least 6 different ones, and not one of a short list of common passwords.

    Weak is warned about, not refused (only an empty passphrase is): the keyring header is
    all an attacker needs to try passphrases offline, and Argon2id only slows each try down."""
    text = secret.decode("utf-8", errors="replace")
    if len(text) < MIN_LENGTH:
        return f"it is shorter than {MIN_LENGTH} characters"
    if text.casefold() in COMMON:
        return "it is a common password"
    if len(set(text)) < MIN_DISTINCT:
        return f"it has fewer than {MIN_DISTINCT} different characters"
    return None


def ask(prompt: str) -> bytes:
    """One passphrase typed at the terminal (no echo)."""
    import getpass

    return getpass.getpass(prompt).encode()


def say(message: str) -> None:
    """A line for the person at the prompt (stderr, which -q does not silence: they are typing)."""
    sys.stderr.write(f"kmscli: {message}\n")
    sys.stderr.flush()


def choose_new() -> bytes:
    """A new passphrase typed twice at the terminal: an empty one or a confirmation that does
    not match is asked for again, up to TRIES times in all, then UsageError."""
    for _ in range(TRIES):
        secret = ask("kmscli: new keyring passphrase: ")
        if not secret:
            say("the passphrase is empty: type one")
            continue
        if ask("kmscli: repeat the new passphrase: ") != secret:
            say("the two passphrases differ: type it again")
            continue
        return secret
    raise UsageError(
        f"no new passphrase was chosen in {TRIES} tries",
        hints=["type the same non-empty passphrase twice"],
    )
