"""Docking figures: what the 诉调/警调/访调 plugins contribute to the statistics.

A plugin contributes ``async fn(scope_q, start, end) -> dict`` under its name (its
``zongzhi_docking_figures`` hook; the platform keeps them in ``Platform.docking``), where ``scope_q`` is a
``Q`` on ``Case`` for the center subtree being reported and ``[start, end)`` the period. The
statistics, the GraphQL query and the reports show whatever is registered; a figure that fails is
reported as failed and does not take the other figures down.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

log = logging.getLogger(__name__)

DockingFn = Callable[[Q, datetime, datetime], Awaitable[dict[str, Any]]]


def _registry() -> dict[str, DockingFn]:
    from zongzhi.platform.base.current import current

    return current().docking


def registered() -> list[str]:
    return sorted(_registry())


@dataclass(frozen=True)
class DockingFigures:
    source: str
    figures: dict[str, Any]
    error: str | None = None


async def collect(scope_q: Q, start: datetime, end: datetime) -> list[DockingFigures]:
    out: list[DockingFigures] = []
    figures_of = _registry()
    for name in sorted(figures_of):
        try:
            figures = dict(await figures_of[name](scope_q, start, end))
        except Exception as exc:
            log.exception("docking figures of %s failed", name)
            out.append(DockingFigures(name, {}, f"{type(exc).__name__}: {exc}"))
            continue
        out.append(DockingFigures(name, figures))
    return out
