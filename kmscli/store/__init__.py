"""The keyring directory: records, locking, atomic writes, root-key protection.

The KMS layer uses only what is re-exported here; the submodules are internal:
`layout` (paths, names), `keyringfiles` (the keyring's temp names, modes and errors over
`kmscli.files`, which does the durable writing), `lock` (flock), `rootkey` (key file,
passphrase), `subkeys` (HKDF schedule), `header`, `records`, `journal` (transactions, recovery),
`auditlog` (the MAC-chained audit trail), `backup` (archives of a whole keyring; imported from
`kmscli.store.backup` directly, so no other command pays for it at start-up) and `keyring`
(the API below).
"""

from kmscli.store.auditlog import AuditEntry, AuditLog, AuditReport, audit_log
from kmscli.store.keyring import (
    Keyring,
    KeyringInfo,
    RecordView,
    Transaction,
    init_keyring,
    keyring_exists,
    open_keyring,
)

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditReport",
    "Keyring",
    "KeyringInfo",
    "RecordView",
    "Transaction",
    "audit_log",
    "init_keyring",
    "keyring_exists",
    "open_keyring",
]
