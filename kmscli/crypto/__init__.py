"""The only importers of `cryptography`: primitives for the keyring, blobs and messages."""
