"""The HTTP side: request context middleware, ``/livez``, ``/readyz`` (``/healthz``), ``/metrics``.

Every HTTP request gets a request id (the client's ``X-Request-ID`` when it is safe, otherwise a new
one), echoed in the response's ``X-Request-ID``, bound for everything that runs inside it and
written on one log line at the end with the method, path, status, time, operation name, user id
and outcome code. Probe and scrape requests log at DEBUG so they do not drown the rest.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zongzhi.platform.base.observability import context, metrics, scrape, tracing
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.wiring import health

log = logging.getLogger("zongzhi.request")

QUIET_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})
GRAPHQL_PATH = "/graphql"
STATUS_OUTCOMES = {401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 406: "NOT_ACCEPTABLE"}


def outcome_of_status(status: int) -> str:
    if status < 400:
        return "OK"
    if status >= 500:
        return "INTERNAL"
    return STATUS_OUTCOMES.get(status, f"HTTP_{status}")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        info = context.RequestInfo(request_id=context.accept_id(headers.get(context.HEADER)))
        scope.setdefault("state", {})
        if scope["type"] == "websocket":
            with context.bound(info), tracing.span("websocket " + scope["path"]):
                await self.app(scope, receive, send)
            return
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(context.HEADER, info.request_id)
            await send(message)

        started = time.perf_counter()
        attributes = {"http.method": scope["method"], "http.route": scope["path"]}
        attributes["zongzhi.request_id"] = info.request_id
        parent = tracing.extract({k: headers[k] for k in ("traceparent", "tracestate") if k in headers})
        with context.bound(info), tracing.span(f"{scope['method']} {scope['path']}", attributes, parent):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._finish(scope, info, status, time.perf_counter() - started)

    @staticmethod
    def _finish(scope: Scope, info: context.RequestInfo, status: int, seconds: float) -> None:
        actor = scope.get("state", {}).get("actor")
        if actor is not None and info.user_id is None:
            info.user_id = getattr(actor, "user_id", None)
        graphql = scope["path"] == GRAPHQL_PATH
        is_ide = graphql and info.outcome is None and scope["method"] == "GET" and status == 200
        if info.outcome is None or status >= 500:
            info.outcome = outcome_of_status(status)
        if graphql and not is_ide:
            operation = metrics.operation_label(info.operation)
            metrics.GRAPHQL_REQUESTS.labels(operation, info.outcome).inc()
            metrics.GRAPHQL_SECONDS.labels(operation).observe(seconds)
        tracing.set_attribute("http.status_code", status)
        tracing.set_attribute("zongzhi.outcome", info.outcome)
        level = logging.DEBUG if scope["path"] in QUIET_PATHS else logging.INFO
        fields = {"method": scope["method"], "path": scope["path"], "status": status}
        fields["duration_ms"] = round(seconds * 1000, 1)
        log.log(
            level,
            "%s %s %s %.1f ms",
            scope["method"],
            scope["path"],
            status,
            seconds * 1000,
            extra={"fields": fields},
        )


def probe_routes(settings: Settings, store: Any) -> list[Route]:
    async def livez(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        results = await health.readiness(settings, store)
        failed = [r.name for r in results if not r.ok]
        body = {
            "status": "fail" if failed else "ok",
            "failed": failed,
            "checks": {r.name: r.as_json() for r in results},
        }
        return JSONResponse(body, status_code=503 if failed else 200, headers={"Cache-Control": "no-store"})

    async def metrics_page(request: Request) -> Response:
        if settings.metrics_token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode()):
                return Response("a valid metrics token is required\n", status_code=401)
        body = await scrape.render(settings.health_timeout_seconds)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/livez", livez),
        Route("/readyz", readyz),
        Route("/healthz", readyz),
        Route("/metrics", metrics_page),
    ]
