"""Liveness, readiness and their checks, through HTTP as a probe calls them.

Readiness is broken for real: the SQLite file moved away, or on PostgreSQL the test database made to
refuse connections and its backends terminated (as a stopped server looks to the app), a Redis that
never answers, a broker on a closed port, a migration recorded as not applied.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from tortoise import Tortoise

from tests.conftest import _pg_admin
from tests.platform.worker_support import free_port
from zongzhi.platform.base.settings import Settings


async def _client_for(settings: Settings) -> httpx.AsyncClient:
    from zongzhi.platform.wiring.app import create_app

    app = create_app(settings, manage_db=False)
    await app.state.store.ensure_ready()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_livez_answers_and_readyz_lists_every_check(client: httpx.AsyncClient) -> None:
    live = await client.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "storage", "plugins"}  # inline mode, no Redis
    for result in body["checks"].values():
        assert result["ok"] is True and isinstance(result["ms"], float | int) and result["ms"] >= 0
    assert "court_docking" in body["checks"]["plugins"]["detail"]
    healthz = await client.get("/healthz")
    assert healthz.status_code == 200 and set(healthz.json()["checks"]) == set(body["checks"])


async def _ready(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/readyz")


async def _wait_ready(client: httpx.AsyncClient, timeout: float = 20.0) -> httpx.Response:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await _ready(client)
        if response.status_code == 200 or loop.time() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_readiness_fails_while_the_database_is_away_and_recovers(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    if settings.is_sqlite:
        path = settings.data_dir / "zongzhi.sqlite3"
        moved = path.with_suffix(".away")
        path.rename(moved)
        try:
            down = await _ready(client)
        finally:
            moved.rename(path)
    else:
        name = settings.database_url.rsplit("/", 1)[1].split("?")[0]
        await _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            await _pg_admin(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )
            down = await _ready(client)
        finally:
            await _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert down.status_code == 503, down.text
    body = down.json()
    assert body["status"] == "fail" and body["failed"] == ["database"]
    assert body["checks"]["database"]["ok"] is False and body["checks"]["database"]["error"]
    assert body["checks"]["storage"]["ok"] is True
    up = await _wait_ready(client)
    assert up.status_code == 200, up.text
    assert up.json()["checks"]["database"]["ok"] is True


async def test_a_migration_not_applied_fails_readiness(settings: Settings, client: httpx.AsyncClient) -> None:
    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query(
        "SELECT app, name, applied_at FROM tortoise_migrations WHERE name = '0002_case_list_indexes'"
    )
    assert rows, "the test database was migrated"
    row = dict(rows[0])
    await conn.execute_query("DELETE FROM tortoise_migrations WHERE name = '0002_case_list_indexes'")
    try:
        response = await _ready(client)
    finally:
        params = (row["app"], row["name"], row["applied_at"])
        marks = ", ".join("?" if settings.is_sqlite else f"${i}" for i in range(1, 4))
        await conn.execute_query(
            f"INSERT INTO tortoise_migrations (app, name, applied_at) VALUES ({marks})", list(params)
        )
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert "0002_case_list_indexes" in response.json()["checks"]["database"]["error"]
    assert (await _ready(client)).status_code == 200


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


async def test_a_hung_redis_fails_its_check_after_the_timeout(
    settings: Settings, world, silent_server: int
) -> None:
    hung = replace(settings, redis_url=f"redis://127.0.0.1:{silent_server}/0", health_timeout_seconds=0.3)
    async with await _client_for(hung) as c:
        response = await _ready(c)
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["redis"]
    assert body["checks"]["redis"]["error"] == "no answer within 0.3 s"
    assert body["checks"]["database"]["ok"] is True


async def test_broker_is_checked_in_celery_mode(settings: Settings, world) -> None:
    closed = replace(settings, event_mode="celery", broker_url=f"redis://127.0.0.1:{free_port()}/0")
    async with await _client_for(closed) as c:
        response = await _ready(c)
        live = await c.get("/livez")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert live.status_code == 200, "liveness does not depend on the broker"
