"""One transaction per change, with its CaseEvent and outbox row, published after commit.

``async with change():`` opens the transaction. ``record_event`` writes the event and its outbox row
inside it. When the transaction commits, the outbox rows it wrote are handed to the publisher: in
the embedded mode the handlers run in-process; in production the publisher sends them to Celery.
A crash between commit and publish leaves rows with ``published_at`` empty, and
``republish_pending`` (a periodic task) sends them again — evaluation is idempotent per event.

Publishers receive ``Committed`` items: the row, and the event and case objects the transaction
wrote, so the process that made a change need not read back what it has just written.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from zongzhi.platform.actor import Actor
from zongzhi.platform.models import Case, CaseEvent, Outbox

log = logging.getLogger(__name__)

EVENT_TOPIC = "case.event"



@dataclass
class Committed:
    """An outbox row to publish; ``event`` and ``case`` are there when this process wrote them."""

    row: Outbox
    event: CaseEvent | None = None
    case: Case | None = None


_pending: ContextVar[list[Committed] | None] = ContextVar("zongzhi_outbox_pending", default=None)
_cause: ContextVar[tuple[int, int, str] | None] = ContextVar("zongzhi_event_cause", default=None)

Publisher = Callable[[list[Committed]], Awaitable[None]]
_publishers: list[Publisher] = []


def set_publishers(publishers: list[Publisher]) -> None:
    """Install what runs after commit (the app and the worker call this at start-up)."""
    _publishers[:] = publishers


@asynccontextmanager
async def change() -> AsyncIterator[None]:
    """A transaction whose outbox rows are published once it has committed."""
    outer = _pending.get()
    if outer is not None:
        # Nested: join the enclosing change; it publishes on its own commit.
        yield
        return
    pending: list[Committed] = []
    token = _pending.set(pending)
    try:
        async with in_transaction():
            yield
    finally:
        _pending.reset(token)
    if pending:
        await publish(pending)


@asynccontextmanager
async def caused_by(event_id: int, depth: int, rule: str) -> AsyncIterator[None]:
    """Mark events recorded inside as consequences of ``event_id`` made by ``rule`` (rule actions)."""
    token = _cause.set((event_id, depth, rule))
    try:
        yield
    finally:
        _cause.reset(token)


async def record_event(case: Case, event_type: str, actor: Actor, payload: dict | None = None) -> CaseEvent:
    """Append ``event_type`` to the case's timeline with its outbox row. Call inside ``change()``."""
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("record_event must run inside outbox.change()")
    cause = _cause.get()
    event = await CaseEvent.create(
        case_id=case.id,
        type=event_type,
        actor_id=actor.user_id,
        actor_label=actor.display,
        payload=payload or {},
        cause_id=cause[0] if cause else None,
        depth=cause[1] + 1 if cause else 0,
        rule=cause[2] if cause else None,
    )
    row = await Outbox.create(
        event_id=event.id,
        topic=EVENT_TOPIC,
        payload={"event_id": event.id, "case_id": case.id, "type": event_type},
    )
    case.last_event_id = event.id
    await Case.filter(id=case.id).update(last_event_id=event.id)
    pending.append(Committed(row, event, case))
    return event


async def publish(items: list[Committed]) -> None:
    """Hand committed rows to the publishers; a row they did not mark is marked published here."""
    if not items:
        return
    rows = [item.row for item in items]
    try:
        for publisher in _publishers:
            await publisher(items)
    except Exception as exc:  # the rows stay unpublished; the periodic task sends them again
        log.warning("outbox publish failed for %d rows: %s", len(rows), exc)
        await Outbox.filter(id__in=[r.id for r in rows]).update(last_error=str(exc)[:500])
        for row in rows:
            await Outbox.filter(id=row.id).update(attempts=row.attempts + 1)
        return
    unmarked = [r.id for r in rows if r.published_at is None]
    if unmarked:
        await Outbox.filter(id__in=unmarked).update(published_at=datetime.now(UTC))


async def mark_processed(event_id: int) -> None:
    """The consumer finished with this event; it will not be sent again."""
    await Outbox.filter(event_id=event_id, processed_at=None).update(processed_at=datetime.now(UTC))


async def mark_handled(row: Outbox) -> None:
    """The process that committed ``row`` has also handled it: published and processed at once."""
    at = datetime.now(UTC)
    await Outbox.filter(id=row.id, processed_at=None).update(processed_at=at, published_at=at)
    row.published_at = row.processed_at = at


async def republish_pending(older_than: timedelta = timedelta(seconds=30), limit: int = 500) -> int:
    """Send again what was committed but never handled.

    That is rows never published (broker down, crash after commit) and rows published but not
    processed in time (a worker killed mid-evaluation, a message lost with the broker). Evaluation
    is idempotent per event, so sending twice is harmless and sending never is what we prevent.
    """
    cutoff = datetime.now(UTC) - older_than
    rows = (
        await Outbox.filter(processed_at=None, created_at__lte=cutoff)
        .filter(Q(published_at=None) | Q(published_at__lte=cutoff))
        .order_by("id")
        .limit(limit)
    )
    if rows:
        await Outbox.filter(id__in=[r.id for r in rows]).update(published_at=None)
        for row in rows:
            row.published_at = None
    await publish([Committed(row) for row in rows])
    return len(rows)
