"""Database start-up: the Tortoise config, migrations and shutdown, the same for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from asyncpg import Connection
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate as tortoise_migrate

from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import MODEL_MODULES

MIGRATIONS_PACKAGE = "zongzhi.platform.migrations"


async def _keep_session_state(connection: Connection) -> None:
    """Return a PostgreSQL connection to the pool without asyncpg's reset query.

    By default asyncpg sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``
    on every release, and tortoise takes a pooled connection for every statement outside a
    transaction: a second round trip for most reads, about an eighth of a case intake's CPU in the
    API and the database. zongzhi never changes session state (no SET, LISTEN, session advisory
    locks or cursors WITH HOLD), so there is nothing to reset. asyncpg still rolls back a
    transaction left open and drops listeners before calling this.
    """


def _connection(settings: Settings) -> str | dict[str, Any]:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return settings.db_url
    connection = expand_db_url(settings.db_url)
    connection["credentials"]["reset"] = _keep_session_state
    return connection


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(settings)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_PACKAGE,
            }
        },
        "use_tz": True,
        # Stored in UTC. SQLite compares datetimes as text, so every stored value and every query
        # bound must be in one zone; code passes aware UTC datetimes (see schema.queries._utc).
        "timezone": "UTC",
    }


def _config_for_cli() -> dict[str, Any]:
    """Used by ``tortoise -c zongzhi.platform.models.db.TORTOISE_ORM makemigrations`` (developers only)."""
    return tortoise_config(Settings.from_env())


async def migrate(settings: Settings) -> None:
    """Apply every pending migration. Safe to call on every start."""
    await tortoise_migrate(config=tortoise_config(settings))
    await Tortoise.close_connections()


async def init(settings: Settings, *, run_migrations: bool = True) -> None:
    if run_migrations:
        await migrate(settings)
    # The global fallback lets request tasks see the ORM that the ASGI lifespan task initialised.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close() -> None:
    await Tortoise.close_connections()
    # tortoise caches INSERT statements by connection name, not by dialect: a process that opens
    # SQLite and later PostgreSQL under the same name would send "?" placeholders to asyncpg.
    EXECUTOR_CACHE.clear()


def __getattr__(name: str) -> Any:
    if name == "TORTOISE_ORM":
        return _config_for_cli()
    raise AttributeError(name)


async def lock_for_transaction(connection: Any, key: str) -> None:
    """Hold ``key`` until the current transaction on ``connection`` ends.

    Serialises a check-then-insert that several processes run at once (the API and a worker both
    install the shipped rulesets when they start on a fresh database). PostgreSQL takes a
    transaction-scoped advisory lock; SQLite already lets one writer at a time in, and a second
    process that read before the first wrote gets "database is locked" instead of a duplicate.
    """
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query("SELECT pg_advisory_xact_lock(hashtext($1))", [key])
