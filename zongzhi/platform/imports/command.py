"""``zongzhi import KIND FILE``: run one import as the command line and print its report."""

from __future__ import annotations

import sys
from pathlib import Path

from zongzhi.platform.base.settings import Settings
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.imports.common import ImportRefused
from zongzhi.platform.models import db

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


def cli_actor() -> Actor:
    import getpass

    return Actor.system_actor(f"命令行 cli:{getpass.getuser()}")


async def run(kind: str, path: str, settings: Settings, datum: str | None = None) -> int:
    from zongzhi.platform.imports import centers, grids, registry, staff

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
    await db.init(settings)
    try:
        if kind == "grids":
            report = await grids.import_grids(cli_actor(), path, datum)
        else:
            report = await functions[kind](cli_actor(), path)
    except ImportRefused as refused:
        print("\n".join(refused.report.lines()), file=sys.stderr)
        return 1
    finally:
        await db.close()
    print("\n".join(report.lines()))
    return 0
