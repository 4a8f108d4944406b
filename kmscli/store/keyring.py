"""The keyring as the KMS layer sees it: open/init, locked views of the records, seal/unseal.

Owns: putting layout, rootkey, header, records, journal and lock together — creating a keyring
(first use or explicit init), opening it (header check, root key, key check, MAC, crash
recovery), shared-lock reads, exclusive-lock transactions and the verify pass. Records are
opaque bytes here: nothing in this module knows what a KMS key is. It never prints, prompts,
reads the environment or exits; it raises kmscli.errors exceptions.

Audit events go with the changes they describe: a transaction carries its events
(`Transaction.audit`) and commits them with its records through the journal (all or nothing;
see kmscli.store.journal), which also sets the audit anchor. An `operation()` scope lets the
caller learn the outcome of a whole operation before anything commits: its write transactions
stay open (the exclusive lock held) until `Operation.finish(event)` commits them together with
the operation's own event; an operation that changed nothing appends its event under the shared
lock. Every audit append happens under the keyring's lock, after crash recovery, so no event
can slip between a committed journal and its roll-forward.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from kmscli.crypto.primitives import (
    AuthenticationError,
    aes_gcm_open,
    aes_gcm_seal,
    hmac_sha256,
    random_bytes,
)
from kmscli.errors import (
    AlreadyExistsException,
    InputOutputError,
    KeyringCorruptError,
    KeyringError,
    KeyringLockedError,
    KMSInternalException,
    NotFoundException,
    ValidationException,
)
from kmscli.files.durable import make_dirs
from kmscli.store import anchor, journal, layout, migration, versions
from kmscli.store.auditlog import AuditLog, AuditReport, Position
from kmscli.store.header import (
    KEY_FILE,
    PASSPHRASE,
    Header,
    body_fields,
    encode_header,
    parse_header,
    verify_mac,
)
from kmscli.store.keyringfiles import io_error, read_bytes, write_atomic
from kmscli.store.lock import FileLock
from kmscli.store.records import decode_record
from kmscli.store.rootkey import (
    PASSPHRASE_HINTS,
    Argon2Params,
    create_key_file,
    load_key_file,
    new_root_key,
    unwrap_root_key,
    wrap_root_key,
)
from kmscli.store.subkeys import Subkeys, derive, key_check_matches, key_check_value

MAX_RECORD_BYTES = 1 << 20
# How much of what listings opened a view keeps for its own gets (see RecordView.list).
_OPENED_CACHE_BYTES = 8 << 20
_SEAL_VERSION = b"\x01"
_SEAL_LABEL = b"kmscli seal v1\0"
_KNOWN_HOME_ENTRIES = frozenset(
    {
        layout.HEADER,
        layout.LOCK,
        layout.RECORDS,
        layout.OPAQUE_RECORDS,
        layout.JOURNAL,
        layout.JOURNAL_PENDING,
        layout.AUDIT,
    }
)


class KeyringInfo(NamedTuple):
    """What `kmscli keyring status` shows. `root_key_file` is None in passphrase mode."""

    home: Path
    keyring_id: str
    account_id: str
    protection: str  # "key-file" | "passphrase"
    schema_version: int
    root_key_file: Path | None
    created: str
    kdf: Argon2Params | None = None


class RecordView:
    """Read access to the records while the keyring's shared (or exclusive) lock is held."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._home = keyring.info.home
        self._keys = keyring._keys
        self._naming = keyring.naming
        # The names of each kind as listed on disk, once per view: under schema 2 a listing
        # opens every record of the kind, and nothing on disk changes while the lock is held.
        self._listed: dict[str, dict[str, str]] = {}
        # What those listings opened, kept (up to _OPENED_CACHE_BYTES) for get: a listing
        # is mostly followed by a get of what it found, which would open each file again.
        self._opened: dict[tuple[str, str], bytes] = {}
        self._opened_bytes = 0
        self._live = True

    def _check_live(self) -> None:
        if not self._live:
            raise KMSInternalException("keyring view used after its lock was released")

    def _read_record(self, directory: Path, kind: str, filename: str) -> tuple[str, bytes] | None:
        path = directory / filename
        try:
            blob = read_bytes(path)
        except OSError as exc:
            raise io_error(path, exc, "read keyring file") from None
        if blob is None:
            return None
        return decode_record(
            self._keys,
            self._naming,
            kind,
            filename,
            blob,
            where=layout.relative(self._home, path),
        )

    def get(self, kind: str, name: str) -> bytes | None:
        self._check_live()
        opened = self._opened.get((kind, name))
        if opened is not None:
            return opened
        filename = self._naming.filename(kind, name)
        found = self._read_record(self._naming.kind_dir(kind), kind, filename)
        return None if found is None else found[1]

    def list(self, kind: str, prefix: str = "") -> list[str]:
        """Names of the records of `kind` that start with `prefix`, sorted."""
        self._check_live()
        listed = self._listed.get(kind)
        if listed is None:
            listed = self._listed[kind] = self._list_kind(kind)
        return sorted(name for name in listed if name.startswith(prefix))

    def _list_kind(self, kind: str) -> dict[str, str]:
        """Every record of `kind` on disk: name → file name."""
        directory = self._naming.kind_dir(kind)
        try:
            filenames = os.listdir(directory)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise io_error(directory, exc, "list keyring directory") from None
        names: dict[str, str] = {}
        for filename in filenames:
            if filename.startswith(layout.TEMP_PREFIX):
                continue
            if not self._naming.is_record_filename(filename):
                where = layout.relative(self._home, directory / filename)
                raise KeyringCorruptError(
                    f"keyring file '{where}' is not a record file name",
                    hints=["remove the file or restore the keyring from a backup"],
                )
            name = self._naming.name_in_filename(filename)
            if name is None:
                found = self._read_record(directory, kind, filename)
                if found is None:
                    continue
                name, data = found
                if self._opened_bytes + len(data) <= _OPENED_CACHE_BYTES:
                    self._opened[kind, name] = data
                    self._opened_bytes += len(data)
            names[name] = filename
        return names


