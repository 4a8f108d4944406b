"""kmscli: envelope encryption of files backed by a local keyring that behaves like AWS KMS.

This module holds the version only and imports nothing, so `kmscli --version` stays fast.
"""

__version__ = "0.1.0"
