"""吹哨报到: a summoned department reports in before its deadline."""

from __future__ import annotations

from datetime import UTC, datetime

from zongzhi.platform.base.errors import Forbidden, InvalidTransition, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import resolve_ref
from zongzhi.platform.models import Case, Whistle
from zongzhi.platform.services.outbox import change, record_event


async def answer(actor: Actor, whistle_id: int, answer_text: str) -> Whistle:
    if not answer_text or not answer_text.strip():
        raise ValidationFailed("say what the department will do", field="answer")
    whistle = await resolve_ref(actor, Whistle, whistle_id, "whistleId")
    if not actor.system and actor.department_id != whistle.department_id:
        raise Forbidden("only the summoned department reports in")
    async with change():
        claimed = await Whistle.filter(id=whistle.id, answered_at=None).update(
            answered_at=datetime.now(UTC), answer=answer_text.strip()
        )
        if not claimed:
            raise InvalidTransition("this whistle was already answered")
        case = await Case.get(id=whistle.case_id)
        await record_event(
            case,
            "case.whistle_answered",
            actor,
            {"whistle_id": whistle.id, "department_id": whistle.department_id, "answer": answer_text.strip()},
        )
    return await Whistle.get(id=whistle.id)
