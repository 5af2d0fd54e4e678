"""What each built-in rule action does: every one calls the same services as the mutations.

A handler receives the ``ActionContext`` (the case as the rule saw it, the event, and a system actor
named after the rule) and the action's validated parameters; it returns a small dict for the
Decision record. Raising records an error decision; the other actions still run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import Tortoise

from zongzhi.platform.base.codes import CATEGORIES, AssignmentMode, CaseStatus, CenterLevel, Risk, Role
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.workdays import add_span
from zongzhi.platform.models import Case, CaseEvent, Center, Department, Notification, User, Whistle
from zongzhi.platform.rules import ActionRegistry
from zongzhi.platform.rules.actions import ROUTE_TARGETS
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.outbox import change, record_event


@dataclass
class ActionContext:
    case: Case
    event: CaseEvent
    actor: Actor


async def _center_ids(case: Case) -> list[int]:
    return [int(p) for p in case.center_path.strip("/").split("/") if p]


@dataclass
class _GridTargets:
    """A batch's routing targets by (grid, ``*_of_grid``), and the grids of its cases: the first
    grid looked up brings every level's target of all of them in one statement."""

    grids: set[int]
    targets: dict[tuple[int, str], Center | None] = field(default_factory=dict)


_grid_targets: ContextVar[_GridTargets | None] = ContextVar("zongzhi_grid_targets", default=None)
GRID_TARGETS = tuple(to for to in ROUTE_TARGETS if to.endswith("_of_grid"))


@contextmanager
def grid_target_memo(grids: set[int] | None = None) -> Iterator[None]:
    """Inside, the center a grid routes to at a level is looked up once (a batch of events), and the
    targets of ``grids`` (the batch's cases' grids) with the first of them."""
    token = _grid_targets.set(_GridTargets(set(grids or ())))
    try:
        yield
    finally:
        _grid_targets.reset(token)


# Every center a grid's center is or lies under, for many grids: the target at a level is the
# deepest of that level (the one-grid statement's ORDER BY length(path) DESC LIMIT 1).
_GRID_ANCESTORS = (
    "SELECT g.id AS of_grid, c.* FROM grid g JOIN center gc ON gc.id = g.center_id "
    "JOIN center c ON gc.path LIKE c.path || '%' WHERE g.id IN ({grids})"
)


async def _grid_target(grid_id: int, to: str) -> Center | None:
    """The center of ``to``'s level that the grid's center is or lies under, in one statement for
    every grid of the batch (the ORM's grid, its center and the center's ancestors took three
    statements and a fifth of an inline evaluation, for each case)."""
    memo = _grid_targets.get() or _GridTargets(set())
    if (grid_id, to) not in memo.targets:
        wanted = sorted({grid_id, *memo.grids} - {g for g, _ in memo.targets})
        conn = Tortoise.get_connection("default")
        marks = ", ".join(
            f"${n}" if conn.capabilities.dialect == "postgres" else "?" for n in range(1, len(wanted) + 1)
        )
        _, rows = await conn.execute_query(_GRID_ANCESTORS.format(grids=marks), wanted)
        deepest: dict[tuple[int, str], Center] = {}
        for row in rows:
            values = dict(row)
            grid = values.pop("of_grid")
            center = Center._init_from_db(**values)
            key = (grid, f"{CenterLevel(center.level).value}_of_grid")
            if key not in deepest or len(center.path) > len(deepest[key].path):
                deepest[key] = center
        for grid in wanted:
            for level in GRID_TARGETS:
                memo.targets[(grid, level)] = deepest.get((grid, level))
    return memo.targets[(grid_id, to)]


async def route(ctx: ActionContext, params: dict[str, Any]) -> dict:
    to = params["to"]
    case = ctx.case
    if to in GRID_TARGETS:
        if case.grid_id is None:
            raise ValidationFailed("the case has no grid to route by", field="grid")
        target = await _grid_target(case.grid_id, to)
    elif to == "parent":
        owner = await Center.get(id=case.center_id)
        target = await Center.get_or_none(id=owner.parent_id) if owner.parent_id else None
    else:
        target = await Center.get_or_none(code=to)
    if target is None:
        raise ValidationFailed(f"no center to route to for {to!r}", field="to")
    if target.id == case.center_id:
        return {"center": target.code, "moved": False}
    await svc.route(ctx.actor, case.id, target.id, reason=params.get("reason", ""))
    return {"center": target.code, "moved": True}


async def _span_deadline(case: Case, span: dict[str, int], start: datetime) -> tuple[datetime, list[str]]:
    deadline = await add_span(start, span, await _center_ids(case))
    return deadline.at, deadline.notes


async def deadline(ctx: ActionContext, params: dict[str, Any]) -> dict:
    # Counted from receipt for a new case (its receipt time may be back-dated), else from the event.
    start = ctx.case.created_at if ctx.event.type == "case.received" else ctx.event.at
    respond_by = resolve_by = None
    notes: list[str] = []
    if "respond_in" in params:
        respond_by, n = await _span_deadline(ctx.case, params["respond_in"], start)
        notes += n
    if "resolve_in" in params:
        resolve_by, n = await _span_deadline(ctx.case, params["resolve_in"], start)
        notes += n
    await svc.set_deadline(
        ctx.actor,
        ctx.case.id,
        respond_by=respond_by,
        resolve_by=resolve_by,
        note="；".join(dict.fromkeys(notes)),
    )
    return {
        "respond_by": respond_by.isoformat() if respond_by else None,
        "resolve_by": resolve_by.isoformat() if resolve_by else None,
        "notes": notes,
    }


