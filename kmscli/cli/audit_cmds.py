"""`kmscli audit`: list the keyring's audit trail, or verify its MAC chain.

Owns rendering the events (a table, or CloudTrail's `{"Records": [...]}` with --json) and the
verification report (exit 7 when the log was edited, cut, reordered, or no longer holds the
record of the keyring's last change). Reading, filtering and verifying are `kmscli.kms.audit`'s;
the file format is the store's.
"""

from __future__ import annotations

from typing import Any

import click

from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_line, emit_table, notice
from kmscli.cli.params import KEY
from kmscli.cli.root import cli
from kmscli.errors import AuditLogIntegrityError


def _resources(event: dict[str, Any]) -> str:
    arns = [r.get("ARN", "") for r in event.get("resources") or () if isinstance(r, dict)]
    return ",".join(a for a in arns if a)


@command(cli, "audit")
@click.option(
    "--key", type=KEY, metavar="KEY", help="Only events about this key (ID, ARN or alias)."
)
@click.option("--since", metavar="ISO8601", help="Only events at or after this instant.")
@click.option(
    "--verify", is_flag=True, help="Check the MAC chain and its anchor instead of listing."
)
def audit(key: str | None, since: str | None, verify: bool) -> None:
    """List the audit trail of every KMS operation, or verify that it is intact.

    Every operation, allowed or denied, appends a CloudTrail-like event: eventTime,
    eventName, userIdentity, awsRegion, requestParameters (never plaintext, blobs, data keys
    or grant tokens), the key ARN in resources, and errorCode/errorMessage when it failed.
    Events are sealed and chained by a MAC under keys derived from the keyring's root key, so
    the log file reveals nothing but their number and sizes, and --verify detects an edited,
    removed, reordered or cut-off record (exit 7). A change and its event are committed
    together or not at all, and the keyring records the event of its last change, so --verify
    also reports a trail removed or cut back past it. Reading the trail needs no key
    permission.

    \b
    Example:
      kmscli audit --key alias/backups --since 2027-01-01T00:00:00Z
      kmscli audit --verify
    """
    from kmscli.kms import audit as trail

    env = environment()
    service = env.local_service
    if verify:
        report = trail.verify_trail(service.keyring)
        document = {
            "Verified": report.ok,
            "Records": report.records,
            "HeadSeq": report.head_seq,
            "HeadMac": report.head_mac,
            "Problems": list(report.problems),
            "Notes": list(report.notes),
        }
        for line in report.notes:
            notice(env, line)
        if env.json:
            emit_json(document)
        elif report.ok:
            head = f", head {report.head_seq} {report.head_mac}" if report.head_seq else ""
            emit_line(f"audit log intact: {report.records} records{head}")
        if not report.ok:
            raise AuditLogIntegrityError(
                f"the audit log failed verification ({len(report.problems)} "
                f"problem{'s' if len(report.problems) != 1 else ''})",
                hints=list(report.problems),
            )
        return
    events = trail.read_events(
        service, key=key, since=trail.parse_since(since) if since is not None else None
    )
    if env.json:
        emit_json({"Records": events})
        return
    rows = [
        (
            event.get("eventTime", ""),
            event.get("eventName", ""),
            (event.get("userIdentity") or {}).get("arn", ""),
            _resources(event),
            event.get("errorCode", ""),
        )
        for event in events
    ]
    emit_table(["EventTime", "EventName", "Caller", "Resources", "ErrorCode"], rows)
