"""``zongzhi import centers divisions.csv``: the center tree from the county's division codes.

Columns: ``code`` (12-digit 统计用区划代码), ``name``, and optionally ``level`` (province, city,
county, township, village — else read from the code's zero tail), ``parent`` (the parent's code —
else the code with its last level zeroed, when that center exists) and ``active`` (1/0).
"""

from __future__ import annotations

from pathlib import Path

from tortoise.transactions import in_transaction

from zongzhi.platform.base.codes import CenterLevel
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.admin_scope import manages
from zongzhi.platform.imports.common import ImportReport, Problem, read_csv, record, refuse_if_bad
from zongzhi.platform.models import Center
from zongzhi.platform.services.masterdata import AREA_CODE
from zongzhi.platform.services.org import create_center

#: (level, how many leading digits are its own) for the code's layout: 2+2+2+3+3.
_LAYOUT = [
    (CenterLevel.province, 2),
    (CenterLevel.city, 4),
    (CenterLevel.county, 6),
    (CenterLevel.township, 9),
    (CenterLevel.village, 12),
]


def level_of_code(code: str) -> CenterLevel:
    for level, digits in _LAYOUT:
        if set(code[digits:]) <= {"0"}:
            return level
    return CenterLevel.village


def parent_code_of(code: str) -> str | None:
    level = level_of_code(code)
    index = [lv for lv, _ in _LAYOUT].index(level)
    if index == 0:
        return None
    digits = _LAYOUT[index - 1][1]
    return code[:digits] + "0" * (12 - digits)


def _truthy(value: str) -> bool:
    return value.strip().lower() not in {"0", "false", "no", "n", "否", "停用"}


async def import_centers(actor: Actor, path: Path | str) -> ImportReport:
    report = ImportReport("centers")
    rows = read_csv(path, ["code", "name"])
    report.rows = len(rows)
    existing = {c.code: c for c in await Center.all()}
    in_file: dict[str, tuple[str, CenterLevel, str | None, str, bool]] = {}
    for where, row in rows:
        code, name = row.get("code", ""), row.get("name", "")

        def bad(field: str, message: str, where: str = where) -> None:
            report.problems.append(Problem(where, field, message))

        if not AREA_CODE.match(code):
            bad("code", "must be a 12-digit area code (统计用区划代码)")
            continue
        if code in in_file:
            bad("code", f"{code} appears twice in the file")
            continue
        if not name or len(name) > 100:
            bad("name", "a name of 1-100 characters is required")
            continue
        level_text = row.get("level", "")
        if level_text and level_text not in CenterLevel._value2member_map_:
            bad("level", f"must be one of {', '.join(CenterLevel)}")
            continue
        level = CenterLevel(level_text) if level_text else level_of_code(code)
        parent = row.get("parent", "") or None
        if parent is None:
            guess = parent_code_of(code)
            parent = (
                guess
                if guess and (guess in existing or any(r.get("code") == guess for _, r in rows))
                else None
            )
        in_file[code] = (where, level, parent, name, _truthy(row.get("active", "") or "1"))
    for code, (where, level, parent, _name, _active) in in_file.items():
        if parent is not None:
            parent_level = (
                in_file[parent][1]
                if parent in in_file
                else (CenterLevel(existing[parent].level) if parent in existing else None)
            )
            if parent_level is None:
                report.problems.append(
                    Problem(where, "parent", f"no center {parent} in the file or the database")
                )
                continue
            if parent_level.rank >= level.rank:
                report.problems.append(
                    Problem(
                        where, "parent", f"a {level.value} center cannot sit under a {parent_level.value} one"
                    )
                )
                continue
        if code in existing:
            old = existing[code]
            if (old.parent_id and parent is None) or (
                parent is not None and old.parent_id and (await old.parent).code != parent
            ):
                report.problems.append(Problem(where, "parent", "a center cannot be moved to another parent"))
                continue
            if CenterLevel(old.level) != level:
                report.problems.append(Problem(where, "level", f"{code} is a {old.level} center already"))
                continue
        check_path = (
            existing[code].path
            if code in existing
            else (existing[parent].path if parent in existing else None)
        )
        if check_path is not None and not manages(actor, check_path):
            report.problems.append(Problem(where, "code", "outside the tree you manage"))
    refuse_if_bad(report)

    ordered = sorted(in_file.items(), key=lambda item: item[1][1].rank)
    async with in_transaction():
        by_code = dict(existing)
        for code, (_where, level, parent, name, active) in ordered:
            old = by_code.get(code)
            if old is None:
                center = await create_center(code, name, level, by_code[parent] if parent else None)
                if not active:
                    center.active = False
                    await center.save(update_fields=["active"])
                by_code[code] = center
                report.created.append(code)
            elif old.name != name or old.active != active:
                old.name, old.active = name, active
                await old.save(update_fields=["name", "active"])
                report.updated.append(code)
            else:
                report.unchanged += 1
        await record(actor, report, Path(path).name)
    return report
