"""The one way code reaches the running :class:`~zongzhi.platform.wiring.platform.Platform`: ``current()``.

Everything that used to be process-wide (secrets, plugins, code lists, rules engine, broadcaster,
publishers, ...) lives on one ``Platform`` built from settings. Threading it through every service
call would touch every signature, so code that needs it asks ``current()``, which is set in two
places only:

- ``use(platform)``: for the current context (an ASGI request of the app that holds the platform,
  a CLI run, a test). It is a ``ContextVar``, so two apps in one process each see their own.
- ``Platform.start()`` / ``install(platform)``: the process's platform, seen where no context set one
  (threads the request did not start, Celery's task bodies, code outside any request).

This module holds the only mutable state of the package outside a ``Platform``, and nothing else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zongzhi.platform.wiring.platform import Platform

_context: ContextVar[Platform | None] = ContextVar("zongzhi_platform", default=None)
_process: list[Platform] = []


class NoPlatform(RuntimeError):
    """Code that needs the platform ran before one was built and started."""


def current() -> Platform:
    """The platform of this context, else the process's; raises :class:`NoPlatform` if there is none."""
    platform = _context.get() or (_process[-1] if _process else None)
    if platform is None:
        raise NoPlatform("no platform: build one with Platform.build(settings) and start or use() it")
    return platform


def current_or_none() -> Platform | None:
    """Like :func:`current`, for optional helpers (tracing, logging) that work without a platform."""
    return _context.get() or (_process[-1] if _process else None)


@contextlib.contextmanager
def use(platform: Platform) -> Iterator[Platform]:
    """Make ``platform`` the current one inside the block (this context and the tasks it starts)."""
    token = _context.set(platform)
    try:
        yield platform
    finally:
        _context.reset(token)


def install(platform: Platform) -> None:
    """Make ``platform`` the process's (``Platform.start`` calls this); the last installed wins."""
    if platform in _process:
        _process.remove(platform)
    _process.append(platform)


def uninstall(platform: Platform) -> None:
    """The platform stopped: the one installed before it is the process's again."""
    if platform in _process:
        _process.remove(platform)
