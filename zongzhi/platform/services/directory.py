"""Directory: who works where — users by role, center, department and specialty; mediators with
their load and results; departments with where they are stationed. All within the asker's tree.

A user with a center sees the accounts and stationings of their center's subtree, and the
stationings at the centers above it (the county's departments a township calls on); a department
account sees its own department's colleagues; a center-less admin sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from zongzhi.platform.base.codes import CATEGORIES, Role
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.admin_scope import is_global_admin
from zongzhi.platform.domain.jurisdiction import resolve_ref
from zongzhi.platform.models import Center, CenterDepartment, Department, User
from zongzhi.platform.services.mediators import figures as mediator_figures

DIRECTORY_ROLES = (Role.staff, Role.leader, Role.admin, Role.mediator, Role.grid_worker, Role.department)


def _require(actor: Actor) -> None:
    if not actor.has(*DIRECTORY_ROLES):
        raise Forbidden("your role has no directory")


def user_scope(actor: Actor) -> Q:
    if is_global_admin(actor):
        return Q()
    parts = []
    if actor.center_path:
        parts.append(Q(center__path__startswith=actor.center_path))
    if actor.department_id:
        parts.append(Q(department_id=actor.department_id))
    return Q(*parts, join_type=Q.OR) if parts else Q(id__in=[])


async def _within(actor: Actor, center_id: int | None) -> Center | None:
    if center_id is None:
        return None
    center = await resolve_ref(actor, Center, center_id, "centerId")
    if not is_global_admin(actor) and not (actor.center_path and center.path.startswith(actor.center_path)):
        raise Forbidden("that center is outside your jurisdiction", field="centerId")
    return center


async def users(
    actor: Actor,
    *,
    role: str | None = None,
    center_id: int | None = None,
    department_id: int | None = None,
    specialty: str | None = None,
    limit: int = 100,
) -> list[User]:
    """Active accounts in the asker's tree, by the given criteria (the center's subtree included)."""
    _require(actor)
    query = User.filter(user_scope(actor), active=True)
    center = await _within(actor, center_id)
    if center is not None:
        query = query.filter(center__path__startswith=center.path)
    if department_id is not None:
        await resolve_ref(actor, Department, department_id, "departmentId")
        query = query.filter(department_id=department_id)
    found = await query.order_by("username").limit(2000)
    if role is not None:
        if role not in Role._value2member_map_:
            raise ValidationFailed("unknown role", field="role")
        found = [u for u in found if role in u.roles]
    if specialty is not None:
        if specialty not in CATEGORIES:
            raise ValidationFailed("unknown category", field="specialty")
        found = [u for u in found if specialty in u.specialties]
    return found[:limit]


@dataclass(frozen=True)
class MediatorRecord:
    user: User
    open_cases: int
    resolved: int
    failed: int


async def mediators(
    actor: Actor, *, center_id: int | None = None, specialty: str | None = None, limit: int = 100
) -> list[MediatorRecord]:
    """Mediators with their current load (open cases given to them) and past results.

    Counted by ``services.mediators.figures``, the same figures the mediators' wall (点单) shows.
    """
    found = await users(actor, role=str(Role.mediator), center_id=center_id, specialty=specialty, limit=limit)
    counted = await mediator_figures([u.id for u in found])
    out = [
        MediatorRecord(
            user=u,
            open_cases=counted[u.id].load,
            resolved=counted[u.id].resolved,
            failed=counted[u.id].concluded - counted[u.id].resolved,
        )
        for u in found
    ]
    return sorted(out, key=lambda r: (r.open_cases, r.user.username))


async def departments(
    actor: Actor, *, center_id: int | None = None
) -> list[tuple[Department, list[CenterDepartment]]]:
    """Departments with their stationings in the asker's tree and at the centers above it."""
    _require(actor)
    center = await _within(actor, center_id)
    if is_global_admin(actor) and center is None:
        links = await CenterDepartment.all().select_related("center", "department")
    else:
        path = center.path if center else actor.center_path
        if path is None:  # a department account: its own department
            links = await CenterDepartment.filter(department_id=actor.department_id or -1).select_related(
                "center", "department"
            )
        else:
            above = [int(p) for p in path.strip("/").split("/") if p]
            links = await CenterDepartment.filter(
                Q(center__path__startswith=path) | Q(center_id__in=above)
            ).select_related("center", "department")
    by_dept: dict[int, tuple[Department, list[CenterDepartment]]] = {}
    for link in sorted(links, key=lambda x: (x.department.code, x.center.path)):
        by_dept.setdefault(link.department_id, (link.department, []))[1].append(link)
    return list(by_dept.values())
