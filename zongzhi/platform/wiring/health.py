"""Readiness checks: database reachable and migrated, broker and Redis, evidence store, plugins.

Each check runs under its own timeout (``ZONGZHI_HEALTH_TIMEOUT_SECONDS``), all at once, so a hung
dependency makes its check fail after the timeout instead of hanging the probe. Liveness checks
nothing but that the process answers: restarting the API does not bring a database back.
"""

from __future__ import annotations

import asyncio
import pkgutil
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from tortoise import Tortoise

from zongzhi.platform.base.current import current_or_none
from zongzhi.platform.base.observability import metrics
from zongzhi.platform.base.settings import Settings

MIGRATIONS_PACKAGE = "zongzhi.platform.migrations"
HEALTH_KEY = "health/readiness-probe"


@dataclass
class CheckResult:
    name: str
    ok: bool
    ms: float
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.detail:
            body["detail" if self.ok else "error"] = self.detail
        return body


def migrations_on_disk() -> set[str]:
    package = import_module(MIGRATIONS_PACKAGE)
    return {m.name for m in pkgutil.iter_modules(package.__path__) if re.match(r"^\d{4}_", m.name)}


async def check_database(settings: Settings) -> str:
    if settings.is_sqlite:
        # An open SQLite connection keeps reading a file that was deleted or moved away.
        path = settings.data_dir / "zongzhi.sqlite3"
        if not path.is_file():
            raise RuntimeError(f"database file {path} is missing")
    conn = Tortoise.get_connection("default")
    await conn.execute_query("SELECT 1")
    _, rows = await conn.execute_query("SELECT name FROM tortoise_migrations WHERE app = 'models'")
    pending = sorted(migrations_on_disk() - {row["name"] for row in rows})
    if pending:
        raise RuntimeError(f"pending migrations: {', '.join(pending)}")
    return ""


async def _redis_ping(url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def check_broker(settings: Settings) -> str:
    url = settings.broker_url
    if url.startswith(("redis://", "rediss://")):
        await _redis_ping(url)
        return ""

    def connect() -> None:
        from kombu import Connection

        with Connection(url, connect_timeout=1) as connection:
            connection.ensure_connection(max_retries=1)

    await asyncio.to_thread(connect)
    return ""


async def check_redis(settings: Settings) -> str:
    await _redis_ping(settings.redis_url)
    return ""


async def check_storage(settings: Settings, store: Any) -> str:
    if settings.storage == "local" and not settings.evidence_dir.is_dir():
        raise RuntimeError(f"evidence directory {settings.evidence_dir} is missing")
    await store.stat(HEALTH_KEY)  # a missing key is an answer; an unreachable store raises
    return ""


async def check_plugins(settings: Settings) -> str:
    platform = current_or_none()
    if platform is None:
        raise RuntimeError("plugins are not loaded")
    return ", ".join(platform.plugins.names())


def readiness_checks(settings: Settings, store: Any) -> dict[str, Callable[[], Awaitable[str]]]:
    checks: dict[str, Callable[[], Awaitable[str]]] = {"database": lambda: check_database(settings)}
    if settings.event_mode == "celery":
        checks["broker"] = lambda: check_broker(settings)
    if settings.redis_url:
        checks["redis"] = lambda: check_redis(settings)
    checks["storage"] = lambda: check_storage(settings, store)
    checks["plugins"] = lambda: check_plugins(settings)
    return checks


async def _timed(name: str, check: Callable[[], Awaitable[str]], timeout: float) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), timeout)
        ok = True
    except TimeoutError:
        ok, detail = False, f"no answer within {timeout:g} s"
    except Exception as exc:  # the probe reports any failure; it must not raise
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
    return CheckResult(name, ok, (time.perf_counter() - started) * 1000, detail)


async def readiness(settings: Settings, store: Any) -> list[CheckResult]:
    checks = readiness_checks(settings, store)
    timeout = settings.health_timeout_seconds
    results = await asyncio.gather(*(_timed(name, check, timeout) for name, check in checks.items()))
    for result in results:
        metrics.READINESS.labels(result.name).set(1 if result.ok else 0)
    return list(results)