class Transaction(RecordView):
    """Pending puts and deletes, visible to this transaction's own get/list until commit."""

    def __init__(self, keyring: Keyring) -> None:
        super().__init__(keyring)
        self._pending: dict[tuple[str, str], bytes | None] = {}
        self._events: list[bytes] = []

    def audit(self, event: bytes) -> None:
        """Append `event` to the audit log if and when this transaction commits."""
        self._check_live()
        self._events.append(bytes(event))

    def _mark(self) -> tuple[dict[tuple[str, str], bytes | None], int]:
        return dict(self._pending), len(self._events)

    def _rewind(self, mark: tuple[dict[tuple[str, str], bytes | None], int]) -> None:
        self._pending = dict(mark[0])
        del self._events[mark[1] :]

    @staticmethod
    def _key(kind: str, name: str) -> tuple[str, str]:
        if kind == anchor.KIND:
            raise ValidationException(f"record kind {kind!r} is the keyring's own")
        layout.check_kind(kind)
        layout.name_bytes(name)
        return kind, name

    def put(self, kind: str, name: str, data: bytes) -> None:
        self._check_live()
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("record data must be bytes")
        if len(data) > MAX_RECORD_BYTES:
            raise ValidationException(
                f"record {kind}/{name} is too large ({len(data)} bytes > {MAX_RECORD_BYTES})"
            )
        self._pending[self._key(kind, name)] = bytes(data)

    def delete(self, kind: str, name: str) -> None:
        self._check_live()
        self._pending[self._key(kind, name)] = None

    def get(self, kind: str, name: str) -> bytes | None:
        self._check_live()
        key = self._key(kind, name)
        if key in self._pending:
            return self._pending[key]
        return super().get(kind, name)

    def list(self, kind: str, prefix: str = "") -> list[str]:
        names = set(super().list(kind, prefix))
        for (pending_kind, name), data in self._pending.items():
            if pending_kind != kind or not name.startswith(prefix):
                continue
            if data is None:
                names.discard(name)
            else:
                names.add(name)
        return sorted(names)

    def _ops(self) -> tuple[journal.Op, ...]:
        return tuple(journal.Op(kind, name, data) for (kind, name), data in self._pending.items())


