"""Triage steps (研判与分流): assess, reject, dispatch to units, and add a unit to a case in hand.

Each function is one change: it asks the lifecycle table whether the actor may take the step,
writes the case, its CaseEvent and outbox row in one transaction, and returns the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zongzhi.platform.base import limits
from zongzhi.platform.base.codes import CATEGORIES, KINDS, AssignmentMode, CaseStatus, Risk, UnitKind
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope, resolve_ref
from zongzhi.platform.models import Assignment, Case, Center, Department, User
from zongzhi.platform.services.case_access import load_for_step, now, save_case
from zongzhi.platform.services.intake import COMPLEXITIES
from zongzhi.platform.services.lifecycle import require_roles
from zongzhi.platform.services.outbox import change, record_event


async def assess(
    actor: Actor,
    case_id: int,
    *,
    category: str | None = None,
    kind: str | None = None,
    severity: int | None = None,
    complexity: str | None = None,
    risk: Risk | None = None,
    note: str = "",
) -> Case:
    require_roles(actor, "assess")
    limits.check_note(note, "note")
    if category is not None and category not in CATEGORIES:
        raise ValidationFailed(f"unknown category {category!r}", field="category")
    if kind is not None and kind not in KINDS:
        raise ValidationFailed(f"unknown kind {kind!r}", field="kind")
    if severity is not None and not 1 <= severity <= 4:
        raise ValidationFailed("severity is 1 to 4", field="severity")
    if complexity is not None and complexity not in COMPLEXITIES:
        raise ValidationFailed(f"complexity is one of {', '.join(COMPLEXITIES)}", field="complexity")
    async with change():
        case = await load_for_step(actor, case_id, "assess")
        changes = {
            k: v
            for k, v in {
                "category": category,
                "kind": kind,
                "severity": severity,
                "complexity": complexity,
            }.items()
            if v is not None
        }
        if risk is not None:
            changes["risk"] = Risk(risk)
        for k, v in changes.items():
            setattr(case, k, v)
        case.status = CaseStatus.assessed
        await save_case(case, "status", *changes)
        payload = {k: str(v) for k, v in changes.items()} | {"note": note}
        await record_event(case, "case.assessed", actor, payload)
    return case


async def reject(actor: Actor, case_id: int, reason: str) -> Case:
    require_roles(actor, "reject")
    if not reason or not reason.strip():
        raise ValidationFailed("a rejection needs a reason (不予受理理由)", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await load_for_step(actor, case_id, "reject")
        case.status = CaseStatus.rejected
        case.reject_reason = reason.strip()
        case.concluded_at = now()
        await save_case(case, "status", "reject_reason", "concluded_at")
        await record_event(case, "case.rejected", actor, {"reason": case.reject_reason})
    return case


@dataclass
class UnitInput:
    """One unit to assign: exactly one of a center, a department or a person."""

    center_id: int | None = None
    department_id: int | None = None
    user_id: int | None = None
    lead: bool = False


async def _resolve_units(actor: Actor, units: list[UnitInput], mode: AssignmentMode) -> list[dict]:
    if not units and mode != AssignmentMode.self_handle:
        raise ValidationFailed("name at least one unit to assign", field="units")
    if mode == AssignmentMode.joint and len(units) < 2:
        raise ValidationFailed("joint handling (联办) needs two or more units", field="units")
    resolved = []
    for i, u in enumerate(units):
        given = [x for x in (u.center_id, u.department_id, u.user_id) if x is not None]
        if len(given) != 1:
            raise ValidationFailed("give exactly one of centerId, departmentId, userId", field=f"units[{i}]")
        if u.center_id is not None:
            center = await resolve_ref(actor, Center, u.center_id, f"units[{i}].centerId")
            if not center_in_scope(actor, center.path):
                raise Forbidden("that center is outside your jurisdiction", field=f"units[{i}].centerId")
            resolved.append({"unit_kind": UnitKind.center, "center": center, "lead": u.lead})
        elif u.department_id is not None:
            dept = await resolve_ref(actor, Department, u.department_id, f"units[{i}].departmentId")
            resolved.append({"unit_kind": UnitKind.department, "department": dept, "lead": u.lead})
        else:
            user = await resolve_ref(actor, User, u.user_id, f"units[{i}].userId", active=True)
            if not actor.system:
                user_center = await user.center if user.center_id else None
                if user_center is None or not center_in_scope(actor, user_center.path):
                    raise Forbidden("that person works outside your jurisdiction", field=f"units[{i}].userId")
            resolved.append({"unit_kind": UnitKind.user, "user": user, "lead": u.lead})
    if resolved and not any(r["lead"] for r in resolved):
        resolved[0]["lead"] = True
    if sum(1 for r in resolved if r["lead"]) > 1:
        raise ValidationFailed("only one unit leads (牵头)", field="units")
    return resolved


def _unit_payload(a: Assignment) -> dict:
    return {
        "assignment_id": a.id,
        "unit_kind": str(a.unit_kind),
        "center_id": a.center_id,
        "department_id": a.department_id,
        "user_id": a.user_id,
        "mode": str(a.mode),
        "lead": a.lead,
    }


async def dispatch(
    actor: Actor,
    case_id: int,
    mode: AssignmentMode | str,
    units: list[UnitInput],
    *,
    due: datetime | None = None,
    note: str = "",
) -> Case:
    """分流转办: hand the case to units. A transfer to a center makes that center the owner."""
    require_roles(actor, "dispatch")
    limits.check_note(note, "note")
    limits.check_deadline(due, "due", now())
    mode = AssignmentMode(mode)
    resolved = await _resolve_units(actor, units, mode)
    async with change():
        case = await load_for_step(actor, case_id, "dispatch")
        if not resolved:
            owner = await Center.get(id=case.center_id)
            resolved = [{"unit_kind": UnitKind.center, "center": owner, "lead": True}]
        created = []
        for r in resolved:
            created.append(await Assignment.create(case=case, mode=mode, due=due or case.resolve_by, **r))
            if mode == AssignmentMode.transfer and r["unit_kind"] == UnitKind.center:
                case.center_id = r["center"].id
                case.center_path = r["center"].path
        case.status = CaseStatus.dispatched
        await save_case(case, "status", "center_id", "center_path")
        await record_event(
            case,
            "case.dispatched",
            actor,
            {"mode": mode.value, "units": [_unit_payload(a) for a in created], "note": note},
        )
    return case


async def add_assignment(
    actor: Actor,
    case_id: int,
    mode: AssignmentMode | str,
    unit: UnitInput,
    *,
    due: datetime | None = None,
) -> Case:
    """Add a unit to a case being handled: another department for 联办, or a 督办 unit.

    ``due`` is the unit's own deadline; without one it gets the case's.
    """
    require_roles(actor, "add_assignment")
    limits.check_deadline(due, "due", now())
    mode = AssignmentMode(mode)
    (resolved,) = await _resolve_units(actor, [unit], AssignmentMode.self_handle)
    resolved["lead"] = False
    async with change():
        case = await load_for_step(actor, case_id, "add_assignment")
        a = await Assignment.create(case=case, mode=mode, due=due or case.resolve_by, **resolved)
        await save_case(case)
        await record_event(case, "case.assigned", actor, _unit_payload(a))
    return case
