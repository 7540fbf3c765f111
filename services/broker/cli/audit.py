"""`cdo-broker audit verify|anchor`: the audit log's chains walked; their heads printed, to keep."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from broker.cli.runner import Commands, command, command_group, in_transaction
from broker.settings import BrokerSettings


def _audit_verify(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.audit.verification import Verdict, verify

    anchors = []
    for path in args.anchor or ():
        try:
            anchors.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"cdo-broker: cannot read the anchor {path}: {exc}", file=sys.stderr)
            return 2

    async def work(session: AsyncSession) -> Verdict:
        return await verify(session, anchors)

    verdict: Verdict = in_transaction(settings, work)
    if verdict.ok:
        print(f"audit log intact: {verdict.rows} rows, {len(anchors)} anchor(s) held")
        return 0
    print(
        f"audit log BROKEN at row {verdict.broken_at}: {verdict.reason} ({verdict.rows} rows read)",
        file=sys.stderr,
    )
    return 1


def _audit_anchor(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.audit.verification import anchor

    print(json.dumps(in_transaction(settings, anchor), indent=2))
    return 0


def add(commands: Commands) -> None:
    audit_commands = command_group(commands, "audit", "the hash-chained audit log")
    verify = command(
        audit_commands,
        "verify",
        _audit_verify,
        help="exit 1 if any row was edited or removed",
        description="Walks every chain of the audit log with the keys of AUDIT_KEY; with "
        "--anchor, also checks that each chain still holds the heads an earlier `audit anchor` "
        "printed, so that rows removed from the end of a chain show.",
    )
    verify.add_argument(
        "--anchor", metavar="FILE", action="append", help="an `audit anchor` output (repeatable)"
    )
    command(
        audit_commands,
        "anchor",
        _audit_anchor,
        help="print each chain's head, the row count and the time as JSON, to keep",
    )
