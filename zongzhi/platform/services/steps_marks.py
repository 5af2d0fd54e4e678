"""Marks on a case that leave its status as it is: a risk level, tags, deadlines, and a plugin's
own fact on the timeline. The rules' actions set most of them too.

Who may take each step stands in the lifecycle table (``services/lifecycle.py``).
"""

from __future__ import annotations

from datetime import datetime

from zongzhi.platform.base import limits, security
from zongzhi.platform.base.codes import Risk
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case
from zongzhi.platform.services.case_access import (
    get_case,
    load_for_step,
    now,
    save_case,
    update_for_step,
)
from zongzhi.platform.services.lifecycle import require_roles
from zongzhi.platform.services.outbox import change, record_event


async def flag_risk(actor: Actor, case_id: int, level: Risk | str, reason: str) -> Case:
    require_roles(actor, "flag_risk")
    level = Risk(level)
    if not reason or not reason.strip():
        raise ValidationFailed("a risk flag needs a reason", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await load_for_step(actor, case_id, "flag_risk")
        previous = case.risk
        case.risk = level
        await save_case(case, "risk")
        await record_event(
            case, "case.risk_flagged", actor, {"level": level.value, "from": str(previous), "reason": reason}
        )
    return case


async def tag(actor: Actor, case_id: int, add: list[str], remove: list[str] | None = None) -> Case:
    require_roles(actor, "tag")
    limits.check_tags(add, "add")
    limits.check_tags(remove or [], "remove")
    async with change():
        case = await load_for_step(actor, case_id, "tag")
        tags = (set(case.tags) | {t.strip() for t in add}) - set(remove or [])
        case.tags = sorted(tags)
        await save_case(case, "tags")
        await record_event(case, "case.tagged", actor, {"added": add, "removed": remove or []})
    return case


async def set_deadline(
    actor: Actor,
    case_id: int,
    *,
    respond_by: datetime | None = None,
    resolve_by: datetime | None = None,
    note: str = "",
) -> Case:
    require_roles(actor, "set_deadline")
    if respond_by is None and resolve_by is None:
        raise ValidationFailed("give respondBy or resolveBy", field="resolveBy")
    respond_by = limits.check_deadline(respond_by, "respondBy", now())
    resolve_by = limits.check_deadline(resolve_by, "resolveBy", now())
    limits.check_note(note, "note")
    values: dict[str, object] = {}
    if respond_by is not None:
        values["respond_by"] = respond_by
    if resolve_by is not None:
        set_at = now()
        share = security.settings().deadline_warning_share
        values["resolve_by"] = resolve_by
        values["warn_at"] = set_at + (resolve_by - set_at) * share if resolve_by > set_at else resolve_by
        values["warned_at"] = values["overdue_at"] = None
    values["deadline_note"] = note[:200]
    async with change():
        case = await update_for_step(actor, case_id, "set_deadline", values)
        if case is None:
            case = await load_for_step(actor, case_id, "set_deadline")
            for column, value in values.items():
                setattr(case, column, value)
            await save_case(case, *values)
        await record_event(
            case,
            "case.deadline_set",
            actor,
            {
                "respond_by": case.respond_by.isoformat() if case.respond_by else None,
                "resolve_by": case.resolve_by.isoformat() if case.resolve_by else None,
                "note": note,
            },
        )
    return case


async def note_event(actor: Actor, case_id: int, event_type: str, payload: dict) -> Case:
    """A plugin's own fact on the timeline (a court's answer, a request sent out); no status change."""
    from zongzhi.platform.base.current import current

    if event_type not in current().codes.event_types:
        raise ValidationFailed(f"unknown event type {event_type!r}", field="type")
    async with change():
        case = await get_case(actor, case_id)
        await save_case(case)
        await record_event(case, event_type, actor, payload)
    return case


# --- effects also used by rules ----------------------------------------------------------------
