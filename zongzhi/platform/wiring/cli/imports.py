"""``zongzhi import KIND FILE``: load a county's master data and registry, and print the report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zongzhi.platform.wiring.cli.command import command, group
from zongzhi.platform.wiring.cli.context import Run

#: The kinds in the order a county loads them.
KINDS = ("centers", "departments", "grids", "users", "residents", "units")
HELP = {
    "centers": "the center tree from a division-code CSV (code, name[, level, parent, active])",
    "departments": "departments and where they are stationed (code, name, kind[, stationed_at, residence])",
    "grids": "grid (and village) boundaries from GeoJSON; the file or --datum says wgs84, gcj02 or cgcs2000",
    "users": "staff accounts (username, display_name, roles[, center, department, grids, specialties, "
    "title])",
    "residents": "people in houses (house_code, address, grid, name, id_number[, phone, role, relation, "
    "tags])",
    "units": "enterprises, shops, schools (credit_code, name, kind, grid[, address, contact_name, "
    "contact_phone])",
}
FILE_HELP = "the file to import (CSV in UTF-8, or GeoJSON for grids)"


async def run_import(run: Run, kind: str, path: str, datum: str | None = None) -> int:
    from zongzhi.platform.imports import centers, grids, registry, staff
    from zongzhi.platform.imports.common import ImportRefused

    if not Path(path).is_file():
        print(f"zongzhi import {kind}: no file {path}", file=sys.stderr)
        return 2
    functions = {
        "centers": centers.import_centers,
        "departments": staff.import_departments,
        "users": staff.import_users,
        "residents": registry.import_residents,
        "units": registry.import_units,
    }
    async with run.database():
        try:
            if kind == "grids":
                report = await grids.import_grids(run.actor(), path, datum)
            else:
                report = await functions[kind](run.actor(), path)
        except ImportRefused as refused:
            print("\n".join(refused.report.lines()), file=sys.stderr)
            return 1
    print("\n".join(report.lines()))
    return 0


def _import_command(kind: str) -> click.Command:
    if kind == "grids":

        @command(kind, help=HELP[kind])
        @click.argument("file", help=FILE_HELP)
        @click.option(
            "--datum",
            type=click.Choice(["wgs84", "gcj02", "cgcs2000"]),
            help="datum, if the file does not say",
        )
        async def grids(run: Run, file: str, datum: str | None) -> int:
            return await run_import(run, kind, file, datum)

        return grids

    @command(kind, help=HELP[kind])
    @click.argument("file", help=FILE_HELP)
    async def rows(run: Run, file: str) -> int:
        return await run_import(run, kind, file)

    return rows


def import_group() -> click.Group:
    return group(
        "import",
        "load a county's master data and registry (all-or-nothing, idempotent)",
        [_import_command(kind) for kind in KINDS],
    )
