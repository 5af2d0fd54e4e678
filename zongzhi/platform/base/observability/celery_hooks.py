"""Request ids and trace context across the broker, and Celery's logs in our format.

Sending a task (from the API, beat or a worker) writes the current request id and trace context
into the task's message headers; the worker binds them around the task, so its log lines carry the
id of the request that caused the task and its spans join that request's trace. A task sent with no
request around (beat) uses its own task id.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_init,
)

from zongzhi.platform.base.observability import context, logs, metrics, tracing
from zongzhi.platform.base.settings import Settings

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "zongzhi_request_id"
_active: dict[str, tuple[Any, Any]] = {}
_settings: Settings | None = None


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None:
        return
    request_id = context.request_id()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    tracing.inject(headers)


def _on_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task is None or task_id is None:
        return
    request = task.request
    incoming = request.get(REQUEST_ID_HEADER)
    request_id = incoming if isinstance(incoming, str) and context.SAFE_ID.match(incoming) else task_id
    info = context.RequestInfo(request_id=request_id, task=task.name, task_id=task_id)
    bound = context.bound(info)
    bound.__enter__()
    carrier = {key: request.get(key) for key in ("traceparent", "tracestate") if request.get(key)}
    span = tracing.span(f"celery {task.name}", {"celery.task_id": task_id}, parent=tracing.extract(carrier))
    span.__enter__()
    _active[task_id] = (bound, span)


def _on_postrun(task_id: str | None = None, **_: Any) -> None:
    entered = _active.pop(task_id or "", None)
    if entered is None:
        return
    bound, span = entered
    span.__exit__(None, None, None)
    bound.__exit__(None, None, None)


def _on_setup_logger(logger: logging.Logger | None = None, **_: Any) -> None:
    if logger is not None and _settings is not None:
        logs.reformat_handlers(logger, _settings.log_format)


def _on_setup_task_logger(logger: logging.Logger | None = None, **_: Any) -> None:
    # Celery's task logger adds the task's name and id itself; in JSON mode we do (from the context).
    if logger is not None and _settings is not None and _settings.log_format == "json":
        logs.reformat_handlers(logger, "json")


def _on_worker_init(**_: Any) -> None:
    """The worker's main process serves its pool's metrics on ``ZONGZHI_WORKER_METRICS_PORT``."""
    if _settings is None or not _settings.worker_metrics_port:
        return
    from prometheus_client import start_http_server

    try:
        start_http_server(_settings.worker_metrics_port, registry=metrics.registry())
    except OSError as exc:
        log.warning("worker metrics not served on port %s: %s", _settings.worker_metrics_port, exc)
        return
    log.info("worker metrics on :%s/metrics (pid %s)", _settings.worker_metrics_port, os.getpid())


def install(settings: Settings) -> None:
    """Connect the signal receivers (once per process; Celery keeps strong references)."""
    global _settings
    _settings = settings
    before_task_publish.connect(_on_publish, weak=False, dispatch_uid="zongzhi-publish")
    task_prerun.connect(_on_prerun, weak=False, dispatch_uid="zongzhi-prerun")
    task_postrun.connect(_on_postrun, weak=False, dispatch_uid="zongzhi-postrun")
    after_setup_logger.connect(_on_setup_logger, weak=False, dispatch_uid="zongzhi-logger")
    after_setup_task_logger.connect(_on_setup_task_logger, weak=False, dispatch_uid="zongzhi-task-logger")
    worker_init.connect(_on_worker_init, weak=False, dispatch_uid="zongzhi-worker-init")