class Operation:
    """One operation's changes, held open until its audit event is known (`Keyring.operation`)."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._stack = contextlib.ExitStack()
        self.tx: Transaction | None = None
        self._finished = False

    def transaction(self) -> Transaction:
        """The operation's one transaction; the exclusive lock is taken on first use."""
        if self.tx is None:
            self._stack.enter_context(self._keyring._locked(exclusive=True))
            self._keyring._migrate_if_needed()
            self.tx = Transaction(self._keyring)
        return self.tx

    def finish(self, event: bytes) -> None:
        """Commit what the operation changed together with `event`, or neither (an error
        here means nothing changed); just append `event` if nothing changed."""
        if self._finished:
            raise KMSInternalException("an operation was finished twice")
        self._finished = True
        tx = self.tx
        if tx is not None and tx._pending:
            try:
                tx.audit(event)
                tx._live = False
                self._keyring._commit(tx)
            finally:
                self.close()
            return
        events = [] if tx is None else list(tx._events)
        self.close()
        for pending in [*events, event]:
            self._keyring.append_audit(pending)

    def close(self) -> None:
        """Release the lock; whatever was not finished is discarded."""
        if self.tx is not None:
            self.tx._live = False
        self._stack.close()


class Keyring:
    """An opened (root key known, header verified) keyring directory."""

    def __init__(self, info: KeyringInfo, keys: Subkeys) -> None:
        self.info = info
        self._keys = keys
        self.naming = layout.Naming(info.home, info.schema_version, keys.names)
        self._lock_path = info.home / layout.LOCK
        self._busy = False
        self._operation: Operation | None = None

    def __repr__(self) -> str:
        return f"Keyring(home={str(self.info.home)!r}, keyring_id={self.info.keyring_id!r})"

    def duplicate(self) -> Keyring:
        """Another handle on this opened keyring, for use by another thread at the same time:
        the same keys (no root key file read, no Argon2id), its own lock state."""
        return Keyring(self.info, self._keys)

    # -- locking -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool, recover: bool = True) -> Iterator[FileLock]:
        if self._busy:
            # A second lock from this process would deadlock (exclusive) or silently downgrade.
            raise KMSInternalException(
                "keyring already locked by this process: use the open view or transaction"
            )
        self._busy = True
        try:
            with FileLock(self._lock_path) as lock:
                try:
                    if exclusive:
                        lock.exclusive()
                    else:
                        lock.shared()
                    if not self.naming.opaque:
                        self._follow_migration()
                    if recover and self._needs_recovery():
                        if exclusive:
                            self._recover()
                        else:
                            lock.exclusive()
                            # Another process may have recovered while we waited.
                            if self._needs_recovery():
                                self._recover()
                            lock.shared()
                except OSError as exc:
                    raise io_error(self._lock_path, exc, "lock the keyring") from None
                yield lock
        finally:
            self._busy = False

    def _recover(self) -> None:
        """Roll forward / clean up after a crashed writer. Exclusive lock held."""
        try:
            # Leftovers first: what holds the other schema's name may not even be a directory.
            migration.sweep_leftovers(self.naming)
            journal.recover(self.naming, self._keys, self._audit_log())
        except OSError as exc:
            raise io_error(self.info.home, exc, "recover the keyring journal in") from None

    def _follow_migration(self) -> None:
        """Under the lock: if another process migrated this schema-1 keyring since it was
        opened, use the schema the header now has (else every record would look gone).

        The header decides, not whether `records/` is still there: a migration that died
        after its commit point leaves part of `records/` behind, and taking that for the
        keyring would sweep the migrated `records.v2/` as an interrupted migration's.
        Without `records.v2/` no migration has even started, so the header need not be read.
        """
        if not os.path.lexists(self.info.home / layout.OPAQUE_RECORDS):
            return
        header = parse_header(read_bytes(self.info.home / layout.HEADER) or b"")
        verify_mac(header, self._keys)
        if header.keyring_id != self.info.keyring_id:
            raise KeyringCorruptError(f"keyring file '{layout.HEADER}' was replaced")
        self.naming = layout.Naming(self.info.home, header.schema_version, self._keys.names)
        self.info = self.info._replace(schema_version=header.schema_version)

    def _needs_recovery(self) -> bool:
        return journal.needs_recovery(self.info.home) or migration.leftover(self.naming) is not None

    def _migrate_if_needed(self) -> None:
        if not self.naming.opaque:
            self._migrate()

    def _migrate(self) -> None:
        """Give a schema-1 keyring opaque record names (see migration). Exclusive lock held,
        journal recovered."""
        try:
            self.naming = migration.migrate(self.naming, self._keys)
        except OSError as exc:
            raise io_error(self.info.home, exc, "upgrade the keyring in") from None
        self.info = self.info._replace(schema_version=self.naming.schema)

    def recover_if_needed(self) -> None:
        if self._needs_recovery():
            with self._locked(exclusive=True):
                pass  # _locked recovers under the exclusive lock

    @contextlib.contextmanager
    def read(self) -> Iterator[RecordView]:
        """A consistent view of the records; holds the shared lock until the block ends.
        Inside an operation that has written, the operation's own transaction."""
        operation = self._operation
        if operation is not None and operation.tx is not None:
            yield operation.tx
            return
        with self._locked(exclusive=False):
            view = RecordView(self)
            try:
                yield view
            finally:
                view._live = False

    @contextlib.contextmanager
    def write(self) -> Iterator[Transaction]:
        """A transaction under the exclusive lock: commits atomically (with the events given
        to `Transaction.audit`) when the block ends normally, and is discarded when it raises.
        Inside an operation, the block adds to the operation's transaction, which commits
        when the operation finishes; a block that raises takes back only its own changes."""
        operation = self._operation
        if operation is not None:
            tx = operation.transaction()
            mark = tx._mark()
            try:
                yield tx
            except BaseException:
                tx._rewind(mark)
                raise
            return
        with self._locked(exclusive=True):
            self._migrate_if_needed()
            tx = Transaction(self)
            try:
                yield tx
            except BaseException:
                tx._live = False
                raise
            tx._live = False
            self._commit(tx)

    @contextlib.contextmanager
    def operation(self) -> Iterator[Operation]:
        """A scope in which writes are held until `Operation.finish(event)` commits them with
        `event` (see the module doc). Not nestable; whatever is not finished is discarded."""
        if self._operation is not None or self._busy:
            raise KMSInternalException("keyring operations do not nest")
        operation = Operation(self)
        self._operation = operation
        try:
            yield operation
        finally:
            self._operation = None
            operation.close()

    def _commit(self, tx: Transaction) -> None:
        """Commit `tx` and its events. Exclusive lock held."""
        ops = tx._ops()
        try:
            if ops:
                anchored = self.audit_anchor(RecordView(self)) if tx._events else None
                log = self._audit_log()
                journal.commit(self.naming, self._keys, ops, tx._events, log, anchored)
                return
        except OSError as exc:
            raise io_error(self.info.home, exc, "write the keyring in") from None
        for event in tx._events:
            self._audit_log().append(event)

    # -- the audit trail -----------------------------------------------------------------------

    def _audit_log(self) -> AuditLog:
        return AuditLog(
            self.info.home, self._keys.audit, self.info.keyring_id, self._keys.audit_seal
        )

    def append_audit(self, event: bytes) -> int | None:
        """Append the event of an operation that changed nothing (under the shared lock, so
        after any crash recovery); its sequence number, None on a read-only keyring."""
        if self._busy:  # inside a transaction of this process: its lock already excludes
            return self._audit_log().append(event)
        with self._locked(exclusive=False):
            return self._audit_log().append(event)

    def audit_anchor(self, view: RecordView) -> Position | None:
        """The audit record of the keyring's last change (None: no change anchored yet)."""
        data = view.get(anchor.KIND, anchor.NAME)
        return None if data is None else anchor.decode(data)

    def verify_audit(self) -> AuditReport:
        """Verify the audit trail, and that it still holds the record of the last change."""
        with self.read() as view:
            found = self.audit_anchor(view)
            return self._audit_log().verify(found)

    # -- sealing key material ------------------------------------------------------------------

    def fingerprint(self, label: bytes, data: bytes) -> bytes:
        """A keyed hash of `data` that only holders of this keyring's root key can compute or
        test guesses against (HMAC-SHA256 under the fingerprint subkey, domain-separated by
        `label`)."""
        return hmac_sha256(self._keys.fingerprint, label + b"\x00" + data)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt key material under the keyring; `aad` must be given again to unseal."""
        return _SEAL_VERSION + aes_gcm_seal(self._keys.seal, plaintext, _SEAL_LABEL + aad)

    def unseal(self, sealed: bytes, aad: bytes, *, where: str) -> bytes:
        if sealed[:1] > _SEAL_VERSION:
            raise versions.newer(where, sealed[0], _SEAL_VERSION[0])
        if sealed[:1] == _SEAL_VERSION:
            try:
                return aes_gcm_open(self._keys.seal, sealed[1:], _SEAL_LABEL + aad)
            except AuthenticationError:
                pass
        raise KeyringCorruptError(
            f"{where} failed its integrity check (altered, or sealed for something else)",
            hints=["restore the keyring directory from a backup"],
        )

    # -- verify --------------------------------------------------------------------------------

    def verify_all(self) -> list[str]:
        """Check every keyring file; one line per problem (empty: all good).

        Runs under the exclusive lock, so it also finishes an interrupted transaction and
        removes leftover temporary files first.
        """
        with self._locked(exclusive=True, recover=False):
            try:
                return self._verify_locked()
            except OSError as exc:
                raise io_error(self.info.home, exc, "verify the keyring in") from None

    def _verify_locked(self) -> list[str]:
        problems: list[str] = []
        try:
            self._recover()
        except KeyringCorruptError as exc:
            problems.append(exc.message)
        problems.extend(self._verify_content())
        problems.extend(self._verify_modes())
        return problems

    def _verify_content(self) -> list[str]:
        """The header, the entries of home and every record (not the modes). Needs a lock
        (shared is enough: it only reads)."""
        problems: list[str] = []
        home = self.info.home
        try:
            header = parse_header(read_bytes(home / layout.HEADER) or b"")
            verify_mac(header, self._keys)
            if header.keyring_id != self.info.keyring_id:
                problems.append(f"keyring file '{layout.HEADER}' was replaced")
        except KeyringError as exc:
            problems.append(exc.message)
        for entry in sorted(os.listdir(home)):
            if entry not in _KNOWN_HOME_ENTRIES and not entry.startswith(layout.TEMP_PREFIX):
                problems.append(f"unexpected file '{entry}' in the keyring")
        problems.extend(self._verify_records())
        return problems

    def _verify_modes(self) -> list[str]:
        """Group/other access to anything in the keyring (kmscli creates 0700/0600 only)."""
        home = self.info.home
        problems = _mode_problem(home, home, 0o700)
        for directory, subdirs, files in os.walk(home):
            top = Path(directory)
            for name in subdirs:
                problems.extend(_mode_problem(home, top / name, 0o700))
            for name in files:
                problems.extend(_mode_problem(home, top / name, 0o600))
        return problems

    def _verify_records(self) -> list[str]:
        home = self.info.home
        records = self.naming.records_dir
        problems: list[str] = []
        try:
            kinds = sorted(os.listdir(records))
        except FileNotFoundError:
            return [f"keyring directory '{layout.relative(home, records)}' is missing"]
        view = RecordView(self)
        for kind in kinds:
            directory = records / kind
            try:
                layout.check_kind(kind)
            except ValidationException:
                problems.append(f"unexpected file '{layout.relative(home, directory)}'")
                continue
            if not directory.is_dir():
                problems.append(f"unexpected file '{layout.relative(home, directory)}'")
                continue
            for filename in sorted(os.listdir(directory)):
                path = directory / filename
                where = layout.relative(home, path)
                if filename.startswith(layout.TEMP_PREFIX):
                    continue
                if not self.naming.is_record_filename(filename):
                    problems.append(f"keyring file '{where}' is not a record file name")
                    continue
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    problems.append(f"keyring file '{where}' is not a regular file")
                    continue
                try:
                    view._read_record(directory, kind, filename)
                except KeyringError as exc:
                    problems.append(exc.message)
        return problems


def _mode_problem(home: Path, path: Path, expected: int) -> list[str]:
    mode = stat.S_IMODE(os.lstat(path).st_mode)
    if not mode & 0o077:
        return []
    where = "." if path == home else layout.relative(home, path)
    return [
        f"keyring file '{where}' is accessible by group or others"
        f" (mode {mode:04o}, expected {expected:04o})"
    ]


# -- opening and creating ------------------------------------------------------------------------


def keyring_exists(home: Path) -> bool:
    return (Path(home) / layout.HEADER).is_file()


def _check_home(home: Path) -> bool:
    """True if `home` is an existing directory, False if missing; InputOutputError otherwise."""
    try:
        mode = os.stat(home).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise io_error(home, exc, "access keyring directory") from None
    if not stat.S_ISDIR(mode):
        raise InputOutputError(f"keyring location '{home}' exists and is not a directory")
    return True


def _random_account_id() -> str:
    number = int.from_bytes(random_bytes(8), "big") % (9 * 10**11)
    return str(10**11 + number)


def _default_key_path(root_key_dir: Path, keyring_id: str) -> Path:
    return root_key_dir / f"{keyring_id}.key"


def _initialise(
    home: Path,
    *,
    root_key_file: Path | None,
    root_key_dir: Path,
    account_id: str | None,
    passphrase: bytes | None,
) -> Keyring:
    """Create the keyring files in `home`. Caller holds the exclusive lock; no header yet."""
    if account_id is None:
        account_id = _random_account_id()
    elif not (len(account_id) == 12 and account_id.isascii() and account_id.isdigit()):
        raise ValidationException(f"invalid account id {account_id!r}: expected 12 digits")
    if passphrase is not None and not passphrase:
        raise ValidationException("the keyring passphrase must not be empty")
    unexpected = [
        entry
        for entry in os.listdir(home)
        if entry not in _KNOWN_HOME_ENTRIES and not entry.startswith(layout.TEMP_PREFIX)
    ]
    if unexpected:
        raise InputOutputError(
            f"'{home}' is not empty and holds no keyring; refusing to create one there",
            hints=["choose another keyring location (KMSCLI_HOME or --home)"],
        )
    keyring_id = random_bytes(16).hex()
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    root_key = new_root_key()
    kdf: Argon2Params | None = None
    wrapped: bytes | None = None
    key_path: Path | None = None
    if passphrase is None:
        key_path = root_key_file or _default_key_path(root_key_dir, keyring_id)
        root_key = create_key_file(key_path, root_key)
    else:
        kdf = Argon2Params.fresh()
        wrapped = wrap_root_key(root_key, passphrase, kdf, keyring_id)
    keys = derive(root_key, keyring_id)
    fields = body_fields(
        keyring_id=keyring_id,
        account_id=account_id,
        created=created,
        protection=KEY_FILE if passphrase is None else PASSPHRASE,
        key_check=key_check_value(keys),
        kdf=kdf,
        wrapped_root_key=wrapped,
    )
    make_dirs(home / layout.OPAQUE_RECORDS)
    # The header goes last: its presence is what makes the directory a keyring.
    write_atomic(home / layout.HEADER, encode_header(fields, keys))
    info = KeyringInfo(
        home=home,
        keyring_id=keyring_id,
        account_id=account_id,
        protection=fields["protection"],
        schema_version=fields["schema_version"],
        root_key_file=key_path,
        created=created,
        kdf=kdf,
    )
    return Keyring(info, keys)


def _create(
    home: Path,
    *,
    root_key_file: Path | None,
    root_key_dir: Path,
    account_id: str | None,
    passphrase: bytes | None,
    must_be_new: bool,
) -> Keyring | None:
    """Initialise under the exclusive lock; None if another process got there first."""
    try:
        make_dirs(home)
        with FileLock(home / layout.LOCK) as lock:
            lock.exclusive()
            if keyring_exists(home):
                if must_be_new:
                    raise AlreadyExistsException(
                        f"a keyring already exists at '{home}'",
                        hints=["use it as it is, or choose another location"],
                    )
                return None
            return _initialise(
                home,
                root_key_file=root_key_file,
                root_key_dir=root_key_dir,
                account_id=account_id,
                passphrase=passphrase,
            )
    except OSError as exc:
        raise io_error(home, exc, "create the keyring in") from None


def init_keyring(
    home: Path,
    *,
    root_key_file: Path | None,
    root_key_dir: Path,
    account_id: str | None = None,
    passphrase: bytes | None = None,
) -> Keyring:
    """Create a keyring at `home`: key-file mode, or passphrase mode when `passphrase` is given.

    AlreadyExistsException if `home` already holds one.
    """
    home = Path(home)
    _check_home(home)
    created = _create(
        home,
        root_key_file=root_key_file,
        root_key_dir=root_key_dir,
        account_id=account_id,
        passphrase=passphrase,
        must_be_new=True,
    )
    if created is None:  # cannot happen: with must_be_new, _create raises instead
        raise KMSInternalException("keyring creation raced with itself")
    return created


def _root_key(
    header: Header,
    subject: str,
    *,
    root_key_file: Path | None,
    root_key_dir: Path,
    passphrase: Callable[[], bytes | None],
) -> tuple[bytes, Path | None]:
    if header.protection == KEY_FILE:
        path = root_key_file or _default_key_path(root_key_dir, header.keyring_id)
        return load_key_file(path, expected_for=subject), path
    if header.kdf is None or header.wrapped_root_key is None:  # parse_header guarantees both
        raise KMSInternalException("passphrase header without its Argon2id parameters")
    secret = passphrase()
    if secret is None:
        raise KeyringLockedError(
            f"passphrase needed: {subject} is passphrase-protected",
            hints=PASSPHRASE_HINTS,
        )
    return unwrap_root_key(header.wrapped_root_key, secret, header.kdf, header.keyring_id), None


def unlock(
    header: Header,
    subject: str,
    *,
    root_key_file: Path | None,
    root_key_dir: Path,
    passphrase: Callable[[], bytes | None],
) -> tuple[Subkeys, Path | None]:
    """The subkeys of the keyring `header` (parsed) describes, and its root key file (None in
    passphrase mode): the root key found, checked against the key-check value, and the header
    MAC verified. `subject` names the keyring in messages ("the keyring at '/x'").

    Shared by opening a keyring and restoring a backup, which carries the header as it is.
    """
    root_key, key_path = _root_key(
        header,
        subject,
        root_key_file=root_key_file,
        root_key_dir=root_key_dir,
        passphrase=passphrase,
    )
    keys = derive(root_key, header.keyring_id)
    if not key_check_matches(keys, header.key_check):
        if key_path is None:
            raise KeyringLockedError("wrong passphrase for the keyring", hints=PASSPHRASE_HINTS)
        raise KeyringLockedError(
            f"root key file '{key_path}' does not belong to {subject}",
            hints=[f"this keyring's own root key file is named '{header.keyring_id}.key'"],
        )
    verify_mac(header, keys)
    return keys, key_path


def unlocked_keyring(home: Path, header: Header, keys: Subkeys, key_path: Path | None) -> Keyring:
    """The Keyring object for `home`, whose header `unlock` accepted."""
    info = KeyringInfo(
        home=home,
        keyring_id=header.keyring_id,
        account_id=header.account_id,
        protection=header.protection,
        schema_version=header.schema_version,
        root_key_file=key_path,
        created=header.created,
        kdf=header.kdf,
    )
    return Keyring(info, keys)


def open_keyring(
    home: Path,
    *,
    root_key_file: Path | None,
    root_key_dir: Path,
    passphrase: Callable[[], bytes | None],
    create: bool = True,
) -> Keyring:
    """Open the keyring at `home`. With `create`, a missing one is initialised in key-file
    mode with a random account id; without, NotFoundException."""
    home = Path(home)
    exists = _check_home(home)
    header_path = home / layout.HEADER
    try:
        data = read_bytes(header_path) if exists else None
    except OSError as exc:
        raise io_error(header_path, exc, "read keyring file") from None
    if data is None:
        if not create:
            raise NotFoundException(f"no keyring at '{home}'", hints=["run 'kmscli keyring init'"])
        made = _create(
            home,
            root_key_file=root_key_file,
            root_key_dir=root_key_dir,
            account_id=None,
            passphrase=None,
            must_be_new=False,
        )
        if made is not None:
            return made
        try:
            data = read_bytes(header_path) or b""
        except OSError as exc:
            raise io_error(header_path, exc, "read keyring file") from None
    header = parse_header(data)
    keys, key_path = unlock(
        header,
        f"the keyring at '{home}'",
        root_key_file=root_key_file,
        root_key_dir=root_key_dir,
        passphrase=passphrase,
    )
    keyring = unlocked_keyring(home, header, keys, key_path)
    keyring.recover_if_needed()
    return keyring
