"""Fixtures shared by the whole suite: a database per backend, the test county, an HTTP client.

Database tests run once on SQLite and, when ``ZONGZHI_TEST_POSTGRES_URL`` points at a server
(``./scripts/test`` starts a throwaway one), once more on PostgreSQL in a fresh database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from tortoise import Tortoise

from tests.world import World, build_world
from zongzhi.platform import partners
from zongzhi.platform.base import security
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import db as zdb
from zongzhi.platform.pipeline import plugin_host as plugins
from zongzhi.platform.rules import get_engine
from zongzhi.platform.rules.evaluation import active_versions
from zongzhi.platform.services import outbox
from zongzhi.platform.wiring import runtime

POSTGRES_URL = os.environ.get("ZONGZHI_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        _with_database(POSTGRES_URL, "postgres").replace("postgres://", "postgresql://", 1)
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=BACKENDS)
async def settings(request, tmp_path_factory) -> AsyncIterator[Settings]:
    data_dir: Path = tmp_path_factory.mktemp(f"zz-{request.param}")
    url = ""
    name = ""
    if request.param == "postgres":
        name = f"zz_test_{uuid.uuid4().hex[:10]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = _with_database(POSTGRES_URL, name)
    s = Settings.from_env(
        {},
        data_dir=data_dir,
        database_url=url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        event_mode="inline",
        storage="local",
    )
    security.configure(s)
    await zdb.init(s)
    yield s
    await zdb.close()
    if name:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _truncate() -> None:
    conn = Tortoise.get_connection("default")
    tables = [m._meta.db_table for m in Tortoise.apps["models"].values()]
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    else:
        await conn.execute_script("PRAGMA foreign_keys = OFF")
        for t in tables:
            await conn.execute_script(f'DELETE FROM "{t}"')
        await conn.execute_script("PRAGMA foreign_keys = ON")


@pytest.fixture
async def world(settings: Settings) -> World:
    """An empty database holding only the test county."""
    await _truncate()
    outbox.set_publishers([])
    # Deliveries are sent when a test calls deliver_due, never by a kicker an earlier app left behind.
    partners.set_kicker(lambda: None)
    active_versions.invalidate()
    get_engine().retain([])
    return await build_world()


@pytest.fixture
async def rules(settings: Settings, world: World) -> World:
    """The core and plugin rules installed, events evaluated in-process after each commit (embedded)."""
    plugins.load(settings)
    await runtime.install_rulesets()
    outbox.set_publishers([runtime.inline_publisher])
    return world


@pytest.fixture
async def client(settings: Settings, world: World) -> AsyncIterator[httpx.AsyncClient]:
    from zongzhi.platform.wiring.app import create_app

    app = create_app(settings, manage_db=False)
    await app.state.store.ensure_ready()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
