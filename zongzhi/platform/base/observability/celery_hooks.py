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


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None:
        return
    request_id = context.request_id()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    tracing.inject(headers)


class CeleryHooks:
    """The receivers of one worker or beat process, with the settings it was started with and the
    request context and span of each task running in it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.active: dict[str, tuple[Any, Any]] = {}

    def on_prerun(self, task_id: str | None = None, task: Any = None, **_: Any) -> None:
        if task is None or task_id is None:
            return
        self.active[task_id] = _enter_task(task_id, task)

    def on_postrun(self, task_id: str | None = None, **_: Any) -> None:
        entered = self.active.pop(task_id or "", None)
        if entered is None:
            return
        bound, span = entered
        span.__exit__(None, None, None)
        bound.__exit__(None, None, None)

    def on_setup_logger(self, logger: logging.Logger | None = None, **_: Any) -> None:
        if logger is not None:
            logs.reformat_handlers(logger, self.settings.log_format)

    def on_setup_task_logger(self, logger: logging.Logger | None = None, **_: Any) -> None:
        # Celery's task logger adds the task's name and id itself; in JSON mode we do (from the context).
        if logger is not None and self.settings.log_format == "json":
            logs.reformat_handlers(logger, "json")

    def on_worker_init(self, **_: Any) -> None:
        """The worker's main process serves its pool's metrics on ``ZONGZHI_WORKER_METRICS_PORT``."""
        port = self.settings.worker_metrics_port
        if not port:
            return
        from prometheus_client import start_http_server

        try:
            start_http_server(port, registry=metrics.registry())
        except OSError as exc:
            log.warning("worker metrics not served on port %s: %s", port, exc)
            return
        log.info("worker metrics on :%s/metrics (pid %s)", port, os.getpid())


def _enter_task(task_id: str, task: Any) -> tuple[Any, Any]:
    """Bind the task's request id and open its span (joined to the sender's trace)."""
    request = task.request
    incoming = request.get(REQUEST_ID_HEADER)
    request_id = incoming if isinstance(incoming, str) and context.SAFE_ID.match(incoming) else task_id
    info = context.RequestInfo(request_id=request_id, task=task.name, task_id=task_id)
    bound = context.bound(info)
    bound.__enter__()
    carrier = {key: request.get(key) for key in ("traceparent", "tracestate") if request.get(key)}
    span = tracing.span(f"celery {task.name}", {"celery.task_id": task_id}, parent=tracing.extract(carrier))
    span.__enter__()
    return bound, span


def install_publisher() -> None:
    """Send the request id and trace context with every task this process sends (API, worker, beat).

    Connected when a Celery app is made (``worker.make_celery``); connecting again changes nothing.
    """
    before_task_publish.connect(_on_publish, weak=False, dispatch_uid="zongzhi-publish")


def install(settings: Settings) -> CeleryHooks:
    """Connect the signal receivers for a worker or beat process started with ``settings``.

    Called by the Celery app's factory, not at import. Celery keeps strong references; connecting
    again (another factory call in the same process) replaces the earlier receivers.
    """
    hooks = CeleryHooks(settings)
    install_publisher()
    receivers = [
        (task_prerun, hooks.on_prerun, "zongzhi-prerun"),
        (task_postrun, hooks.on_postrun, "zongzhi-postrun"),
        (after_setup_logger, hooks.on_setup_logger, "zongzhi-logger"),
        (after_setup_task_logger, hooks.on_setup_task_logger, "zongzhi-task-logger"),
        (worker_init, hooks.on_worker_init, "zongzhi-worker-init"),
    ]
    for signal, receiver, uid in receivers:
        signal.disconnect(dispatch_uid=uid)
        signal.connect(receiver, weak=False, dispatch_uid=uid)
    return hooks
