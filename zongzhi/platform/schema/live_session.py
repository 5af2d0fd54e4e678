"""A WebSocket stays authorised only while its token does: checked again before every pushed message.

A subscription is authenticated once, at ``connection_init``. Disabling the user or revoking the
API token must stop it too, not only the next HTTP request: before each message a subscription
pushes, the connection's bearer token is authenticated again (one indexed lookup). If it no longer
holds, that message is replaced by an ``UNAUTHENTICATED`` error without data and the connection is
closed with 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from zongzhi.platform.schema.context import WebSocketContext, token_of
from zongzhi.platform.services.accounts import authenticate_actor

CLOSE_UNAUTHORIZED = 4401


async def still_authenticated(context: Any) -> bool:
    if not isinstance(context, WebSocketContext) or context.actor is None:
        return True
    header = token_of(context.connection_params or {})
    if not header or not header.lower().startswith("bearer "):
        return False
    actor = await authenticate_actor(header[7:].strip())
    return actor is not None and actor.user_id == context.actor.user_id


class LiveSession(SchemaExtension):
    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        context = self.execution_context.context
        if not await still_authenticated(context):
            context.revealed_people.clear()  # not sent, so not revealed
            result.data = None
            result.errors = [
                GraphQLError(
                    "the account was disabled or the token revoked",
                    extensions={"code": "UNAUTHENTICATED"},
                )
            ]
            _close_soon(context.request)
        yield


def _close_soon(socket: Any) -> None:
    """Close after the error message has gone out (a close first would make the send fail)."""

    async def close() -> None:
        await asyncio.sleep(0.1)
        with contextlib.suppress(Exception):  # already closed by the client
            await socket.close(code=CLOSE_UNAUTHORIZED)

    from zongzhi.platform.base.current import current

    current().spawn(close())