async def assign(ctx: ActionContext, params: dict[str, Any]) -> dict:
    mode = AssignmentMode(params.get("mode", "self"))
    if "department" in params:
        dept = await Department.get_or_none(code=params["department"])
        if dept is None:
            raise ValidationFailed(f"no department {params['department']!r}", field="department")
        unit = svc.UnitInput(department_id=dept.id, lead=params.get("lead", True))
        chosen = {"department": dept.code}
    else:
        specialty = params["mediator_specialty"]
        if specialty not in CATEGORIES:
            raise ValidationFailed(f"unknown specialty {specialty!r}", field="mediator_specialty")
        candidates = await User.filter(active=True, center_id__in=await _center_ids(ctx.case)).order_by("id")
        mediators = [u for u in candidates if Role.mediator in u.roles and specialty in u.specialties]
        if not mediators:
            raise ValidationFailed(
                f"no mediator with specialty {specialty!r} above this case", field="mediator_specialty"
            )
        unit = svc.UnitInput(user_id=mediators[-1].id, lead=params.get("lead", True))
        chosen = {"mediator": mediators[-1].username}
    due = None
    if "due" in params:
        due, _ = await _span_deadline(ctx.case, params["due"], ctx.event.at)
    current = await Case.get(id=ctx.case.id)
    if current.status in (CaseStatus.received, CaseStatus.assessed):
        await svc.dispatch(ctx.actor, ctx.case.id, mode, [unit], due=due)
    else:
        await svc.add_assignment(ctx.actor, ctx.case.id, mode, unit, due=due)
    return chosen | {"mode": mode.value}


async def escalate(ctx: ActionContext, params: dict[str, Any]) -> dict:
    case = await svc.escalate(ctx.actor, ctx.case.id, reason=params.get("reason", ""))
    return {"center_id": case.center_id}


async def supervise(ctx: ActionContext, params: dict[str, Any]) -> dict:
    await svc.supervise(ctx.actor, ctx.case.id, params.get("reason") or "按规则督办", level=params["level"])
    return {"level": params["level"]}


async def flag_risk(ctx: ActionContext, params: dict[str, Any]) -> dict:
    current = await Case.get(id=ctx.case.id)
    level = Risk(params["level"])
    if list(Risk).index(current.risk) >= list(Risk).index(level):
        return {"level": str(current.risk), "changed": False}
    await svc.flag_risk(ctx.actor, ctx.case.id, level, params["reason"])
    return {"level": level.value, "changed": True}


async def tag(ctx: ActionContext, params: dict[str, Any]) -> dict:
    await svc.tag(ctx.actor, ctx.case.id, list(params["add"]))
    return {"added": list(params["add"])}


async def notify(ctx: ActionContext, params: dict[str, Any]) -> dict:
    message = params.get("message") or f"{ctx.case.number} {ctx.case.title}"
    async with change():
        case = await Case.get(id=ctx.case.id)
        if "user" in params:
            user = await User.get_or_none(username=params["user"])
            if user is None:
                raise ValidationFailed(f"no user {params['user']!r}", field="user")
            await Notification.create(case=case, user=user, message=message)
            target = {"user": user.username}
        else:
            await Notification.create(
                case=case, role=params["role"], center_id=case.center_id, message=message
            )
            target = {"role": params["role"], "center_id": case.center_id}
        await record_event(case, "case.notified", ctx.actor, target | {"message": message})
    return target


async def whistle(ctx: ActionContext, params: dict[str, Any]) -> dict:
    due, _ = await _span_deadline(ctx.case, params["respond_in"], ctx.event.at)
    codes = list(params["departments"])
    departments = await Department.filter(code__in=codes)
    missing = sorted(set(codes) - {d.code for d in departments})
    if missing:
        raise ValidationFailed(f"unknown departments: {', '.join(missing)}", field="departments")
    async with change():
        case = await Case.get(id=ctx.case.id)
        for dept in departments:
            await Whistle.create(case=case, department=dept, due=due)
        await record_event(case, "case.whistle", ctx.actor, {"departments": codes, "due": due.isoformat()})
    return {"departments": codes, "due": due.isoformat()}


async def require_followup(ctx: ActionContext, params: dict[str, Any]) -> dict:
    due, _ = await _span_deadline(ctx.case, params["within"], ctx.event.at)
    async with change():
        case = await Case.get(id=ctx.case.id)
        case.followup_due = due
        await case.save(update_fields=["followup_due", "updated_at"])
        await record_event(
            case,
            "case.followup_required",
            ctx.actor,
            {"due": due.isoformat(), "method": params.get("method")},
        )
    return {"due": due.isoformat()}


async def reject(ctx: ActionContext, params: dict[str, Any]) -> dict:
    """不予受理 through the service: only a case still received or assessed may be refused."""
    await svc.reject(ctx.actor, ctx.case.id, params["reason"])
    return {"reason": params["reason"]}


HANDLERS = {
    "route": route,
    "deadline": deadline,
    "assign": assign,
    "escalate": escalate,
    "supervise": supervise,
    "flag_risk": flag_risk,
    "tag": tag,
    "notify": notify,
    "whistle": whistle,
    "require_followup": require_followup,
    "reject": reject,
}


def install(registry: ActionRegistry) -> None:
    """Attach the handlers to ``registry``, a platform's action registry (idempotent)."""
    for name, handler in HANDLERS.items():
        spec = registry.get(name)
        if spec is not None:
            spec.handler = handler
