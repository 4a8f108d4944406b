"""The local KMS: one method per KMS operation."""
