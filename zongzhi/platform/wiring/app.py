"""The ASGI application factory: ``create_app(settings)`` builds a platform and serves its schema and routes.

The platform is kept on ``app.state.platform``; each request and subscription runs with it as the
current one (``UsePlatform``), and the GraphQL context carries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from zongzhi.platform.base import current
from zongzhi.platform.base.observability import logs
from zongzhi.platform.base.observability.graphql import OperationObserver
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.pipeline import plugin_host as plugins
from zongzhi.platform.schema import build_schema
from zongzhi.platform.wiring import runtime
from zongzhi.platform.wiring.graphql_http import GraphQLEndpoint
from zongzhi.platform.wiring.ops_http import RequestContextMiddleware, probe_routes
from zongzhi.platform.wiring.platform import Platform
from zongzhi.platform.wiring.public import public_routes
from zongzhi.platform.wiring.static_files import static_app
from zongzhi.storage import evidence_routes

log = logging.getLogger(__name__)


def build_app_schema(settings: Settings, loaded: plugins.Plugins):
    """The core schema with the fields and types of the loaded plugins merged in."""
    queries, mutations, extra_types = loaded.graphql_parts()
    schema = build_schema(settings, extra_queries=queries, extra_mutations=mutations, extra_types=extra_types)
    # First, so that it sees the errors after CodedErrors has coded them (hooks exit in reverse).
    schema.extensions = (OperationObserver, *schema.extensions)
    return schema


def _freeze_startup_objects() -> None:
    """Leave what start-up built (modules, schema, rules) out of the collector's full passes.

    A full pass walks every tracked object; with the start-up heap in it, one took ~50 ms and came
    every ~9 case-list pages, most of a page's p95. Once per process: objects frozen are never
    collected, so freezing again (tests start many apps) would keep earlier apps' garbage.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


class UsePlatform:
    """Runs every request and subscription of the app with the app's platform as the current one."""

    def __init__(self, app: ASGIApp, platform: Platform) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with current.use(self.platform):
            await self.app(scope, receive, send)


def create_app(
    settings: Settings | None = None, *, manage_db: bool = True, platform: Platform | None = None
) -> Starlette:
    """Build the app for ``platform`` (built from ``settings`` when not given). ``manage_db=False``
    when the caller (tests, CLI) already initialised the ORM."""
    if platform is None:
        platform = Platform.build(settings or Settings.from_env())
    settings = platform.settings
    # Here as well as in the CLI: uvicorn's worker processes build the app in a fresh interpreter.
    logs.configure(settings.log_format, settings.log_level)
    loaded = platform.plugins
    store = platform.store
    schema = build_app_schema(settings, loaded)
    graphql = GraphQLEndpoint(schema, settings, platform)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await platform.start(manage_db=manage_db)
        await store.ensure_ready()
        _freeze_startup_objects()
        background = None
        if settings.event_mode == "inline":
            background = asyncio.create_task(runtime.background_loop(settings, store))
        log.info(
            "zongzhi ready: database %s, events %s, storage %s",
            "sqlite" if settings.is_sqlite else "postgres",
            settings.event_mode,
            settings.storage,
        )
        try:
            yield
        finally:
            if background is not None:
                background.cancel()
            await platform.stop(manage_db=manage_db)

    async def root(request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    routes = [
        Route("/", root),
        *probe_routes(settings, store),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Mount("/static", app=static_app(), name="static"),
        *evidence_routes(store),
        *public_routes(store),
        *loaded.routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(UsePlatform, platform=platform), Middleware(RequestContextMiddleware)],
    )
    app.state.platform = platform
    app.state.settings = settings
    app.state.schema = schema
    app.state.store = store
    return app
