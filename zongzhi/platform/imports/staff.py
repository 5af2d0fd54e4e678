"""``zongzhi import departments departments.csv`` and ``zongzhi import users staff.csv``.

departments.csv: ``code, name, kind`` and optionally ``stationed_at`` (center codes) with
``residence`` (resident / rotating / on_call, or 常驻 / 轮驻 / 随驻).

staff.csv: ``username, display_name, roles`` (several separated by ``|``), and optionally ``center``
(12-digit code), ``department`` (code), ``grids`` (grid codes, for grid workers), ``specialties``
(category codes, for mediators) and ``title``. Idempotent on username: a second run updates what
changed. New accounts have no password or token: issue one with ``zongzhi tokens create``.
"""

from __future__ import annotations

from pathlib import Path

from tortoise.transactions import in_transaction

from zongzhi.platform.base.codes import CATEGORIES, Residence, Role
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.admin_scope import is_global_admin, manages
from zongzhi.platform.imports.common import ImportReport, Problem, read_csv, record, refuse_if_bad, split_list
from zongzhi.platform.models import Center, CenterDepartment, Department, Grid, User, UserGrid
from zongzhi.platform.services.accounts import check_roles
from zongzhi.platform.services.masterdata import GLOBAL_ROLES, GRID_CODE

_RESIDENCE = {r.label: r.value for r in Residence} | {r.value: r.value for r in Residence}
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


async def import_departments(actor: Actor, path: Path | str) -> ImportReport:
    report = ImportReport("departments")
    rows = read_csv(path, ["code", "name", "kind"])
    report.rows = len(rows)
    centers = {c.code: c for c in await Center.all()}
    seen: set[str] = set()
    good = []
    if not is_global_admin(actor) and actor.center_level not in {"province", "city", "county"}:
        raise ValidationFailed("departments are listed by a county-level admin", field="actor")
    for where, row in rows:
        code, name, kind = row["code"], row["name"], row["kind"]
        stationed = split_list(row.get("stationed_at", ""))
        residence = _RESIDENCE.get(row.get("residence", "") or "resident")
        problem = None
        if not GRID_CODE.match(code):
            problem = ("code", "1-40 letters, digits, '-', '_' or '.'")
        elif code in seen:
            problem = ("code", f"{code} appears twice in the file")
        elif not name or len(name) > 100:
            problem = ("name", "a name of 1-100 characters is required")
        elif not kind or len(kind) > 40:
            problem = ("kind", "a kind of 1-40 characters is required (e.g. 住建)")
        elif residence is None:
            problem = ("residence", "resident, rotating or on_call (常驻, 轮驻, 随驻)")
        else:
            unknown = [c for c in stationed if c not in centers]
            if unknown:
                problem = ("stationed_at", f"no center {', '.join(unknown)}")
            elif any(not manages(actor, centers[c].path) for c in stationed):
                problem = ("stationed_at", "outside the tree you manage")
        seen.add(code)
        if problem:
            report.problems.append(Problem(where, *problem))
        else:
            good.append((code, name, kind, stationed, residence))
    refuse_if_bad(report)
    async with in_transaction():
        for code, name, kind, stationed, residence in good:
            dept = await Department.get_or_none(code=code)
            changed = False
            if dept is None:
                dept = await Department.create(code=code, name=name, kind=kind)
                report.created.append(code)
            elif (dept.name, dept.kind) != (name, kind):
                dept.name, dept.kind = name, kind
                await dept.save(update_fields=["name", "kind"])
                changed = True
            for center_code in stationed:
                link, made = await CenterDepartment.get_or_create(
                    center_id=centers[center_code].id,
                    department_id=dept.id,
                    defaults={"residence": residence},
                )
                if not made and link.residence != residence:
                    link.residence = Residence(residence)
                    await link.save(update_fields=["residence"])
                    changed = True
                changed = changed or (made and code not in report.created)
            if changed:
                report.updated.append(code)
            elif code not in report.created:
                report.unchanged += 1
        await record(actor, report, Path(path).name)
    return report


