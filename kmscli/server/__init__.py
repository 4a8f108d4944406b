"""`kmscli serve`: the keyring as a local AWS KMS endpoint (JSON 1.1 protocol, SigV4).

The package is imported only by the serve and principal commands, never on kmscli's start-up
path. Its rooms, each with one job:

- `protocol`: JSON 1.1 bodies in and out (Base64 blobs, epoch-second timestamps, AWS error
  bodies and HTTP statuses). Knows nothing of HTTP or of the service.
- `operations`: the one table from `TrentService.<Operation>` to the KmsService call.
- `sigv4`: verifying an AWS Signature Version 4 request. Pure: given the request and a way to
  find a secret, it returns who signed or raises.
- `access_keys`: access key records in the keyring (secrets sealed), each mapped to a principal.
- `wire`: reading an HTTP/1.1 request head and its Content-Length, within fixed bounds.
- `connections`: how many connections are served at once, which one a newcomer replaces, and
  the deadlines every request is read under.
- `app`: the accept loop, one HTTP/1.1 exchange after another on each connection, a pool of
  handles on the keyring unlocked once, one KmsService per request, clean shutdown.

Nothing here prints, reads the environment or exits: the CLI hands in the opened keyring, the
clocks, the address and the limits, and does the printing.
"""
