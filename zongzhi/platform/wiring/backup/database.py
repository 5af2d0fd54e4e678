"""The database half of a backup: a consistent snapshot file, and loading one into an empty database.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the live file page by page
while the API keeps running, and loads a snapshot into the target file the same way.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore``, found on PATH or under Debian's
``/usr/lib/postgresql/<version>/bin`` (newest first; pg_dump must be at least the server's major
version). The facts the manifest records (row counts, applied migrations, evidence keys) are read
in the very snapshot that pg_dump dumps: a repeatable-read transaction exports its snapshot and
pg_dump runs with ``--snapshot``, so counts and dump cannot disagree however busy the database is.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from zongzhi.platform.base.errors import UsageError
from zongzhi.platform.base.settings import Settings

MIGRATIONS_TABLE = "tortoise_migrations"


@dataclass
class Facts:
    """What a database holds, read from one consistent view of it."""

    counts: dict[str, int] = field(default_factory=dict)
    migrations: list[str] = field(default_factory=list)
    evidence: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    """Evidence key → (declared content type, status, pinned store version) of every evidence row."""

    @property
    def has_data(self) -> bool:
        return any(n for table, n in self.counts.items() if table != MIGRATIONS_TABLE)


def sqlite_file(settings: Settings) -> Path:
    return settings.data_dir / "zongzhi.sqlite3"


# -- SQLite ---------------------------------------------------------------------------------------


def _sqlite_facts(conn: sqlite3.Connection) -> Facts:
    facts = Facts()
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    for table in tables:
        facts.counts[table] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    if MIGRATIONS_TABLE in tables:
        facts.migrations = [
            f"{app}.{name}"
            for app, name in conn.execute(
                f'SELECT app, name FROM "{MIGRATIONS_TABLE}" ORDER BY applied_at, app, name'
            )
        ]
    if "evidence" in tables:
        rows = conn.execute("SELECT key, content_type, status, version_id FROM evidence")
        facts.evidence = {key: (content_type, status, version) for key, content_type, status, version in rows}
    return facts


def sqlite_snapshot(settings: Settings, dest: Path) -> Facts:
    """Copy the live SQLite database into ``dest`` with the online backup API."""
    source = sqlite_file(settings)
    if not source.is_file():
        raise UsageError(f"no database at {source}: nothing to back up (check ZONGZHI_DATA_DIR)")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
        return _sqlite_facts(dst)
    finally:
        dst.close()
        src.close()


def sqlite_facts(path: Path) -> Facts:
    if not path.is_file():
        return Facts()
    conn = sqlite3.connect(path)
    try:
        return _sqlite_facts(conn)
    finally:
        conn.close()


def sqlite_load(snapshot: Path, settings: Settings, *, force: bool) -> None:
    """Replace the target database's whole content with ``snapshot`` (refused if it holds data)."""
    target = sqlite_file(settings)
    if sqlite_facts(target).has_data and not force:
        raise UsageError(f"the database {target} is not empty: restore into an empty one, or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(snapshot)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# -- PostgreSQL -----------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """The path of ``pg_dump``/``pg_restore``: PATH first, then Debian's versioned directories."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
        reverse=True,
    )
    for path in candidates:
        if os.access(path, os.X_OK):
            return str(path)
    raise UsageError(
        f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client) "
        "matching the server's major version or newer"
    )


def _credentials(settings: Settings) -> dict[str, Any]:
    return expand_db_url(settings.db_url)["credentials"]


def _pg_env(settings: Settings) -> dict[str, str]:
    """libpq's variables for the configured database: the password never appears in ``ps``."""
    c = _credentials(settings)
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": str(c.get("host") or "127.0.0.1"),
            "PGPORT": str(c.get("port") or 5432),
            "PGUSER": str(c.get("user") or ""),
            "PGDATABASE": str(c.get("database") or ""),
        }
    )
    if c.get("password"):
        env["PGPASSWORD"] = str(c["password"])
    return env


async def _pg_connect(settings: Settings):
    import asyncpg

    c = _credentials(settings)
    return await asyncpg.connect(
        host=c.get("host"),
        port=c.get("port"),
        user=c.get("user"),
        password=c.get("password"),
        database=c.get("database"),
    )


