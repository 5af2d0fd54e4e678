"""``zongzhi report``: the analysis report (分析研判报告) of a center's subtree for a period."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zongzhi.platform.base.errors import ServiceError, UsageError
from zongzhi.platform.base.progress import Progress
from zongzhi.platform.wiring.cli.command import command
from zongzhi.platform.wiring.cli.context import Run


@command("report", help="write the analysis report of a center and its subtree for a period")
@click.option("--center", required=True, help="12-digit code of the center")
@click.option("--period", required=True, help="2026, 2026-Q3, 2026-10, 2026-W41 or 2026-10-05")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "pdf"]), default="md", help="output format")
@click.option("--output", "-o", help="file ('-': stdout); default report-CODE-PERIOD.FMT")
@click.option(
    "--people",
    type=click.Choice(["none", "masked", "full"]),
    default="none",
    help="also list parties to repeated cases, ID and phone numbers masked or in full (full is audited)",
)
async def report(run: Run, center: str, period: str, fmt: str, output: str | None, people: str) -> int:
    """md, csv or pdf, to a file or stdout; the period is checked before the database is opened."""
    from zongzhi.platform.models import Center
    from zongzhi.platform.reports import build_report, render
    from zongzhi.platform.stats import parse_period, scope_of_center

    try:
        when = parse_period(period)
    except ServiceError as exc:
        raise UsageError(f"--period: {exc.message}") from exc
    async with run.database():
        center_row = await Center.get_or_none(code=center)
        if center_row is None:
            raise UsageError(f"no center with code {center}")
        with Progress.start(f"report {when.label}", 2) as bar:
            built = await build_report(await scope_of_center(center_row), when, people=people)
            bar.advance()
            if people == "full" and built.parties:
                from zongzhi.platform.domain.audit import record_reveal

                await record_reveal(
                    None,
                    [p.person_id for p in built.parties],
                    "cli",
                    command="report",
                    center=center,
                    period=when.label,
                    by=run.actor().display,
                )
            data = render(built, fmt)
            bar.advance()
    output = output or f"report-{center}-{when.label}.{fmt}"
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(output).write_bytes(data)
        print(f"wrote {output}")
    return 0
