"""``zongzhi db migrate`` and ``zongzhi calendar load``: the database's schema and its calendar."""

from __future__ import annotations

from pathlib import Path

import click

from zongzhi.platform.base.errors import UsageError
from zongzhi.platform.wiring.cli.command import command, group
from zongzhi.platform.wiring.cli.context import Run


@command("migrate", help="apply pending migrations")
async def migrate(run: Run) -> int:
    await run.migrate()
    print("database is up to date")
    return 0


@command("load", help="load a year's official holidays and make-up workdays from YAML")
@click.argument(
    "file",
    help="YAML: year: 2027, holidays: [2027-01-01, ...], workdays: [2027-02-07, ...], "
    "festivals: {spring_festival: 2027-02-05, ...} (the first day of each festival's holiday)",
)
async def calendar_load(run: Run, file: str) -> int:
    import yaml

    from zongzhi.platform.base.errors import ValidationFailed
    from zongzhi.platform.domain.workdays import festival_first_days, load_official_days, official_year
    from zongzhi.platform.rules.fact_time import FESTIVALS

    data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    try:
        days = official_year(
            int(data["year"]), list(data.get("holidays", [])), list(data.get("workdays", []))
        )
        festivals = festival_first_days(
            int(data["year"]), list(data.get("holidays", [])), dict(data.get("festivals") or {}), FESTIVALS
        )
    except (KeyError, TypeError, ValueError, ValidationFailed) as exc:
        raise UsageError(f"{file}: {getattr(exc, 'message', exc)}") from exc
    async with run.database():
        print(f"stored {await load_official_days(days, festivals)} days for {data['year']}")
    return 0


def db_group() -> click.Group:
    return group("db", "database commands", [migrate])


def calendar_group() -> click.Group:
    return group("calendar", "the working-day calendar", [calendar_load])
