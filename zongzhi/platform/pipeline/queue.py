"""The sending half of the Celery pipeline: task names, the app's configuration, and the calls that
queue an event's evaluation or a delivery sweep.

The API and the CLI send; ``wiring/worker.py`` runs the tasks. Both use this module, so the process
start-up (``wiring/runtime.py``) and the worker do not import each other.
"""

from __future__ import annotations

from dataclasses import replace

from celery import Celery

from zongzhi.platform.base.current import current
from zongzhi.platform.base.observability import celery_hooks
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.pipeline.broker_queue import VISIBILITY_TIMEOUT_SECONDS

EVALUATE = "zongzhi.evaluate_event"
REPUBLISH = "zongzhi.republish_outbox"
DEADLINES = "zongzhi.deadline_tick"
ORPHANS = "zongzhi.remove_orphan_evidence"
DELIVER = "zongzhi.deliver_due"
SWEEPS = "zongzhi.sweep_tick"


def make_celery(settings: Settings, *, current: bool = True) -> Celery:
    celery_hooks.install_publisher()  # whoever sends a task sends its request id and trace with it
    app = Celery("zongzhi", broker=settings.broker_url, set_as_current=current)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue="zongzhi",
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
        timezone="Asia/Shanghai",
        beat_schedule={
            "republish-outbox": {"task": REPUBLISH, "schedule": 10.0},
            "deadline-tick": {"task": DEADLINES, "schedule": 60.0},
            "remove-orphan-evidence": {"task": ORPHANS, "schedule": 3600.0},
            "deliver-due": {"task": DELIVER, "schedule": 10.0},
            "sweep-tick": {"task": SWEEPS, "schedule": 300.0},
        },
    )
    return app


def sender_for(broker_url: str) -> Celery:
    """The app that sends to ``broker_url`` (one per broker, kept by the running platform)."""
    platform = current()
    senders = platform.celery_senders
    if broker_url not in senders:
        senders[broker_url] = make_celery(replace(platform.settings, broker_url=broker_url), current=False)
    return senders[broker_url]


def send_evaluation(event_id: int, broker_url: str | None = None) -> None:
    """Queue one event for evaluation; fails fast (and the outbox keeps it) if the broker is down."""
    sender_for(broker_url or current().settings.broker_url).send_task(
        EVALUATE,
        args=[event_id],
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
    )


def send_delivery_sweep(broker_url: str | None = None) -> None:
    sender_for(broker_url or current().settings.broker_url).send_task(DELIVER, retry=False)
