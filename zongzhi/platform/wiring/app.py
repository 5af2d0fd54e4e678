"""The ASGI application factory: ``create_app(settings)`` wires database, storage, schema and routes."""

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

from zongzhi.platform.base import security
from zongzhi.platform.base.observability import logs, tracing
from zongzhi.platform.base.observability.graphql import OperationObserver
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.pipeline import plugin_host as plugins
from zongzhi.platform.schema import build_schema
from zongzhi.platform.wiring import runtime
from zongzhi.platform.wiring.graphql_http import GraphQLEndpoint
from zongzhi.platform.wiring.ops_http import RequestContextMiddleware, probe_routes
from zongzhi.platform.wiring.public import public_routes
from zongzhi.platform.wiring.static_files import static_app
from zongzhi.storage import build_store, evidence_routes

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


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """Build the app. ``manage_db=False`` when the caller (tests, CLI) already initialised the ORM."""
    settings = settings or Settings.from_env()
    # Here as well as in the CLI: uvicorn's worker processes build the app in a fresh interpreter.
    logs.configure(settings.log_format, settings.log_level)
    tracing.configure(settings)
    security.configure(settings)
    loaded = plugins.load(settings)
    store = build_store(settings)
    schema = build_app_schema(settings, loaded)
    graphql = GraphQLEndpoint(schema, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.startup(settings, manage_db=manage_db)
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
            await runtime.shutdown(manage_db=manage_db)

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
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RequestContextMiddleware)])
    app.state.settings = settings
    app.state.schema = schema
    app.state.store = store
    return app
