"""Master data: the center tree, departments and their stationing, grids with boundaries, staff.

Every change is jurisdiction-scoped and audited. An admin whose account has a center manages that
center's subtree (a township admin its township and villages); an admin without a center, and the
command line, manage everything. Roles that reach beyond one tree (auditor, partner) and the tree's
roots are left to those.
"""

from __future__ import annotations

import re
from typing import Any

from shapely.geometry import shape
from tortoise.transactions import in_transaction

from zongzhi.platform.base.codes import CenterLevel, Residence, Role
from zongzhi.platform.base.errors import Forbidden, NotFound, ValidationFailed
from zongzhi.platform.domain import audit, geo
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.admin_scope import is_global_admin, manages
from zongzhi.platform.domain.jurisdiction import resolve_ref
from zongzhi.platform.models import Center, CenterDepartment, Department, Grid, User, UserGrid
from zongzhi.platform.services import accounts
from zongzhi.platform.services.org import create_center as _create_center

AREA_CODE = re.compile(r"^\d{12}$")
GRID_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
#: Roles only a county-wide (center-less) admin may grant: they reach beyond one center's tree.
GLOBAL_ROLES = frozenset({str(Role.auditor), str(Role.partner)})


def require_admin(actor: Actor) -> None:
    if not actor.has(Role.admin):
        raise Forbidden("managing master data needs the admin role")


def require_manages(actor: Actor, center: Center | None, field: str) -> None:
    require_admin(actor)
    if not manages(actor, center.path if center else None):
        raise Forbidden("that is outside the tree you manage", field=field)


async def record(actor: Actor, action: str, target: str, details: dict[str, Any]) -> None:
    if actor.user_id is None:
        details = {**details, "by": actor.display}
    await audit.record(action, target, actor_id=actor.user_id, details=details)


def sees_center(actor: Actor, center: Center) -> bool:
    """A center an admin may name: their subtree and the centers above it (a township knows its county)."""
    if is_global_admin(actor):
        return True
    mine = actor.center_path
    return bool(mine) and (center.path.startswith(mine) or mine.startswith(center.path))  # type: ignore[union-attr]


async def _center(actor: Actor, center_id: int, field: str = "centerId") -> Center:
    """The center, or ``NOT_FOUND`` (worded as for one that does not exist) if the actor cannot see it."""
    require_admin(actor)
    center = await Center.get_or_none(id=center_id)
    if center is None or not sees_center(actor, center):
        raise NotFound(f"no center {center_id}", field=field)
    return center


async def _grid(actor: Actor, grid_id: int, field: str = "gridId") -> Grid:
    require_admin(actor)
    grid = await Grid.get_or_none(id=grid_id).select_related("center")
    if grid is None or not (is_global_admin(actor) or manages(actor, grid.center.path)):
        raise NotFound(f"no grid {grid_id}", field=field)
    return grid


def _name(name: str, field: str = "name", limit: int = 100) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("a name is required", field=field)
    if len(name) > limit:
        raise ValidationFailed(f"a name is at most {limit} characters", field=field)
    return name


# --- centers ---------------------------------------------------------------------------------


async def create_center(actor: Actor, code: str, name: str, level: str, parent_id: int | None) -> Center:
    require_admin(actor)
    parent = await _center(actor, parent_id, "parentId") if parent_id is not None else None
    if parent is None and not is_global_admin(actor):
        raise Forbidden("only a county-wide admin creates a root center", field="parentId")
    require_manages(actor, parent, "parentId")
    if parent is not None and not parent.active:
        raise ValidationFailed("the parent center is deactivated", field="parentId")
    if not AREA_CODE.match(code or ""):
        raise ValidationFailed("a center code is a 12-digit area code (统计用区划代码)", field="code")
    if level not in CenterLevel._value2member_map_:
        raise ValidationFailed(f"level is one of {', '.join(CenterLevel)}", field="level")
    if await Center.exists(code=code):
        raise ValidationFailed(f"center code {code} is taken", field="code")
    async with in_transaction():
        center = await _create_center(code, _name(name), level, parent)
        await record(actor, "center.create", f"center:{center.id}", {"code": code, "name": center.name})
    return center


