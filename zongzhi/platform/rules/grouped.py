"""Concurrent requests' events evaluated together: the embedded mode's group commit.

In inline mode a request evaluates the events it committed before it answers. Under load many
requests do so at the same moment, each in a transaction of its own that reads the same master data
(centers, the calendar, grids' routing targets) again. Here the first request leads: it evaluates
its events in one batch (``batch.evaluate_committed``), and the requests that commit meanwhile wait
and are evaluated together in the next batch, led by the first of them. A request alone is
evaluated at once, as before.

Every request still answers after its own events are evaluated. A batch that fails fails each of
its requests, as their own evaluation would have (their rows stay pending for the republisher);
events in a batch are isolated from each other by savepoints as in a worker's batch.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from zongzhi.platform.base.current import current
from zongzhi.platform.rules.batch import evaluate_committed
from zongzhi.platform.services.outbox import Committed


@dataclass
class _Waiting:
    items: list[Committed]
    done: asyncio.Future[bool]  # True: evaluated by a leader; False: lead the next batch


class EvaluationGroups:
    """A platform's requests waiting for their events' batch; ``limit`` bounds the requests per batch."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waiting: deque[_Waiting] = deque()
        self.leading = False

    async def evaluate(self, items: list[Committed]) -> None:
        me = _Waiting(items, asyncio.get_running_loop().create_future())
        self.waiting.append(me)
        if self.leading:
            try:
                if await me.done:
                    return
            except asyncio.CancelledError:
                self._withdraw(me)
                raise
        self.leading = True
        group = [self.waiting.popleft() for _ in range(min(self.limit, len(self.waiting)))]
        try:
            await evaluate_committed([item for waiting in group for item in waiting.items])
        except BaseException as exc:
            failure = exc if isinstance(exc, Exception) else RuntimeError("the batch's leader was cancelled")
            for waiting in group:
                if waiting is not me and not waiting.done.done():
                    waiting.done.set_exception(failure)
            raise
        else:
            for waiting in group:
                if waiting is not me and not waiting.done.done():
                    waiting.done.set_result(True)
        finally:
            self._pass_lead()

    def _pass_lead(self) -> None:
        while self.waiting:
            following = self.waiting[0].done
            if not following.done():
                following.set_result(False)
                return
            self.waiting.popleft()  # cancelled while it waited: its request is gone
        self.leading = False

    def _withdraw(self, me: _Waiting) -> None:
        """A waiting request was cancelled; if it had just been handed the lead, hand it on."""
        done = me.done
        handed = done.done() and not done.cancelled() and done.exception() is None and not done.result()
        if me in self.waiting:
            self.waiting.remove(me)
        if handed:
            self._pass_lead()


async def evaluate_grouped(items: list[Committed], limit: int) -> None:
    """Evaluate ``items`` (committed by the caller) with those other requests of this platform
    commit while a batch runs."""
    platform = current()
    if platform.evaluation_groups is None:
        platform.evaluation_groups = EvaluationGroups(limit)
    await platform.evaluation_groups.evaluate(items)
