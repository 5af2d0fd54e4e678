"""Fixtures shared by the whole suite: a database per backend, the test county, an HTTP client.

Database tests run once on SQLite and, when ``ZONGZHI_TEST_POSTGRES_URL`` points at a server
(``./scripts/test`` starts a throwaway one), once more on PostgreSQL in a fresh database.

Every test runs with a platform of its own (``Platform.build``): a unit test gets one from fixed
test settings, a database test (``platform``, ``world``, ``rules``, ``client``) one for its backend.
Nothing a test or a plugin adds (a code, an action, a publisher) outlives the test's platform.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from tortoise import Tortoise

from tests.platforms import running
from tests.world import World, build_world
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import db as zdb
from zongzhi.platform.wiring import runtime
from zongzhi.platform.wiring.platform import Platform

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


TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"


@pytest.fixture(scope="session")
def unit_settings(tmp_path_factory) -> Settings:
    """Settings of the platform a test without a database runs with."""
    return Settings.from_env(
        {},
        data_dir=tmp_path_factory.mktemp("zz-unit"),
        secret_key=TEST_SECRET,
        event_mode="inline",
        storage="local",
    )


@pytest.fixture(autouse=True)
def unit_platform(unit_settings: Settings) -> Iterator[Platform]:
    """Every test's own platform, replaced by its backend's when it uses the database fixtures."""
    with running(Platform.build(unit_settings)) as platform:
        yield platform


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
        secret_key=TEST_SECRET,
        event_mode="inline",
        storage="local",
    )
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
def platform(settings: Settings, unit_platform: Platform) -> Iterator[Platform]:
    """The test's platform on its backend's database: nothing published after commit, no delivery
    sent but by ``deliver_due`` (the ``rules`` fixture adds in-process evaluation)."""
    with running(Platform.build(settings)) as platform:
        yield platform


@pytest.fixture
async def world(platform: Platform) -> World:
    """An empty database holding only the test county."""
    await _truncate()
    return await build_world()


@pytest.fixture
async def rules(platform: Platform, world: World) -> World:
    """The core and plugin rules installed, events evaluated in-process after each commit (embedded)."""
    await runtime.install_rulesets(platform)
    platform.publishers = [runtime.inline_publisher]
    return world


@pytest.fixture
async def client(platform: Platform, world: World) -> AsyncIterator[httpx.AsyncClient]:
    from zongzhi.platform.wiring.app import create_app

    app = create_app(platform=platform, manage_db=False)
    await app.state.store.ensure_ready()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
