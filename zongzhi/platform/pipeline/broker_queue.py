"""What the broker still holds: when the oldest message waiting in the workers' queue was sent.

The outbox republisher must not send an event again while its first message is still queued: with
a backlog that only makes the backlog longer. Every task message is stamped with the time it was
sent (``before_task_publish``), and the Redis transport keeps the queue as a list that workers pop
in order, so the stamp of the oldest waiting message says which messages are certainly still in
the queue: every one sent at or after it. A message sent before it was delivered to a worker
(finished, or held unacknowledged until the broker's visibility timeout gives it back) or lost.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery.signals import before_task_publish

log = logging.getLogger(__name__)

QUEUE = "zongzhi"
STAMP = "zongzhi_sent_at"
VISIBILITY_TIMEOUT_SECONDS = 600
# How far from the consuming end to look for a stamped message when the oldest ones carry none
# (sent by a process that is not ours); any stamped message further in is younger still.
SCAN = 100


@before_task_publish.connect
def _stamp(headers: dict | None = None, **_: object) -> None:
    if headers is not None and STAMP not in headers:
        headers[STAMP] = datetime.now(UTC).isoformat()


def _stamp_of(raw: bytes) -> datetime | None:
    try:
        value = json.loads(raw).get("headers", {}).get(STAMP)
        return datetime.fromisoformat(value) if value else None
    except (ValueError, AttributeError, TypeError):
        return None


@dataclass(frozen=True)
class BrokerState:
    """``waiting_since``: when the oldest waiting message was sent (``None``: the queue is empty);
    ``started_at``: when the broker process started (what was sent before and is not queued is lost)."""

    waiting_since: datetime | None
    started_at: datetime | None


def broker_state(broker_url: str) -> BrokerState | None:
    """What the Redis broker at ``broker_url`` holds; ``None`` if it is not Redis or cannot be asked."""
    if not broker_url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        uptime = int(client.info("server").get("uptime_in_seconds", 0))
        started_at = datetime.now(UTC) - timedelta(seconds=uptime + 1)
        # kombu pushes on the left and workers pop on the right: index -1 is next to be delivered.
        for raw in client.lrange(QUEUE, -SCAN, -1)[::-1]:
            stamp = _stamp_of(raw)
            if stamp is not None:
                return BrokerState(stamp, started_at)
        return BrokerState(None, started_at)
    except redis.RedisError as exc:
        log.warning("cannot read the broker's queue: %s", exc)
        return None
    finally:
        client.close()
