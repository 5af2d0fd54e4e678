"""The request context (request id, operation, user, outcome), carried by a contextvar.

One ``RequestInfo`` is bound per HTTP request or Celery task; code further in fills in what it
learns (the GraphQL operation name, the authenticated user's id, the outcome code), and the
request's log line and metrics read it at the end. Log lines of anything running inside (services,
rule evaluation, ``asyncio.to_thread`` calls) see the same request id.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

HEADER = "X-Request-ID"
#: What a client may send as its request id: short, and nothing a log parser or terminal could trip on.
SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass
class RequestInfo:
    request_id: str
    operation: str | None = None
    user_id: int | None = None
    outcome: str | None = None
    task: str | None = None
    task_id: str | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("zongzhi_request", default=None)


def new_id() -> str:
    return uuid.uuid4().hex


def accept_id(value: str | None) -> str:
    """The client's ``X-Request-ID`` when it is safe to log and echo, otherwise a new one."""
    if value and SAFE_ID.match(value):
        return value
    return new_id()


def current() -> RequestInfo | None:
    return _current.get()


def request_id() -> str | None:
    info = _current.get()
    return info.request_id if info else None


@contextlib.contextmanager
def bound(info: RequestInfo) -> Iterator[RequestInfo]:
    token = _current.set(info)
    try:
        yield info
    finally:
        _current.reset(token)


def set_user(user_id: int | None) -> None:
    info = _current.get()
    if info is not None:
        info.user_id = user_id


def set_operation(operation: str | None, outcome: str | None) -> None:
    info = _current.get()
    if info is not None:
        info.operation = operation
        info.outcome = outcome
