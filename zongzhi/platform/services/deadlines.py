"""The deadline tick: ``case.deadline_warning``, ``case.overdue`` and unanswered whistles, once each.

Deadlines are columns, not timers. Each emission first claims its row with a conditional update
(``warned_at IS NULL`` → now) inside the transaction that records the event, so two ticks running at
once, or a tick repeated after a restart, emit each event exactly once per deadline.
"""

from __future__ import annotations

from datetime import UTC, datetime

from zongzhi.platform.base.observability import metrics
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case, Whistle
from zongzhi.platform.services.lifecycle import OPEN
from zongzhi.platform.services.outbox import change, record_event

TICK_ACTOR = Actor.system_actor("期限监控")


async def _emit_case(case_id: int, claim_field: str, event_type: str, now: datetime) -> bool:
    async with change():
        claimed = await Case.filter(id=case_id, **{claim_field: None}).update(**{claim_field: now})
        if not claimed:
            return False
        case = await Case.get(id=case_id)
        await record_event(
            case,
            event_type,
            TICK_ACTOR,
            {
                "resolve_by": case.resolve_by.isoformat() if case.resolve_by else None,
                "note": case.deadline_note,
            },
        )
    return True


async def tick(now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    now = now or datetime.now(UTC)
    counts = {"warnings": 0, "overdue": 0, "whistles": 0}
    # A deadline that passed between two ticks is warned of first, then marked overdue, in the
    # same tick: skipping the warning would leave rules on it unfired.
    warn_ids = (
        await Case.filter(status__in=list(OPEN), warn_at__lte=now, warned_at=None)
        .limit(limit)
        .values_list("id", flat=True)
    )
    for case_id in warn_ids:
        counts["warnings"] += await _emit_case(case_id, "warned_at", "case.deadline_warning", now)
    late_ids = (
        await Case.filter(status__in=list(OPEN), resolve_by__lte=now, overdue_at=None)
        .limit(limit)
        .values_list("id", flat=True)
    )
    for case_id in late_ids:
        counts["overdue"] += await _emit_case(case_id, "overdue_at", "case.overdue", now)
    for whistle in await Whistle.filter(answered_at=None, unanswered_emitted_at=None, due__lte=now).limit(
        limit
    ):
        async with change():
            claimed = await Whistle.filter(id=whistle.id, unanswered_emitted_at=None).update(
                unanswered_emitted_at=now
            )
            if claimed:
                case = await Case.get(id=whistle.case_id)
                await record_event(
                    case,
                    "case.whistle_unanswered",
                    TICK_ACTOR,
                    {
                        "whistle_id": whistle.id,
                        "department_id": whistle.department_id,
                        "due": whistle.due.isoformat(),
                    },
                )
                counts["whistles"] += 1
    metrics.DEADLINE_TICKS.inc()
    for kind, key in (("warning", "warnings"), ("overdue", "overdue"), ("whistle", "whistles")):
        metrics.DEADLINE_EVENTS.labels(kind).inc(counts[key])
    return counts
