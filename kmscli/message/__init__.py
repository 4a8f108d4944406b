"""AWS Encryption SDK message format: pure encode/parse and streaming frame codec."""
