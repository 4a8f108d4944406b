"""AWS Encryption SDK message format: pure encode/parse and streaming frame codec.

`suites` (the suite table, commitment policies), `context` (encryption-context bytes),
`header` (v2 serialize, v1/v2 parse, EncryptedDataKey), `frames` (body layout, IVs, AAD),
`pipeline` (bounded, threaded chunk I/O), `encoder` (MessageEncryptor), `decoder`
(MessageDecryptor), `inspect` (describe a header). Crypto comes from `kmscli.crypto.framing`;
nothing here prints, reads the environment or wraps data keys.
"""
