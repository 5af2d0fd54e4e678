"""The live dispatch board's event feed: committed case events, announced to subscribers.

An outbox publisher (``announce``) runs after each commit in whichever process made the change —
an API process, or a Celery worker whose rule actions or deadline tick produced the event — and
hands a small message per event to the hub. The hub fans messages out to this process's
subscribers; with ``ZONGZHI_REDIS_URL`` set it goes through Redis pub/sub so subscribers on any API
process receive events from any process. Without Redis (the embedded mode) it stays in-process.

The board is a live view, not a ledger: if Redis is briefly unreachable an announcement is logged
and dropped rather than holding the outbox row back (which would evaluate nothing twice, but
would re-announce). Screens re-read the queries when they reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from zongzhi.platform.base.observability import metrics
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import can_see_case, is_partner
from zongzhi.platform.models import Case, CaseEvent
from zongzhi.platform.services.outbox import EVENT_TOPIC, Committed

log = logging.getLogger(__name__)

STATUS_EVENTS = frozenset(
    {
        "case.assessed",
        "case.rejected",
        "case.dispatched",
        "case.accepted",
        "case.returned",
        "case.resolved",
        "case.failed",
        "case.closed",
        "case.followed_up",
        "case.withdrawn",
        "case.reopened",
    }
)
#: Board kind of each announced event type; other types (notes, tags, ...) are not announced.
KINDS: dict[str, str] = {
    "case.received": "new_case",
    **{t: "status" for t in STATUS_EVENTS},
    "case.escalated": "escalation",
    "case.risk_flagged": "risk",
    "case.overdue": "overdue",
    "case.deadline_warning": "deadline_warning",
    "case.whistle_unanswered": "whistle_unanswered",
}
QUEUE_SIZE = 1000


class Hub:
    """Delivers board messages to this process's subscribers (each an ``asyncio.Queue``)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        #: Subscribers that receive what is published from now on (their listener is up).
        self.listening = 0

    async def publish(self, message: dict[str, Any]) -> None:
        self.deliver(message)

    def deliver(self, message: dict[str, Any]) -> None:
        for queue in list(self._queues):
            if queue.full():  # a stalled subscriber loses its oldest messages, not everyone's newest
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    async def _started(self) -> None:
        """Hook for hubs that need a listener while anyone subscribes."""

    async def _stopped(self) -> None:
        """Called when the last subscriber leaves."""

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        live = False
        try:
            if len(self._queues) == 1:
                await self._started()
            self.listening += 1
            live = True
            with metrics.subscription_open():
                yield queue
        finally:
            self.listening -= live
            self._queues.discard(queue)
            if not self._queues:
                await self._stopped()

    async def close(self) -> None:
        await self._stopped()


class RedisHub(Hub):
    """Publishes through Redis and delivers what arrives on the channel, whoever published it."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None

    def _redis(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:  # a client belongs to one loop
            self._client = aioredis.from_url(self.url)
            self._client_loop = loop
        return self._client

    async def publish(self, message: dict[str, Any]) -> None:
        await self._redis().publish(self.channel, json.dumps(message, ensure_ascii=False, default=str))

    async def _started(self) -> None:
        if self._listener is None or self._listener.done():
            self._ready = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(self._ready))
        assert self._ready is not None
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _stopped(self) -> None:
        task, self._listener = self._listener, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _listen(self, ready: asyncio.Event) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    ready.set()
                    async for item in pubsub.listen():
                        if item.get("type") == "message":
                            self.deliver(json.loads(item["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("dispatch board: Redis subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(1)
            finally:
                await client.aclose()


def channel_for(settings: Settings) -> str:
    """One channel per database, so deployments or test runs sharing a Redis never cross-talk."""
    return "zongzhi:board:" + hashlib.sha256(settings.db_url.encode()).hexdigest()[:16]


def hub_for(settings: Settings) -> Hub:
    """The hub for ``settings``: through Redis when ``ZONGZHI_REDIS_URL`` is set, else in-process.

    Nothing is connected until someone subscribes; the platform closes its hub when it stops.
    """
    if settings.redis_url:
        return RedisHub(settings.redis_url, channel_for(settings))
    return Hub()


def hub() -> Hub:
    """The running platform's hub."""
    from zongzhi.platform.base.current import current

    return current().hub


def message_for(event: CaseEvent, case: Case) -> dict[str, Any]:
    at: datetime = event.at
    return {
        "event_id": event.id,
        "type": event.type,
        "kind": KINDS[event.type],
        "case_id": case.id,
        "number": case.number,
        "title": case.title,
        "status": str(case.status),
        "risk": str(case.risk),
        "category": case.category,
        "channel": case.channel,
        "center_id": case.center_id,
        "center_path": case.center_path,
        "grid_id": case.grid_id,
        "at": at.isoformat(),
        "actor": event.actor_label,
        "payload": event.payload,
    }


#: Events that write inbox rows (services.inbox): each wakes the ``notifications`` subscriptions.
INBOX_TYPES = frozenset({"case.notified", "case.overdue", "case.supervised", "case.whistle", "case.returned"})


async def _announce_inbox(event: CaseEvent, case: Case) -> None:
    message = {
        "kind": "inbox",
        "type": event.type,
        "case_id": case.id,
        "center_path": case.center_path,
        "grid_id": case.grid_id,
    }
    try:
        await hub().publish(message)
    except Exception as exc:
        log.warning("inbox: could not announce event %s: %s", event.id, exc)


async def announce(items: list[Committed]) -> None:
    """Outbox publisher: announce the committed events the board shows.

    Events this process wrote are announced from the objects it committed; the others (sent
    again by the republisher) are read back with their case.
    """
    shown = [i for i in items if i.row.topic == EVENT_TOPIC and i.row.event_id is not None]
    at_hand = [(i.event, i.case) for i in shown if i.event is not None and i.case is not None]
    missing = [i.row.event_id for i in shown if i.event is None or i.case is None]
    if missing:
        events = await CaseEvent.filter(id__in=missing).select_related("case")
        at_hand.extend((event, event.case) for event in events)
    board = hub()
    for event, case in sorted(at_hand, key=lambda pair: pair[0].id):
        if event.type in INBOX_TYPES:
            await _announce_inbox(event, case)
        if event.type not in KINDS:
            continue
        try:
            await board.publish(message_for(event, case))
        except Exception as exc:
            log.warning("dispatch board: could not announce event %s: %s", event.id, exc)


async def visible_to(actor: Actor, message: dict[str, Any]) -> bool:
    """The jurisdiction rule of ``case_scope`` applied to one message (DESIGN.md §9)."""
    if actor.system:
        return True
    if is_partner(actor):  # a partner account reads nothing of a center it is attached to
        return False
    if actor.center_path and str(message.get("center_path", "")).startswith(actor.center_path):
        return True
    if message.get("grid_id") is not None and message["grid_id"] in actor.grid_ids:
        return True
    if actor.department_id or actor.user_id:
        return await can_see_case(actor, int(message["case_id"]))
    return False
