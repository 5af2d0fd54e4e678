"""Routing steps: give a case to the center whose territory holds it (属地流转), or escalate it to
the parent center (上报). The owner changes, the status stays; the rules' actions take both too.

Who may take each step stands in the lifecycle table (``services/lifecycle.py``).
"""

from __future__ import annotations

from zongzhi.platform.base import limits
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope, resolve_ref
from zongzhi.platform.models import Case, Center
from zongzhi.platform.services.case_access import load_for_step, save_case
from zongzhi.platform.services.lifecycle import require_roles
from zongzhi.platform.services.outbox import change, record_event


async def _move_to(case: Case, center: Center) -> dict:
    old = case.center_id
    case.center_id, case.center_path = center.id, center.path
    await save_case(case, "center_id", "center_path")
    return {"from_center_id": old, "to_center_id": center.id, "to_center_code": center.code}


async def route(actor: Actor, case_id: int, center_id: int, reason: str = "") -> Case:
    """属地流转: give the case to the center whose territory holds it."""
    require_roles(actor, "route")
    limits.check_note(reason, "reason")
    target = await resolve_ref(actor, Center, center_id, "centerId")
    async with change():
        case = await load_for_step(actor, case_id, "route")
        if not actor.system and not center_in_scope(actor, target.path):
            raise Forbidden("that center is outside your jurisdiction", field="centerId")
        payload = await _move_to(case, target)
        await record_event(case, "case.routed", actor, payload | {"reason": reason})
    return case


async def escalate(actor: Actor, case_id: int, reason: str = "") -> Case:
    """上报: the case moves to the parent center (village → township → county)."""
    require_roles(actor, "escalate")
    limits.check_note(reason, "reason")
    async with change():
        case = await load_for_step(actor, case_id, "escalate")
        owner = await Center.get(id=case.center_id)
        if owner.parent_id is None:
            raise ValidationFailed("the case is already at the top center", field="caseId")
        parent = await Center.get(id=owner.parent_id)
        payload = await _move_to(case, parent)
        await record_event(
            case, "case.escalated", actor, payload | {"reason": reason, "level": str(parent.level)}
        )
    return case