async def _pg_tables(conn) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    return [r["table_name"] for r in rows]


async def _pg_facts(conn) -> Facts:
    facts = Facts()
    tables = await _pg_tables(conn)
    for table in tables:
        facts.counts[table] = await conn.fetchval(f'SELECT count(*) FROM "{table}"')
    if MIGRATIONS_TABLE in tables:
        rows = await conn.fetch(f'SELECT app, name FROM "{MIGRATIONS_TABLE}" ORDER BY applied_at, app, name')
        facts.migrations = [f"{r['app']}.{r['name']}" for r in rows]
    if "evidence" in tables:
        rows = await conn.fetch("SELECT key, content_type, status, version_id FROM evidence")
        facts.evidence = {r["key"]: (r["content_type"], r["status"], r["version_id"]) for r in rows}
    return facts


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise UsageError(f"{Path(command[0]).name} failed: {reason}")


async def pg_snapshot(settings: Settings, dest: Path) -> Facts:
    """``pg_dump`` into ``dest``, in the same snapshot the returned facts were read in."""
    tool = pg_tool("pg_dump")
    conn = await _pg_connect(settings)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            facts = await _pg_facts(conn)
            command = [tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
            await asyncio.to_thread(_run, [*command, f"--file={dest}"], _pg_env(settings))
        return facts
    finally:
        await conn.close()


async def pg_facts(settings: Settings) -> Facts:
    conn = await _pg_connect(settings)
    try:
        return await _pg_facts(conn)
    finally:
        await conn.close()


async def pg_load(dump: Path, settings: Settings, *, force: bool) -> None:
    """Load a custom-format dump into the configured database (refused if it holds data).

    Tables that are there but empty (a database someone already migrated) are dropped first, as
    are tables with data under ``force``; then ``pg_restore`` runs in one transaction.
    """
    tool = pg_tool("pg_restore")
    conn = await _pg_connect(settings)
    try:
        facts = await _pg_facts(conn)
        if facts.has_data and not force:
            database = _credentials(settings).get("database")
            raise UsageError(
                f"the database {database!r} is not empty: restore into an empty one, or pass --force"
            )
        if facts.counts:
            await conn.execute("DROP TABLE " + ", ".join(f'"{t}"' for t in facts.counts) + " CASCADE")
    finally:
        await conn.close()
    env = _pg_env(settings)
    command = [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    await asyncio.to_thread(_run, [*command, "--dbname", env["PGDATABASE"], str(dump)], env)


# -- either ---------------------------------------------------------------------------------------


async def snapshot(settings: Settings, dest: Path) -> Facts:
    if settings.is_sqlite:
        return await asyncio.to_thread(sqlite_snapshot, settings, dest)
    return await pg_snapshot(settings, dest)


async def current_facts(settings: Settings) -> Facts:
    if settings.is_sqlite:
        return await asyncio.to_thread(sqlite_facts, sqlite_file(settings))
    return await pg_facts(settings)


async def load(dump: Path, settings: Settings, *, force: bool) -> None:
    if settings.is_sqlite:
        await asyncio.to_thread(sqlite_load, dump, settings, force=force)
    else:
        await pg_load(dump, settings, force=force)


async def pin_versions(settings: Settings, versions: dict[str, str | None]) -> None:
    """Point restored evidence rows at the versions the target store gave their objects.

    Downloads serve the version a row names; a restored object is a new version in another store
    (or none, in the local store), so the source's version ids would name nothing there.
    """
    if not versions:
        return
    update = "UPDATE evidence SET version_id = {} WHERE key = {} AND status <> 'pending'"
    if settings.is_sqlite:
        conn = sqlite3.connect(sqlite_file(settings))
        try:
            with conn:
                conn.executemany(update.format("?", "?"), [(v, k) for k, v in versions.items()])
        finally:
            conn.close()
        return
    pg = await _pg_connect(settings)
    try:
        await pg.executemany(update.format("$1", "$2"), [(v, k) for k, v in versions.items()])
    finally:
        await pg.close()
