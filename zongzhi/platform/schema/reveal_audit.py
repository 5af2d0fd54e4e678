"""Audit every GraphQL answer that showed full ID or phone numbers, whatever carried it.

``types.Person`` notes each person whose numbers it reveals in ``context.revealed_people``. This
extension takes that set after each answer and writes one audit row through
``audit.record_reveal``: after a query or mutation (HTTP, or a single answer over the WebSocket),
and before every message a subscription pushes is sent. A WebSocket connection shares one context between
its operations, so the set is emptied as it is taken: every reveal is recorded exactly once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import OperationType
from strawberry.extensions import SchemaExtension

from zongzhi.platform.domain import audit
from zongzhi.platform.schema.context import WebSocketContext


def _transport(context: Any) -> str:
    return "websocket" if isinstance(context, WebSocketContext) else "http"


async def flush_reveals(context: Any, operation: str | None) -> None:
    """Write the reveals ``context`` has gathered since the last flush as one audit row."""
    people = getattr(context, "revealed_people", None)
    actor = getattr(context, "actor", None)
    units = getattr(context, "revealed_units", None)
    if units and actor is not None:
        taken_units = sorted(units)
        units.clear()
        details = {"units": taken_units, "via": _transport(context)}
        await audit.record(audit.REVEAL_ACTION, "org_unit", actor_id=actor.user_id, details=details)
    if not people or actor is None:
        return
    taken = set(people)
    people.clear()
    details = {"operation": operation} if operation else {}
    await audit.record_reveal(actor.user_id, taken, _transport(context), **details)


class RevealAudit(SchemaExtension):
    def _operation(self) -> str | None:
        return self.execution_context.operation_name

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context
        if context.operation_type != OperationType.SUBSCRIPTION:
            await flush_reveals(context.context, self._operation())

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        # The message is resolved but not yet sent: it is recorded before it can be seen.
        await flush_reveals(self.execution_context.context, self._operation())
        yield
