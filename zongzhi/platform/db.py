"""Database start-up: the Tortoise config, migrations and shutdown, the same for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate as tortoise_migrate

from zongzhi.platform.models import MODEL_MODULES
from zongzhi.platform.settings import Settings

MIGRATIONS_PACKAGE = "zongzhi.platform.migrations"


def tortoise_config(settings: Settings) -> dict[str, Any]:
    url = settings.db_url
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": url},
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
    """Used by ``tortoise -c zongzhi.platform.db.TORTOISE_ORM makemigrations`` (developers only)."""
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