async def rename_center(actor: Actor, center_id: int, name: str) -> Center:
    center = await _center(actor, center_id)
    require_manages(actor, center, "centerId")
    new = _name(name)
    async with in_transaction():
        old = center.name
        center.name = new
        await center.save(update_fields=["name"])
        await record(actor, "center.rename", f"center:{center.id}", {"from": old, "to": new})
    return center


async def set_center_active(actor: Actor, center_id: int, active: bool) -> Center:
    """Deactivate (or reactivate) a center: it stays, with its cases and history; no new children."""
    center = await _center(actor, center_id)
    require_manages(actor, center, "centerId")
    if not active and actor.center_id == center.id:
        raise ValidationFailed("you cannot deactivate your own center", field="centerId")
    async with in_transaction():
        changed = center.active != active
        center.active = active
        await center.save(update_fields=["active"])
        action = "center.activate" if active else "center.deactivate"
        await record(actor, action, f"center:{center.id}", {"code": center.code, "changed": changed})
    return center


async def set_center_boundary(
    actor: Actor, center_id: int, polygon: dict | None, datum: str = "wgs84"
) -> Center:
    """A center's boundary: valid, within its parent's, not overlapping its siblings'."""
    center = await _center(actor, center_id)
    require_manages(actor, center, "centerId")
    if polygon is not None:
        polygon = geo.to_wgs84(polygon, datum)
        geom = geo.parse_polygon(polygon)
        parent = await center.parent if center.parent_id else None
        if parent is not None and parent.polygon:
            geo.check_within(geom, shape(parent.polygon), parent.name)
        siblings = await Center.filter(parent_id=center.parent_id, polygon__isnull=False).exclude(
            id=center.id
        )
        geo.check_no_overlap(geom, [(s.name, shape(s.polygon)) for s in siblings])
    async with in_transaction():
        center.polygon = polygon
        await center.save(update_fields=["polygon"])
        await record(
            actor, "center.boundary", f"center:{center.id}", {"datum": datum, "cleared": polygon is None}
        )
    return center


# --- departments -----------------------------------------------------------------------------


async def create_department(actor: Actor, code: str, name: str, kind: str) -> Department:
    """Departments are the county's agencies: a county-level (or wider) admin lists them."""
    require_admin(actor)
    if not is_global_admin(actor) and actor.center_level not in {"province", "city", "county"}:
        raise Forbidden("departments are listed by a county-level admin")
    if not GRID_CODE.match(code or ""):
        raise ValidationFailed("a department code is 1-40 letters, digits, '-', '_' or '.'", field="code")
    if await Department.exists(code=code):
        raise ValidationFailed(f"department code {code} is taken", field="code")
    async with in_transaction():
        dept = await Department.create(code=code, name=_name(name), kind=_name(kind, "kind", 40))
        await record(actor, "department.create", f"department:{dept.id}", {"code": code, "name": dept.name})
    return dept


async def station_department(
    actor: Actor, center_id: int, department_id: int, residence: str | None
) -> CenterDepartment | None:
    """Station a department at a center (常驻/轮驻/随驻), change how, or (``None``) withdraw it."""
    center = await _center(actor, center_id)
    require_manages(actor, center, "centerId")
    dept = await resolve_ref(actor, Department, department_id, "departmentId")
    if residence is not None and residence not in Residence._value2member_map_:
        raise ValidationFailed(f"residence is one of {', '.join(Residence)}", field="residence")
    async with in_transaction():
        row = await CenterDepartment.get_or_none(center_id=center.id, department_id=dept.id)
        if residence is None:
            if row is not None:
                await row.delete()
            row = None
        elif row is None:
            row = await CenterDepartment.create(
                center=center, department=dept, residence=Residence(residence)
            )
        else:
            row.residence = Residence(residence)
            await row.save(update_fields=["residence"])
        await record(
            actor,
            "department.station",
            f"center:{center.id}",
            {"department": dept.code, "residence": residence},
        )
    return row


