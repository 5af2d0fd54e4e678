"""One transaction per change, with its CaseEvent and outbox row, published after commit.

``async with change():`` opens the transaction. ``record_event`` writes the event and its outbox row
inside it. When the transaction commits, the outbox rows it wrote are handed to the publisher: in
the embedded mode the handlers run in-process; in production the publisher sends them to Celery.
A crash between commit and publish leaves rows with ``published_at`` empty, and
``republish_pending`` (a periodic task) sends them again — evaluation is idempotent per event. A row
already sent is sent again only once its message can no longer be in flight (its lease).

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
from typing import TYPE_CHECKING

from tortoise import Tortoise
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from zongzhi.platform.base.current import current
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case, CaseEvent, Outbox

if TYPE_CHECKING:
    from zongzhi.platform.pipeline.broker_queue import BrokerState

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

#: What runs after commit: the running platform's ``publishers`` (set when it starts).
Publisher = Callable[[list[Committed]], Awaitable[None]]


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
async def collect() -> AsyncIterator[list[Committed]]:
    """Changes inside join the caller's transaction (a savepoint, or a batch's transaction) and leave
    their rows in the list yielded, unpublished: the caller publishes them after its own commit.

    The batch evaluator uses it to evaluate consequences in the batch that made them, and to drop
    the rows of a savepoint it rolled back.
    """
    items: list[Committed] = []
    token = _pending.set(items)
    try:
        yield items
    finally:
        _pending.reset(token)


@asynccontextmanager
async def caused_by(event_id: int, depth: int, rule: str) -> AsyncIterator[None]:
    """Mark events recorded inside as consequences of ``event_id`` made by ``rule`` (rule actions)."""
    token = _cause.set((event_id, depth, rule))
    try:
        yield
    finally:
        _cause.reset(token)


def new_event(case_id: int, event_type: str, actor: Actor, payload: dict | None = None) -> CaseEvent:
    """The unsaved event ``record_event`` writes: by ``actor``, caused by the rule being applied if any."""
    cause = _cause.get()
    return CaseEvent(
        case_id=case_id,
        type=event_type,
        actor_id=actor.user_id,
        actor_label=actor.display,
        payload=payload or {},
        cause_id=cause[0] if cause else None,
        depth=cause[1] + 1 if cause else 0,
        rule=cause[2] if cause else None,
        at=datetime.now(UTC),
    )


async def record_event(case: Case, event_type: str, actor: Actor, payload: dict | None = None) -> CaseEvent:
    """Append ``event_type`` to the case's timeline with its outbox row. Call inside ``change()``."""
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("record_event must run inside outbox.change()")
    event = new_event(case.id, event_type, actor, payload)
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "postgres":
        row = await _write_event_pg(conn, event)
    else:
        await event.save()
        row = await Outbox.create(event_id=event.id, topic=EVENT_TOPIC, payload=_row_payload(event))
        await Case.filter(id=case.id).update(last_event_id=event.id)
    case.last_event_id = event.id
    from zongzhi.platform.services import inbox

    if event_type in inbox.ALERTS:
        await inbox.alert_for(case, event)
    pending.append(Committed(row, event, case))
    return event


async def written_in_one_statement(items: list[Committed]) -> None:
    """Rows a change wrote in one statement outside ``change()`` (atomic without BEGIN and COMMIT):
    published now, or, inside an enclosing ``change()``, joined to it and published on its commit."""
    pending = _pending.get()
    if pending is not None:
        pending.extend(items)
    else:
        await publish(items)


def saved_row(event: CaseEvent, row_id: int) -> Outbox:
    """The outbox row of ``event`` as a statement wrote it (``EVENT_TOPIC``), without reading it back."""
    row = Outbox(id=row_id, event_id=event.id, topic=EVENT_TOPIC, payload=_row_payload(event))
    row.created_at = event.at
    row._saved_in_db = True
    return row


def _row_payload(event: CaseEvent) -> dict:
    return {"event_id": event.id, "case_id": event.case_id, "type": event.type}


