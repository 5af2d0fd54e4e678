"""What a started platform runs: how committed events are published, rulesets installed, deliveries
kicked, and the embedded mode's background loop (``Platform.start`` wires these).

``event_mode=inline`` (embedded): committed events are evaluated in-process right after commit, and
``background_loop`` does what Celery beat does in production (republish, deadline tick, orphans).
``event_mode=celery``: committed events go to the broker; workers evaluate them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING

from zongzhi.platform import partners
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.services import outbox

if TYPE_CHECKING:
    from zongzhi.platform.wiring.platform import Platform

log = logging.getLogger(__name__)


def core_rules_source() -> str:
    return resources.files("zongzhi.platform.rules").joinpath("core_rules.yaml").read_text(encoding="utf-8")


def _unhandled(items: list[outbox.Committed]) -> list[outbox.Committed]:
    """Event rows still to evaluate: a batch marks the consequences it evaluated itself processed."""
    return [
        item
        for item in items
        if item.row.topic == outbox.EVENT_TOPIC
        and item.row.event_id is not None
        and item.row.processed_at is None
    ]


async def inline_publisher(items: list[outbox.Committed]) -> None:
    from zongzhi.platform.base.current import current
    from zongzhi.platform.rules.evaluation import evaluate_event
    from zongzhi.platform.rules.grouped import evaluate_grouped

    todo = _unhandled(items)
    limit = current().settings.worker_batch
    if todo and limit > 0:
        await evaluate_grouped(todo, limit)
        return
    for item in todo:
        await evaluate_event(item.row.event_id, committed=item)


def celery_publisher(broker_url: str) -> outbox.Publisher:
    """Sends committed events to ``broker_url``: the settings' broker, not the environment's."""

    async def publish(items: list[outbox.Committed]) -> None:
        from zongzhi.platform.pipeline.queue import send_evaluation

        for item in _unhandled(items):
            await asyncio.to_thread(send_evaluation, item.row.event_id, broker_url)

    return publish


def board_publisher(settings: Settings) -> outbox.Publisher:
    """Announces committed events to the dispatch board (the platform's hub: in-process, or through
    Redis if configured)."""
    from zongzhi.platform.pipeline import broadcast

    return broadcast.announce


def publishers_for(settings: Settings) -> list[outbox.Publisher]:
    if settings.event_mode == "celery":
        return [celery_publisher(settings.broker_url), board_publisher(settings)]
    if settings.event_mode == "inline":
        return [inline_publisher, board_publisher(settings)]
    raise ValueError(f"ZONGZHI_EVENT_MODE must be inline or celery, not {settings.event_mode!r}")


def queue_probe_for(settings: Settings) -> outbox.QueueProbe | None:
    """In celery mode the republisher asks the broker what is still queued before sending again."""
    if settings.event_mode != "celery":
        return None
    from zongzhi.platform.pipeline.broker_queue import broker_state

    async def probe():
        return await asyncio.to_thread(broker_state, settings.broker_url)

    return probe


async def install_rulesets(platform: Platform) -> None:
    """The core rules and every loaded plugin's rulesets (new ones active, changed ones as drafts)."""
    from zongzhi.platform.rules import versions as rulesets

    await rulesets.install("core", core_rules_source(), owner_plugin=None)
    for plugin_name, name, source in platform.plugins.shipped_rulesets():
        await rulesets.install(name, source, owner_plugin=plugin_name)


def delivery_kicker(platform: Platform):
    """How a freshly queued partner delivery gets sent at once (the periodic sweep is the net)."""
    settings = platform.settings
    if settings.event_mode == "celery":

        def kick() -> None:
            from zongzhi.platform.pipeline.queue import send_delivery_sweep

            send_delivery_sweep(settings.broker_url)

        return kick

    def kick_inline() -> None:
        from zongzhi.platform.partners import deliver_due

        platform.spawn(deliver_due())

    return kick_inline


async def background_loop(settings: Settings, store) -> None:
    """The embedded mode's beat: republish and deliver every 10 s, deadlines every minute, sweeps every
    5 minutes, orphans hourly."""
    from zongzhi.platform.pipeline.tasks_evidence import remove_orphans
    from zongzhi.platform.services import sweeps
    from zongzhi.platform.services.deadlines import tick

    ticks = 0
    while True:
        await asyncio.sleep(10)
        ticks += 1
        try:
            await outbox.republish_pending()
            await partners.deliver_due()
            if ticks % 6 == 0:
                await tick()
            if ticks % 30 == 0:
                await sweeps.tick()
            if ticks % 360 == 0:
                await remove_orphans(store, timedelta(hours=settings.evidence_orphan_hours))
        except Exception:
            log.exception("background loop step failed")
