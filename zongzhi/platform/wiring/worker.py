"""Celery: the distributed half of the event pipeline (``zongzhi worker`` / ``zongzhi beat``).

Celery has no asyncio support, so each worker process keeps one event loop with its platform
(database, rules engine, plugins) started on it, and every task runs its async body on that loop.
``build_app(settings)`` makes the Celery app; importing this module does nothing. Tasks
acknowledge late and are rejected on a lost worker, so a killed worker's task is delivered again;
the outbox republisher is the second net (it resends events that were never processed), and
evaluation is idempotent per event.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from zongzhi.platform.base.current import current_or_none
from zongzhi.platform.base.observability import celery_hooks, metrics
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

if TYPE_CHECKING:
    from zongzhi.platform.wiring.platform import Platform

log = logging.getLogger(__name__)


class TaskRunner:
    """One worker process's event loop and platform: built in ``worker_process_init`` (or on the first
    task, in a pool without child processes), stopped in ``worker_process_shutdown``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop: asyncio.AbstractEventLoop | None = None
        self.platform: Platform | None = None

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` on this process's loop, starting the platform on first use."""
        if self.loop is None:
            self.start()
        assert self.loop is not None
        return self.loop.run_until_complete(coro)

    def start(self, **_: Any) -> None:
        if self.loop is not None:
            return
        from zongzhi.platform.wiring.platform import Platform

        loop = asyncio.new_event_loop()
        platform = Platform.build(self.settings)
        loop.run_until_complete(platform.start(migrate=False))
        self.loop, self.platform = loop, platform
        # Celery says "ready." once its pool processes are forked, not once they are initialised:
        # this line says the process's platform is up (its rulesets installed).
        log.info("worker process %d started its platform", os.getpid())

    def stop(self, **_: Any) -> None:
        if self.loop is not None and self.platform is not None:
            self.loop.run_until_complete(self.platform.stop())
        metrics.process_gone(os.getpid())


def build_app(settings: Settings | None = None) -> Celery:
    """The worker's and beat's Celery app, with its tasks and signal receivers.

    A factory, so that importing this module reads no environment and creates nothing; each worker
    process builds its platform in ``worker_process_init``.
    """
    settings = settings or _settings()
    app = make_celery(settings)
    celery_hooks.install(settings)
    runner = TaskRunner(settings)
    app.zongzhi_runner = runner  # type: ignore[attr-defined]
    worker_process_init.disconnect(dispatch_uid="zongzhi-process-init")
    worker_process_init.connect(runner.start, weak=False, dispatch_uid="zongzhi-process-init")
    worker_process_shutdown.disconnect(dispatch_uid="zongzhi-process-shutdown")
    worker_process_shutdown.connect(runner.stop, weak=False, dispatch_uid="zongzhi-process-shutdown")

    @app.task(name=DELIVER)
    def deliver_due() -> int:
        from zongzhi.platform.partners import deliver_due as sweep

        return runner.run(sweep())

    @app.task(name=EVALUATE)
    def evaluate_event(event_id: int) -> int:
        """Batched (``ZONGZHI_WORKER_BATCH`` > 0): returns the outbox rows handled; else the rules fired."""
        if settings.worker_batch > 0:
            from zongzhi.platform.rules.batch import evaluate_message

            handled = runner.run(evaluate_message(event_id, settings.worker_batch))
            log.info("event %s evaluated: %d outbox rows handled in its batch", event_id, handled)
            return handled
        from zongzhi.platform.rules.evaluation import evaluate_event as evaluate

        fired = len(runner.run(evaluate(event_id)))
        log.info("event %s evaluated: %d rules fired", event_id, fired)
        return fired

    @app.task(name=REPUBLISH)
    def republish_outbox() -> int:
        from zongzhi.platform.services.outbox import republish_pending

        return runner.run(republish_pending())

    @app.task(name=DEADLINES)
    def deadline_tick() -> dict[str, int]:
        from zongzhi.platform.services.deadlines import tick

        return runner.run(tick())

    @app.task(name=SWEEPS)
    def sweep_tick() -> dict[str, int]:
        """Scheduled sweeps: this period's tasks (created once), overdue ones sent to the level above."""
        from zongzhi.platform.services.sweeps import tick

        return runner.run(tick())

    @app.task(name=ORPHANS)
    def remove_orphan_evidence() -> int:
        from zongzhi.platform.pipeline.tasks_evidence import remove_orphans

        async def remove() -> int:
            assert runner.platform is not None
            orphan_age = timedelta(hours=settings.evidence_orphan_hours)
            return await remove_orphans(runner.platform.store, orphan_age)

        return runner.run(remove())

    return app


def _settings() -> Settings:
    """The running platform's settings (the CLI's), else the environment's."""
    platform = current_or_none()
    return platform.settings if platform is not None else Settings.from_env()


def run_worker(concurrency: int, loglevel: str, settings: Settings | None = None) -> None:
    settings = settings or _settings()
    # --quiet (a global option, before the sub-command): in JSON mode the start-up banner is not a log line.
    quiet = ["--quiet"] if settings.log_format == "json" else []
    build_app(settings).worker_main(
        [
            *quiet,
            "worker",
            f"--loglevel={loglevel}",
            f"--concurrency={concurrency}",
            "--queues=zongzhi",
            "--without-gossip",
        ]
    )


def run_beat(loglevel: str, schedule_file: str, settings: Settings | None = None) -> None:
    settings = settings or _settings()
    quiet = ["--quiet"] if settings.log_format == "json" else []
    build_app(settings).start([*quiet, "beat", f"--loglevel={loglevel}", f"--schedule={schedule_file}"])
