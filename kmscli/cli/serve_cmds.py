"""`kmscli serve`: the keyring as a local AWS KMS endpoint for boto3, the AWS CLI and the SDKs.

Owns the command's options (address, connection cap, request deadline), the open-files limit
they need, the start-up and shutdown messages, and the signals: SIGINT and SIGTERM stop the
server cleanly (requests in flight finish, a request still arriving has until its deadline)
and the command exits 0. The server itself is `kmscli.server.app`, imported only here so that
no other command pays for it.
"""

from __future__ import annotations

import sys

import click

from kmscli.cli.options import command, environment
from kmscli.cli.output import diagnostic, notice, warning
from kmscli.cli.root import cli
from kmscli.errors import ValidationException

DEFAULT_PORT = 8750
DEFAULT_MAX_CONNECTIONS = 128
DEFAULT_REQUEST_TIMEOUT = 5.0
FILES_PER_CONNECTION = 3  # its socket, one waiting for its slot, a keyring lock file
SPARE_FILES = 64


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ensure_open_files(max_connections: int) -> None:
    """Raise the soft limit on open files to what --max-connections needs, or refuse."""
    import resource

    needed = max_connections * FILES_PER_CONNECTION + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise ValidationException(
            f"--max-connections {max_connections} needs {needed} open files, over the limit "
            f"of {hard}",
            hints=["lower --max-connections, or raise the limit (ulimit -n)"],
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _stderr(line: str) -> None:
    diagnostic(line)  # a request's data is a stranger's: its controls are escaped
    sys.stderr.flush()


@command(cli, "serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRESS",
    help="Address to listen on; anything but loopback is warned about.",
)
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one (the URL printed says which).",
)
@click.option(
    "--max-connections",
    default=DEFAULT_MAX_CONNECTIONS,
    show_default=True,
    type=click.IntRange(1, 4096),
    metavar="N",
    help="Connections served at once; past it, a new connection takes the slot of one "
    "waiting for a request, or waits a second for a busy slot and is answered 503.",
)
@click.option(
    "--request-timeout",
    default=DEFAULT_REQUEST_TIMEOUT,
    show_default=True,
    type=click.FloatRange(0.5, 300),
    metavar="SECONDS",
    help="Time a request has, from its first byte, to arrive whole (headers and body).",
)
def serve(host: str, port: int, max_connections: int, request_timeout: float) -> None:
    """Serve the keyring as an AWS KMS endpoint (JSON 1.1 protocol, SigV4).

    Any KMS client (boto3, the AWS CLI, the AWS Encryption SDK, other SDKs) can use the
    keyring through --endpoint-url: requests must be signed with an access key made by
    kmscli principal access-key create (Host, X-Amz-Date, X-Amz-Target and Content-Type
    among the signed headers, as the AWS SDKs sign them), and run as that key's principal,
    with the key policies, IAM policies and grants enforced and every call in the audit
    trail. The region is the one the request is signed for. Prints the endpoint URL on
    stdout; SIGINT or SIGTERM stop it after the requests in flight have finished (a request
    still arriving has until --request-timeout). -v logs every request.

    A request must arrive whole within --request-timeout of its first byte, its headers
    within 32 KiB and its body within 1 MiB; an idle connection is closed after 10 seconds.

    \b
    Example:
      kmscli principal access-key create arn:aws:iam::111122223333:user/alice
      kmscli serve --port 8750 &
      aws kms list-keys --endpoint-url http://127.0.0.1:8750
    """
    import signal
    import threading

    from kmscli.server.access_keys import list_access_keys
    from kmscli.server.app import Application, KeyringPool, make_server
    from kmscli.server.connections import Limits

    env = environment()
    _ensure_open_files(max_connections)
    first = env.open_keyring()
    application = Application(
        pool=KeyringPool(first),
        clock=env.now,
        log=_stderr,
        access_log=_stderr if env.verbose else None,
    )
    limits = Limits(max_connections=max_connections, request_timeout=request_timeout)
    if not _is_loopback(host):
        warning(env, f"listening on {host}: kmscli serve is reachable from other machines")
    no_keys = not list_access_keys(first)["AccessKeyMetadata"]
    server = make_server(host, port, application, limits)
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    runner = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="kmscli-serve"
    )
    runner.start()
    try:
        sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        notice(env, f"serving {env.home} as AWS KMS on {server.url} (Ctrl-C to stop)")
        if no_keys:
            notice(env, "hint: no access keys yet: kmscli principal access-key create ARN")
        while not stop.wait(0.5):
            pass
        notice(env, "stopping: finishing the requests in flight")
    finally:
        server.stop()
        runner.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    notice(env, "stopped")