async def import_users(actor: Actor, path: Path | str) -> ImportReport:
    report = ImportReport("users")
    rows = read_csv(path, ["username", "display_name", "roles"])
    report.rows = len(rows)
    centers = {c.code: c for c in await Center.all()}
    departments = {d.code: d for d in await Department.all()}
    centers_by_id = {c.id: c for c in centers.values()}
    grids = {g.code: g for g in await Grid.all()}
    users = {u.username: u for u in await User.all().select_related("center")}
    seen: set[str] = set()
    good = []
    for where, row in rows:
        username, display = row["username"], row["display_name"]
        roles = split_list(row["roles"])
        center_code, dept_code = row.get("center", ""), row.get("department", "")
        grid_codes = split_list(row.get("grids", ""))
        specialties = split_list(row.get("specialties", ""))

        def bad(field: str, message: str, where: str = where) -> None:
            report.problems.append(Problem(where, field, message))

        if not 2 <= len(username) <= 60 or set(username) - USERNAME_CHARS:
            bad("username", "2-60 letters, digits, '-', '_' or '.'")
            continue
        if username in seen:
            bad("username", f"{username} appears twice in the file")
            continue
        seen.add(username)
        if not display or len(display) > 60:
            bad("display_name", "a name of 1-60 characters is required")
            continue
        try:
            check_roles(roles, None)
        except ValidationFailed as exc:
            bad("roles", exc.message)
            continue
        if GLOBAL_ROLES & set(roles):
            bad("roles", "auditor and partner accounts are made one by one (zongzhi users create)")
            continue
        center = centers.get(center_code) if center_code else None
        if center_code and center is None:
            bad("center", f"no center {center_code}")
            continue
        if center is None and not is_global_admin(actor):
            bad("center", "an account you import belongs to a center in your tree")
            continue
        old = users.get(username)
        if not manages(actor, center.path if center else None) or (
            old is not None and not manages(actor, old.center.path if old.center_id else None)
        ):
            bad("center", "outside the tree you manage")
            continue
        if dept_code and dept_code not in departments:
            bad("department", f"no department {dept_code}")
            continue
        unknown = [g for g in grid_codes if g not in grids]
        if unknown:
            bad("grids", f"no grid {', '.join(unknown)}")
            continue
        if grid_codes and str(Role.grid_worker) not in roles:
            bad("grids", "only a grid worker (grid_worker) covers grids")
            continue
        if grid_codes and (
            center is None
            or any(not centers_by_id[grids[g].center_id].path.startswith(center.path) for g in grid_codes)
        ):
            bad("grids", "a grid worker's grids lie under their center")
            continue
        bad_specialties = [s for s in specialties if s not in CATEGORIES]
        if bad_specialties:
            bad("specialties", f"unknown category {', '.join(bad_specialties)}")
            continue
        good.append(
            (username, display, roles, center, departments.get(dept_code), grid_codes, specialties, row)
        )
    refuse_if_bad(report)
    async with in_transaction():
        for username, display, roles, center, dept, grid_codes, specialties, row in good:
            values = {
                "display_name": display,
                "roles": roles,
                "center_id": center.id if center else None,
                "department_id": dept.id if dept else None,
                "specialties": specialties,
                "title": row.get("title", ""),
            }
            user = users.get(username)
            changed = False
            if user is None:
                user = await User.create(username=username, **values)
                report.created.append(username)
            elif any(getattr(user, k) != v for k, v in values.items()):
                await User.filter(id=user.id).update(**values)
                changed = True
            wanted = {grids[g].id for g in grid_codes}
            have = set(await UserGrid.filter(user_id=user.id).values_list("grid_id", flat=True))
            if wanted != have:
                await UserGrid.filter(user_id=user.id, grid_id__in=list(have - wanted)).delete()
                for gid in wanted - have:
                    await UserGrid.create(user_id=user.id, grid_id=gid)
                changed = True
            if username in report.created:
                continue
            if changed:
                report.updated.append(username)
            else:
                report.unchanged += 1
        await record(actor, report, Path(path).name)
    return report
