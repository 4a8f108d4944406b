"""The keyring directory: records, locking, atomic writes, root-key protection."""
