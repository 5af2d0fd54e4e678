"""The ``/graphql`` endpoint: Strawberry's ASGI view plus authentication and GraphQL over HTTP.

Strawberry answers ``application/json`` with status 200 for everything it executes. The GraphQL
over HTTP specification adds ``application/graphql-response+json``, where a request that never
reached execution (unparsable document, failed validation) is a 4xx without a ``data`` entry. We
negotiate the media type from ``Accept`` and apply those rules, keeping plain JSON as it was for
older clients. GraphiQL (a browser GET for HTML) opens without a token; everything else needs one.
Its page (``static/graphiql.html``) loads React and GraphiQL from the package's ``/static/vendor``,
not from a CDN, so it works on a network without internet.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from graphql import ExecutionResult
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from zongzhi.platform.base.settings import Settings
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.schema.context import Context, WebSocketContext, token_of
from zongzhi.platform.services.accounts import authenticate_actor

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header, or ``None`` when we can offer neither."""
    if not accept:
        return JSON
    offered: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            offered.append((q, -i, media.lower()))
    for _q, _i, media in sorted(offered, reverse=True):
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


@cache
def graphiql_page() -> str:
    """The GraphiQL page, with every script and stylesheet served by this app."""
    page = resources.files("zongzhi.platform.wiring").joinpath("static/graphiql.html")
    return page.read_text(encoding="utf-8")


def _error_body(message: str, code: str) -> dict:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


async def bearer_actor(header: str | None) -> Actor | None:
    if not header or not header.lower().startswith("bearer "):
        return None
    return await authenticate_actor(header[7:].strip())


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == JSON


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` with the body already read handed out again (for Strawberry after a fallback)."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class GraphQLEndpoint(GraphQL):
    def __init__(self, schema: Any, settings: Settings, platform: Any = None) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            multipart_uploads_enabled=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.settings = settings
        self.compiled = None
        if settings.compiled_reads:
            from zongzhi.platform.readpath.http import CompiledReads

            self.compiled = CompiledReads(schema._schema, settings)
        self.platform = platform

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_page()

    def decode_json(self, data: str | bytes) -> object:
        """JSON, or the 400 Strawberry gives unparsable JSON: also for bytes that are not UTF-8, for
        nesting too deep to parse, and for JSON that is not an object or list (all answered 500)."""
        try:
            decoded = json.loads(data)
        except (UnicodeDecodeError, RecursionError) as exc:
            raise json.JSONDecodeError("the body is not UTF-8 JSON", "", 0) from exc
        if not isinstance(decoded, dict | list):  # ``null`` or a bare string crashed the view (500)
            raise json.JSONDecodeError("the body must be a JSON object", "", 0)
        return decoded

    async def on_ws_connect(self, context: Context) -> dict[str, Any] | None:
        """graphql-transport-ws ``connection_init``: authenticate once; refuse (4403) without a token."""
        params = getattr(context, "connection_params", None) or {}
        actor = await bearer_actor(token_of(params))
        if actor is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.actor = actor
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        if self._wants_ide(request):
            await HTMLResponse(self.graphql_ide_html)(scope, receive, send)
            return
        media = negotiate(request.headers.get("accept"))
        if media is None:
            response: Response = JSONResponse(
                _error_body(f"can answer only {GRAPHQL_RESPONSE} or {JSON}", "NOT_ACCEPTABLE"),
                status_code=406,
            )
            await response(scope, receive, send)
            return
        actor = await bearer_actor(request.headers.get("authorization"))
        if actor is None:
            response = Response(
                json.dumps(_error_body("a valid bearer token is required", "UNAUTHENTICATED")),
                status_code=401,
                media_type=media,
                headers={"WWW-Authenticate": 'Bearer realm="zongzhi"'},
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})
        scope["state"]["actor"] = actor
        scope["state"]["media"] = media
        if self.compiled is not None and request.method == "POST" and _is_json(request):
            body = await request.body()
            response = await self._compiled_answer(request, body, actor)
            if response is not None:
                await response(scope, receive, send)
                return
            receive = _replay(body, receive)
        await super().__call__(scope, receive, send)

    async def _compiled_answer(self, request: Request, body: bytes, actor: Actor) -> Response | None:
        """The compiled read path's answer (``zongzhi.platform.readpath``), or ``None``."""
        from zongzhi.platform.base.observability import context as observed
        from zongzhi.platform.schema.reveal_audit import flush_reveals

        answered = await self.compiled.answer(body, actor)  # type: ignore[union-attr]
        if answered is None:
            return None
        data, operation, revealed = answered
        audit_context = Context(settings=self.settings, actor=actor, request=request)
        audit_context.revealed_people.update(revealed)
        await flush_reveals(audit_context, operation)
        observed.set_operation(operation, "OK")
        return self.create_response(data, await self.get_sub_response(request))

    @staticmethod
    def _wants_ide(request: Request) -> bool:
        return (
            request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def get_context(self, request: Any, response: Any) -> Context:
        if isinstance(request, WebSocket):
            return WebSocketContext(
                settings=self.settings, actor=None, request=request, response=response, platform=self.platform
            )
        actor = getattr(request.state, "actor", None) if hasattr(request, "state") else None
        context = Context(
            settings=self.settings, actor=actor, request=request, response=response, platform=self.platform
        )
        if request is not None and hasattr(request, "state"):
            request.state.context = context
        return context

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        request_error = (
            result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
        )
        if not request_error:
            body["data"] = result.data
        if result.extensions:
            body["extensions"] = result.extensions
        return body  # type: ignore[return-value]

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        media = JSON
        request_state = getattr(sub_response, "zz_media", None)
        if request_state:
            media = request_state
        if media == GRAPHQL_RESPONSE:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if isinstance(response_data, dict) and "data" not in response_data:
                response.status_code = 400
        return response

    async def get_sub_response(self, request: Request) -> Response:
        sub = await super().get_sub_response(request)
        sub.zz_media = getattr(request.state, "media", JSON)  # type: ignore[attr-defined]
        return sub
