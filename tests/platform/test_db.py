"""Pooled PostgreSQL connections: released without asyncpg's reset round trip, and still clean."""

from __future__ import annotations

import asyncpg
import pytest
from tortoise import Tortoise

from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import Center


def _postgres_only(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("the asyncpg pool is PostgreSQL's")


async def _last_statement_of(settings: Settings, pid: int) -> str:
    """What the backend ``pid`` ran last, asked on a connection outside the pool."""
    conn = await asyncpg.connect(settings.db_url.replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
    finally:
        await conn.close()


async def test_a_released_connection_is_not_sent_the_reset_query(settings, world):
    _postgres_only(settings)
    rows = await Tortoise.get_connection("default").execute_query_dict("SELECT pg_backend_pid() AS pid")
    # With asyncpg's default, the release would have run "SELECT pg_advisory_unlock_all(); ...".
    assert await _last_statement_of(settings, rows[0]["pid"]) == "SELECT pg_backend_pid() AS pid"


async def test_a_transaction_left_open_is_rolled_back_on_release(settings, world):
    _postgres_only(settings)
    client = Tortoise.get_connection("default")
    async with client.acquire_connection() as conn:
        await conn.execute("BEGIN")
        await conn.execute(
            "INSERT INTO center (name, level, code, path, active) "
            "VALUES ('未提交', 'village', '110101001999', '/x/', true)"
        )
    assert not await Center.filter(name="未提交").exists()
    async with client.acquire_connection() as conn:
        assert not conn.is_in_transaction()
