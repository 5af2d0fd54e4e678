"""``zongzhi audit verify``: check the audit log's hash chain."""

from __future__ import annotations

import sys

import click

from zongzhi.platform.wiring.cli.command import command, group
from zongzhi.platform.wiring.cli.context import Run


@command(
    "verify",
    help="check the audit log's hash chain; exit 1 and name the first broken row if it fails",
    database=True,
)
async def verify(run: Run) -> int:
    from zongzhi.platform.domain.audit import verify

    result = await verify()
    if result.unchained:
        print(f"{result.unchained} row(s) from before the chain began are not covered")
    if not result.ok:
        where = f"row id {result.broken_id}" if result.broken_id is not None else "the chain head"
        seq = f" (seq {result.broken_seq})" if result.broken_seq is not None else ""
        print(
            f"audit chain BROKEN at {where}{seq}: {result.problem}; "
            f"{result.checked} row(s) before it verified",
            file=sys.stderr,
        )
        return 1
    print(f"audit chain intact: {result.checked} row(s), last seq {result.last_seq}, hash {result.last_hash}")
    return 0


def audit_group() -> click.Group:
    return group("audit", "the audit log", [verify])