# The event, its outbox row and the case's last-event pointer in one round trip: every change
# writes them, so on PostgreSQL they are one statement instead of three.
_WRITE_EVENT_PG = """
WITH e AS (
    INSERT INTO case_event (case_id, type, actor_id, actor_label, payload, cause_id, depth, rule, at)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9) RETURNING id
), o AS (
    INSERT INTO outbox (event_id, topic, payload, created_at, attempts, last_error)
    SELECT e.id, $10, jsonb_build_object('event_id', e.id, 'case_id', $1::bigint, 'type', $2::text),
           $9, 0, ''
    FROM e RETURNING id
), c AS (
    UPDATE "case" SET last_event_id = (SELECT id FROM e) WHERE id = $1
)
SELECT e.id AS event_id, o.id AS row_id FROM e, o
"""


async def _write_event_pg(conn, event: CaseEvent) -> Outbox:
    payload = CaseEvent._meta.fields_map["payload"].to_db_value(event.payload, event)
    params = [
        event.case_id,
        event.type,
        event.actor_id,
        event.actor_label,
        payload,
        event.cause_id,
        event.depth,
        event.rule,
        event.at,
        EVENT_TOPIC,
    ]
    ids = (await conn.execute_query_dict(_WRITE_EVENT_PG, params))[0]
    event.id = ids["event_id"]
    event._saved_in_db = True
    return saved_row(event, ids["row_id"])


async def publish(items: list[Committed]) -> None:
    """Hand committed rows to the publishers; a row they did not mark is marked published here."""
    if not items:
        return
    rows = [item.row for item in items]
    try:
        for publisher in list(current().publishers):
            await publisher(items)
    except Exception as exc:  # the rows stay unpublished; the periodic task sends them again
        log.warning("outbox publish failed for %d rows: %s", len(rows), exc)
        await Outbox.filter(id__in=[r.id for r in rows]).update(
            last_error=str(exc)[:500], attempts=F("attempts") + 1
        )
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


_MARK_HANDLED_PG = """
UPDATE outbox SET processed_at = $1, published_at = COALESCE(published_at, $1)
WHERE id = ANY($2::bigint[]) AND processed_at IS NULL
"""


async def mark_rows_handled(rows: list[Outbox]) -> None:
    """Rows handled by the process holding them: processed (and published, if they were not) in one
    statement, so their messages, if any are sent, find nothing to do."""
    if not rows:
        return
    at = datetime.now(UTC)
    ids = [r.id for r in rows]
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(_MARK_HANDLED_PG, [at, ids])
    else:
        await Outbox.filter(id__in=ids, processed_at=None, published_at=None).update(
            processed_at=at, published_at=at
        )
        await Outbox.filter(id__in=ids, processed_at=None).update(processed_at=at)
    for row in rows:
        row.published_at = row.published_at or at
        row.processed_at = at


# A published row's message is in flight (queued, or held by a worker until the broker's visibility
# timeout of 600 s gives it back) for at least this long: it is not sent again before.
LEASE = timedelta(seconds=660)

#: How to ask the broker what it holds and since when it runs (the platform's ``queue_probe``,
#: celery mode only).
QueueProbe = Callable[[], Awaitable["BrokerState | None"]]


async def republish_pending(
    older_than: timedelta = timedelta(seconds=30), limit: int = 500, lease: timedelta = LEASE
) -> int:
    """Send again what was committed but never handled, and only what can no longer be in flight.

    Rows never published (broker down, crash after commit) go after ``older_than``. A row published
    but not processed is sent again only when its lease has run out (``published_at`` + ``lease``,
    longer than the broker's visibility timeout) or the broker restarted since it was sent, and,
    when the broker can be asked, its message is not still waiting in the queue: every message sent
    at or after the oldest waiting one is still there. So a backlog behind slow or stopped workers
    is never sent twice, while a message lost with the broker or a killed worker is sent again.
    Evaluation is idempotent per event anyway.
    """
    now = datetime.now(UTC)
    cutoff = now - older_than
    lost = Q(published_at__lte=now - lease)
    probe = current().queue_probe
    state = await probe() if probe is not None else None
    if state is not None and state.started_at is not None:
        lost |= Q(published_at__lt=state.started_at)
    if state is not None and state.waiting_since is not None:
        lost &= Q(published_at__lt=state.waiting_since)
    rows = (
        await Outbox.filter(processed_at=None, created_at__lte=cutoff)
        .filter(Q(published_at=None) | lost)
        .order_by("id")
        .limit(limit)
    )
    if rows:
        await Outbox.filter(id__in=[r.id for r in rows]).update(published_at=None)
        for row in rows:
            row.published_at = None
    await publish([Committed(row) for row in rows])
    return len(rows)
