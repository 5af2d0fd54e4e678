"""Celery: the distributed half of the event pipeline (``zongzhi worker`` / ``zongzhi beat``).

Celery has no asyncio support, so each worker process keeps one event loop with the ORM initialised
on it, and every task runs its async body on that loop. Tasks acknowledge late and are rejected on a
lost worker, so a killed worker's task is delivered again; the outbox republisher is the second net
(it resends events that were never processed), and evaluation is idempotent per event.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from celery.signals import worker_process_init, worker_process_shutdown

from zongzhi.platform.base.observability import celery_hooks, metrics, tracing
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.pipeline.queue import (
    DEADLINES,
    DELIVER,
    EVALUATE,
    ORPHANS,
    REPUBLISH,
    SWEEPS,
    make_celery,
)

log = logging.getLogger(__name__)

settings = Settings.from_env()
celery_app = make_celery(settings.broker_url)
celery_hooks.install(settings)
tracing.configure(settings)

_loop: asyncio.AbstractEventLoop | None = None


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` on this process's loop, starting the ORM on first use."""
    global _loop
    if _loop is None:
        from zongzhi.platform.wiring import runtime

        _loop = asyncio.new_event_loop()
        _loop.run_until_complete(runtime.startup(settings, migrate=False))
    return _loop.run_until_complete(coro)


@worker_process_init.connect
def _start_process(**_: Any) -> None:
    _run(asyncio.sleep(0))


@worker_process_shutdown.connect
def _stop_process(**_: Any) -> None:
    if _loop is not None:
        from zongzhi.platform.wiring import runtime

        _loop.run_until_complete(runtime.shutdown())
    metrics.process_gone(os.getpid())


@celery_app.task(name=DELIVER)
def deliver_due() -> int:
    from zongzhi.platform.partners import deliver_due as sweep

    return _run(sweep())


@celery_app.task(name=EVALUATE)
def evaluate_event(event_id: int) -> int:
    from zongzhi.platform.rules.evaluation import evaluate_event as evaluate

    fired = len(_run(evaluate(event_id)))
    log.info("event %s evaluated: %d rules fired", event_id, fired)
    return fired


@celery_app.task(name=REPUBLISH)
def republish_outbox() -> int:
    from zongzhi.platform.services.outbox import republish_pending

    return _run(republish_pending())


@celery_app.task(name=DEADLINES)
def deadline_tick() -> dict[str, int]:
    from zongzhi.platform.services.deadlines import tick

    return _run(tick())


@celery_app.task(name=SWEEPS)
def sweep_tick() -> dict[str, int]:
    """Scheduled sweeps: this period's tasks (created once), overdue ones sent to the level above."""
    from zongzhi.platform.services.sweeps import tick

    return _run(tick())


@celery_app.task(name=ORPHANS)
def remove_orphan_evidence() -> int:
    from zongzhi.platform.pipeline.tasks_evidence import remove_orphans
    from zongzhi.storage import build_store

    return _run(remove_orphans(build_store(settings), timedelta(hours=settings.evidence_orphan_hours)))


def run_worker(concurrency: int, loglevel: str) -> None:
    # --quiet (a global option, before the sub-command): in JSON mode the start-up banner is not a log line.
    quiet = ["--quiet"] if settings.log_format == "json" else []
    celery_app.worker_main(
        [
            *quiet,
            "worker",
            f"--loglevel={loglevel}",
            f"--concurrency={concurrency}",
            "--queues=zongzhi",
            "--without-gossip",
        ]
    )


def run_beat(loglevel: str, schedule_file: str) -> None:
    quiet = ["--quiet"] if settings.log_format == "json" else []
    celery_app.start([*quiet, "beat", f"--loglevel={loglevel}", f"--schedule={schedule_file}"])