# --- grids -----------------------------------------------------------------------------------


def check_grid_polygon(
    geom,
    parent_polygon: dict | None,
    parent_label: str,
    siblings: list[tuple[str, dict]],
    field: str = "polygon",
) -> None:
    """Refuse a grid boundary outside its parent (grid or village) or overlapping a sibling grid."""
    if parent_polygon:
        geo.check_within(geom, shape(parent_polygon), parent_label, field)
    geo.check_no_overlap(geom, [(label, shape(p)) for label, p in siblings], field)


async def _check_grid(
    polygon: dict, center: Center, parent: Grid | None, exclude_id: int | None, field: str = "polygon"
) -> None:
    geom = geo.parse_polygon(polygon, field)
    siblings = Grid.filter(
        center_id=center.id, parent_id=parent.id if parent else None, polygon__isnull=False
    )
    if exclude_id is not None:
        siblings = siblings.exclude(id=exclude_id)
    if parent is not None:
        within, label = parent.polygon, f"parent grid {parent.code}"
    else:
        within, label = center.polygon, f"village {center.name}"
    check_grid_polygon(geom, within, label, [(f"grid {g.code}", g.polygon) for g in await siblings], field)


async def create_grid(
    actor: Actor,
    code: str,
    name: str,
    center_id: int,
    parent_id: int | None = None,
    polygon: dict | None = None,
    datum: str = "wgs84",
) -> Grid:
    center = await _center(actor, center_id)
    require_manages(actor, center, "centerId")
    if center.level != CenterLevel.village:
        raise ValidationFailed("a grid belongs to a village or community center", field="centerId")
    if not center.active:
        raise ValidationFailed("the center is deactivated", field="centerId")
    if not GRID_CODE.match(code or ""):
        raise ValidationFailed("a grid code is 1-40 letters, digits, '-', '_' or '.'", field="code")
    if await Grid.exists(code=code):
        raise ValidationFailed(f"grid code {code} is taken", field="code")
    parent = None
    if parent_id is not None:
        parent = await _grid(actor, parent_id, "parentId")
        if parent.center_id != center.id:
            raise ValidationFailed("the parent grid is not one of this center's grids", field="parentId")
    if polygon is not None:
        polygon = geo.to_wgs84(polygon, datum)
        await _check_grid(polygon, center, parent, None)
    async with in_transaction():
        grid = await Grid.create(
            code=code,
            name=_name(name),
            center=center,
            parent=parent,
            level=(parent.level + 1) if parent else 1,
            polygon=polygon,
            datum=datum,
        )
        await record(actor, "grid.create", f"grid:{grid.id}", {"code": code, "center": center.code})
    return grid


async def update_grid(
    actor: Actor, grid_id: int, name: str | None = None, polygon: dict | None = None, datum: str = "wgs84"
) -> Grid:
    grid = await _grid(actor, grid_id)
    require_manages(actor, grid.center, "gridId")
    changes: dict[str, Any] = {}
    if name is not None:
        grid.name = _name(name)
        changes["name"] = grid.name
    if polygon is not None:
        polygon = geo.to_wgs84(polygon, datum)
        parent = await Grid.get(id=grid.parent_id) if grid.parent_id else None
        await _check_grid(polygon, grid.center, parent, grid.id)
        grid.polygon, grid.datum = polygon, datum
        changes["boundary"] = datum
    async with in_transaction():
        await grid.save(update_fields=["name", "polygon", "datum"])
        await record(actor, "grid.update", f"grid:{grid.id}", {"code": grid.code, **changes})
    return grid


