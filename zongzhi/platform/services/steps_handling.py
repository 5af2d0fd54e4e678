"""Handling steps (办理): the assigned unit accepts or returns the case, notes progress, and ends
mediation with an agreement or a failure; a center above presses with supervision (督办).

Who may take each step stands in the lifecycle table (``services/lifecycle.py``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from zongzhi.platform.base import limits
from zongzhi.platform.base.codes import CaseStatus, CenterLevel
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case
from zongzhi.platform.services.case_access import (
    active_assignments,
    load_for_step,
    lock_case,
    now,
    require_assignee,
    save_case,
)
from zongzhi.platform.services.lifecycle import require_roles
from zongzhi.platform.services.outbox import change, record_event


async def accept(actor: Actor, case_id: int, note: str = "") -> Case:
    limits.check_note(note, "note")
    async with change():
        case = await lock_case(actor, case_id)
        assignment = await require_assignee(actor, "accept", case)
        assignment.accepted_at = now()
        await assignment.save(update_fields=["accepted_at"])
        case.status = CaseStatus.handling
        case.accepted_at = case.accepted_at or assignment.accepted_at
        await save_case(case, "status", "accepted_at")
        await record_event(case, "case.accepted", actor, {"assignment_id": assignment.id, "note": note})
    return case


async def return_case(actor: Actor, case_id: int, reason: str) -> Case:
    """退回: the assigned unit sends a mis-routed case back to the center for re-dispatch."""
    if not reason or not reason.strip():
        raise ValidationFailed("a return needs a reason (退回理由)", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await lock_case(actor, case_id)
        assignment = await require_assignee(actor, "return", case)
        assignment.returned_at = now()
        assignment.return_reason = reason.strip()
        await assignment.save(update_fields=["returned_at", "return_reason"])
        remaining = await active_assignments(case)
        if not remaining:
            case.status = CaseStatus.assessed
        await save_case(case, "status")
        await record_event(
            case,
            "case.returned",
            actor,
            {
                "assignment_id": assignment.id,
                "department_id": assignment.department_id,
                "reason": reason.strip(),
            },
        )
    return case


async def add_progress(actor: Actor, case_id: int, note: str) -> Case:
    if not note or not note.strip():
        raise ValidationFailed("a progress note cannot be empty", field="note")
    limits.check_note(note, "note")
    async with change():
        case = await load_for_step(actor, case_id, "progress")
        await save_case(case)
        await record_event(case, "case.progress", actor, {"note": note.strip()})
    return case


async def supervise(actor: Actor, case_id: int, note: str, level: str | None = None) -> Case:
    """督办: a center above the handler presses for progress; recorded on the timeline."""
    require_roles(actor, "supervise")
    if not note or not note.strip():
        raise ValidationFailed("supervision needs a note saying what is expected", field="note")
    limits.check_note(note, "note")
    if level is not None and level not in {str(v) for v in CenterLevel}:
        raise ValidationFailed(f"level is one of {', '.join(str(v) for v in CenterLevel)}", field="level")
    async with change():
        case = await load_for_step(actor, case_id, "supervise")
        await save_case(case)
        await record_event(
            case, "case.supervised", actor, {"note": note.strip(), "level": level or actor.center_level}
        )
    return case


def _parse_amount(amount: str | float | Decimal | None) -> Decimal | None:
    if amount is None:
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValidationFailed("amount must be a number", field="amount") from None
    return limits.check_amount(value, "amount")


async def _conclude(actor: Actor, case: Case, status: CaseStatus) -> None:
    case.status = status
    case.concluded_at = now()
    for a in await active_assignments(case):
        a.finished_at = case.concluded_at
        await a.save(update_fields=["finished_at"])


async def resolve(
    actor: Actor, case_id: int, outcome: str, agreement: str = "", amount: str | float | Decimal | None = None
) -> Case:
    """调处成功: mediation ended in agreement (调解协议), possibly an amount."""
    if not outcome or not outcome.strip():
        raise ValidationFailed("describe the outcome", field="outcome")
    limits.check_note(outcome, "outcome")
    limits.check_text(agreement, "agreement", limits.DESCRIPTION_MAX, multiline=True)
    value = _parse_amount(amount)
    async with change():
        case = await load_for_step(actor, case_id, "resolve")
        await _conclude(actor, case, CaseStatus.resolved)
        case.outcome, case.agreement, case.amount = outcome.strip(), agreement.strip(), value
        await save_case(case, "status", "concluded_at", "outcome", "agreement", "amount")
        await record_event(
            case,
            "case.resolved",
            actor,
            {
                "outcome": case.outcome,
                "agreement": case.agreement,
                "amount": str(value) if value is not None else None,
            },
        )
    return case


NEXT_STEPS = ("arbitration", "litigation", "court_fast_track", "administrative", "other")


async def fail(actor: Actor, case_id: int, outcome: str, next_step: str = "other") -> Case:
    """调处失败: mediation failed; the parties are guided to arbitration, litigation or the court."""
    if not outcome or not outcome.strip():
        raise ValidationFailed("say why mediation failed", field="outcome")
    limits.check_note(outcome, "outcome")
    if next_step not in NEXT_STEPS:
        raise ValidationFailed(f"nextStep is one of {', '.join(NEXT_STEPS)}", field="nextStep")
    async with change():
        case = await load_for_step(actor, case_id, "fail")
        await _conclude(actor, case, CaseStatus.failed)
        case.outcome = outcome.strip()
        await save_case(case, "status", "concluded_at", "outcome")
        await record_event(case, "case.failed", actor, {"outcome": case.outcome, "next_step": next_step})
    return case
