"""Closing steps (办结与回访): close a concluded case, follow it up, withdraw an open one, reopen one.

Who may take each step stands in the lifecycle table (``services/lifecycle.py``).
"""

from __future__ import annotations

from zongzhi.platform.base import limits
from zongzhi.platform.base.codes import CaseStatus, FollowUpMethod
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case, FollowUp
from zongzhi.platform.services.case_access import active_assignments, load_for_step, now, save_case
from zongzhi.platform.services.lifecycle import require_roles
from zongzhi.platform.services.outbox import change, record_event


async def close(actor: Actor, case_id: int, note: str = "") -> Case:
    require_roles(actor, "close")
    limits.check_note(note, "note")
    async with change():
        case = await load_for_step(actor, case_id, "close")
        case.status = CaseStatus.closed
        case.closed_at = now()
        await save_case(case, "status", "closed_at")
        await record_event(case, "case.closed", actor, {"note": note})
    return case


async def follow_up(
    actor: Actor,
    case_id: int,
    satisfaction: int,
    executed: bool,
    method: FollowUpMethod | str = FollowUpMethod.call,
    note: str = "",
) -> Case:
    """回访: a visit or call after closing, with a 1–5 rating and whether the agreement was carried out."""
    require_roles(actor, "follow_up")
    limits.check_note(note, "note")
    if not 1 <= satisfaction <= 5:
        raise ValidationFailed("satisfaction is 1 to 5", field="satisfaction")
    method = FollowUpMethod(method)
    async with change():
        case = await load_for_step(actor, case_id, "follow_up")
        await FollowUp.create(
            case=case,
            method=method,
            satisfaction=satisfaction,
            executed=executed,
            note=note,
            by_id=actor.user_id,
        )
        case.status = CaseStatus.followed_up
        case.satisfaction, case.executed = satisfaction, executed
        await save_case(case, "status", "satisfaction", "executed")
        await record_event(
            case,
            "case.followed_up",
            actor,
            {"satisfaction": satisfaction, "executed": executed, "method": method.value, "note": note},
        )
    return case


async def withdraw(actor: Actor, case_id: int, reason: str) -> Case:
    require_roles(actor, "withdraw")
    if not reason or not reason.strip():
        raise ValidationFailed("a withdrawal needs a reason", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await load_for_step(actor, case_id, "withdraw")
        case.status = CaseStatus.withdrawn
        case.concluded_at = now()
        for a in await active_assignments(case):
            a.finished_at = case.concluded_at
            await a.save(update_fields=["finished_at"])
        await save_case(case, "status", "concluded_at")
        await record_event(case, "case.withdrawn", actor, {"reason": reason.strip()})
    return case


async def reopen(actor: Actor, case_id: int, reason: str) -> Case:
    require_roles(actor, "reopen")
    if not reason or not reason.strip():
        raise ValidationFailed("reopening needs a reason", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await load_for_step(actor, case_id, "reopen")
        previous, old_deadline = case.status, case.resolve_by
        case.status = CaseStatus.received
        case.concluded_at = case.closed_at = None
        # The old deadline belonged to the first handling: kept, it would be overdue at once and
        # escalate the case. Cleared, the next assessment sets a new one (the core deadline rules).
        case.respond_by = case.resolve_by = case.warn_at = case.warned_at = case.overdue_at = None
        case.deadline_note = ""
        await save_case(
            case,
            "status",
            "concluded_at",
            "closed_at",
            "respond_by",
            "resolve_by",
            "warn_at",
            "warned_at",
            "overdue_at",
            "deadline_note",
        )
        await record_event(
            case,
            "case.reopened",
            actor,
            {
                "reason": reason.strip(),
                "from": str(previous),
                "cleared_resolve_by": old_deadline.isoformat() if old_deadline else None,
            },
        )
    return case