async def assign_grid_worker(actor: Actor, grid_id: int, user_id: int, assigned: bool = True) -> User:
    grid = await _grid(actor, grid_id)
    require_manages(actor, grid.center, "gridId")
    user = await _managed_user(actor, user_id)
    if assigned and str(Role.grid_worker) not in user.roles:
        raise ValidationFailed("only a grid worker (网格员) covers grids", field="userId")
    async with in_transaction():
        if assigned:
            await UserGrid.get_or_create(user_id=user.id, grid_id=grid.id)
        else:
            await UserGrid.filter(user_id=user.id, grid_id=grid.id).delete()
        action = "grid.assign_worker" if assigned else "grid.unassign_worker"
        await record(actor, action, f"grid:{grid.id}", {"user": user.username, "grid": grid.code})
    return user


# --- users -----------------------------------------------------------------------------------


async def _managed_user(actor: Actor, user_id: int) -> User:
    require_admin(actor)
    user = await User.get_or_none(id=user_id).select_related("center")
    seen = user is not None and (
        is_global_admin(actor) or (user.center_id is not None and sees_center(actor, user.center))
    )
    if not seen:
        raise NotFound(f"no user {user_id}", field="userId")
    if not manages(actor, user.center.path if user.center_id else None):
        raise Forbidden("that account is outside the tree you manage", field="userId")
    return user


def _check_roles(actor: Actor, roles: list[str]) -> None:
    if not is_global_admin(actor) and GLOBAL_ROLES & set(roles):
        raise Forbidden("auditor and partner accounts are made by a county-wide admin", field="roles")


async def create_user(
    actor: Actor,
    username: str,
    display_name: str,
    roles: list[str],
    *,
    center_id: int | None = None,
    department_id: int | None = None,
    specialties: list[str] | None = None,
    title: str = "",
    plugin: str | None = None,
) -> User:
    require_admin(actor)
    center = await _center(actor, center_id) if center_id is not None else None
    if center is None and not is_global_admin(actor):
        raise Forbidden("an account you make belongs to a center in your tree", field="centerId")
    require_manages(actor, center, "centerId")
    _check_roles(actor, roles)
    if not re.match(r"^[A-Za-z0-9_.\-]{2,60}$", username or ""):
        raise ValidationFailed("a username is 2-60 letters, digits, '-', '_' or '.'", field="username")
    department = None
    if department_id is not None:
        department = await resolve_ref(actor, Department, department_id, "departmentId")
    async with in_transaction():
        user = await accounts.create_user(
            username,
            _name(display_name, "displayName", 60),
            roles,
            center=center,
            department=department,
            specialties=specialties,
            title=title,
            plugin=plugin,
        )
        await record(
            actor,
            "user.create",
            f"user:{user.id}",
            {"username": username, "roles": roles, "center": center.code if center else None},
        )
    return user


async def set_user_roles(actor: Actor, user_id: int, roles: list[str]) -> User:
    user = await _managed_user(actor, user_id)
    _check_roles(actor, roles)
    accounts.check_roles(roles, user.plugin)
    if user.id == actor.user_id and str(Role.admin) not in roles:
        raise ValidationFailed("you cannot take the admin role from yourself", field="roles")
    async with in_transaction():
        old = list(user.roles)
        user.roles = list(dict.fromkeys(roles))
        await user.save(update_fields=["roles"])
        await record(
            actor, "user.roles", f"user:{user.id}", {"username": user.username, "from": old, "to": roles}
        )
    return user


async def move_user(actor: Actor, user_id: int, center_id: int) -> User:
    """Move an account to another center; it keeps no grids outside its new center."""
    user = await _managed_user(actor, user_id)
    center = await _center(actor, center_id)
    require_manages(actor, center, "centerId")
    async with in_transaction():
        old = user.center.code if user.center_id else None
        user.center = center
        await user.save(update_fields=["center_id"])
        await UserGrid.filter(user_id=user.id).exclude(grid__center_id=center.id).delete()
        await record(
            actor, "user.move", f"user:{user.id}", {"username": user.username, "from": old, "to": center.code}
        )
    return user
