"""``zongzhi backup`` then ``zongzhi restore``, as an operator runs them, on SQLite and PostgreSQL.

The source is the suite's database with cases walked through the services, evidence files in the
store and audit rows from a GraphQL request that revealed an ID number. The restore goes into an
empty database (a fresh PostgreSQL database on the suite's cluster) and an empty evidence store
(a fresh directory, or a bucket on a real moto_server), and every case, event, evidence file (by
its SHA-256) and audit row must be there, with ID numbers still readable under the same key.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.casework import actor, take_to
from tests.gql import gql
from tests.storage.storage_samples import png
from tests.world import World
from zongzhi.platform.base import security
from zongzhi.platform.base.codes import CaseStatus, PartyRole
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import AuditLog
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.evidence import EvidenceService
from zongzhi.platform.services.people import PersonInput
from zongzhi.storage import LocalEvidenceStore, MinioEvidenceStore, build_store
from zongzhi.storage.testing import moto_endpoint

TABLES = ["case", "case_event", "case_party", "person", "evidence", "audit_log", "decision", "assignment"]
ID_NUMBERS = ["110101199003074514", "11010519491231002X"]
PEOPLE = "query($n: String) { people(idNumber: $n) { edges { node { name idNumber } } } }"


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONGZHI_")}
    env.update(
        ZONGZHI_DATA_DIR=str(settings.data_dir),
        ZONGZHI_DATABASE_URL=settings.database_url,
        ZONGZHI_SECRET_KEY=settings.secret_key,
        ZONGZHI_STORAGE=settings.storage,
        ZONGZHI_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def zongzhi(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _refused(result: subprocess.CompletedProcess) -> str:
    """A refusal: exit 2, one line on stderr, no traceback."""
    assert result.returncode == 2, f"exit {result.returncode}:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- reading a database as it is stored -----------------------------------------------------------


def _pg_dsn(url: str, database: str | None = None) -> str:
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urlunsplit(parts._replace(path=f"/{database}" if database else parts.path, query=""))


async def query(settings: Settings, sql: str) -> list[tuple]:
    """Rows as stored (no ORM between the test and the data)."""
    if settings.is_sqlite:
        conn = sqlite3.connect(settings.data_dir / "zongzhi.sqlite3")
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import asyncpg

    pg = await asyncpg.connect(_pg_dsn(settings.database_url))
    try:
        return [tuple(r) for r in await pg.fetch(sql)]
    finally:
        await pg.close()


async def rows(settings: Settings, table: str) -> list[tuple]:
    return await query(settings, f'SELECT * FROM "{table}" ORDER BY id')


async def tables(settings: Settings) -> list[str]:
    if settings.is_sqlite:
        path = settings.data_dir / "zongzhi.sqlite3"
        if not path.exists():
            return []
        conn = sqlite3.connect(path)
        try:
            return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        finally:
            conn.close()
    import asyncpg

    pg = await asyncpg.connect(_pg_dsn(settings.database_url))
    try:
        found = await pg.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return [r["table_name"] for r in found]
    finally:
        await pg.close()


async def _pg_admin(sql: str) -> None:
    import asyncpg

    pg = await asyncpg.connect(_pg_dsn(os.environ["ZONGZHI_TEST_POSTGRES_URL"], "postgres"))
    try:
        await pg.execute(sql)
    finally:
        await pg.close()


@dataclass
class Target:
    settings: Settings
    env: dict[str, str]


@pytest.fixture
async def target(settings: Settings, tmp_path: Path) -> AsyncIterator[Target]:
    """An empty place to restore into: a new data directory, and a new database on PostgreSQL."""
    data_dir = tmp_path / "restored"
    url, name = "", ""
    if not settings.is_sqlite:
        name = f"zz_restore_{uuid.uuid4().hex[:10]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(settings.database_url)._replace(path=f"/{name}"))
    restored = replace(settings, data_dir=data_dir, database_url=url)
    yield Target(restored, _env(restored))
    if name:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_endpoint() as endpoint:
        yield endpoint


# -- the source -----------------------------------------------------------------------------------


async def fill(world: World, settings: Settings, client) -> dict[str, str]:
    """Cases in several states with parties, evidence and audit rows; returns key -> sha256."""
    store = LocalEvidenceStore.from_settings(settings)
    await store.ensure_ready()
    evidence = EvidenceService(store, settings)
    grid = await actor(world, "a1_grid")
    hashes = {}
    for i, status in enumerate([CaseStatus.followed_up, CaseStatus.handling, CaseStatus.received]):
        party = PersonInput(name=f"当事人{i}", id_number=ID_NUMBERS[i % 2], grid_id=world.grids["a1g1"].id)
        case, _ = await svc.intake(
            svc.CaseInput(
                title=f"纠纷{i}",
                category="neighbor",
                channel="grid",
                grid_id=world.grids["a1g1"].id,
                parties=[svc.PartyInput(role=PartyRole.applicant, person=party)],
            ),
            grid,
        )
        stored = await evidence.add_evidence_bytes(grid, case.id, f"照片{i}.png", "image/png", png(8 + i, 8))
        hashes[stored.key] = stored.sha256
        await take_to(world, case, status)
    for number in ID_NUMBERS:  # staff see full numbers: one audit row per request
        await gql(client, world.tokens["a_staff"], PEOPLE, {"n": number})
    assert await AuditLog.filter(action="pii.read").count() == 2
    return hashes


async def store_keys(store) -> set[str]:
    return {o.key for o in await store.list_keys()}


async def _same_data(source: Settings, restored: Settings, tables: list[str] = TABLES) -> None:
    for table in tables:
        before = await rows(source, table)
        assert before or table in {"decision"}, f"the source has no {table} rows to compare"
        assert await rows(restored, table) == before, f"table {table} differs after the restore"


async def readable_numbers(settings: Settings) -> set[str]:
    found = await query(settings, "SELECT id_number_enc FROM person WHERE id_number_enc IS NOT NULL")
    return {security.cipher().decrypt(enc) for (enc,) in found}


# -- the tests ------------------------------------------------------------------------------------


async def test_backup_restores_into_an_empty_database_and_store(rules, settings, client, target, tmp_path):
    hashes = await fill(rules, settings, client)
    archive = tmp_path / "zongzhi-backup.tar"

    source_keys = await store_keys(LocalEvidenceStore.from_settings(settings))
    assert set(hashes) <= source_keys  # (and the earlier tests' locked files: the store keeps them)
    out = _ok(zongzhi(_env(settings), "backup", str(archive)))
    assert f"wrote {archive}" in out and f"{len(source_keys)} evidence objects" in out
    assert _refused(zongzhi(_env(settings), "backup", str(archive))).endswith("pass --overwrite")

    out = _ok(zongzhi(target.env, "restore", str(archive)))
    assert f"{len(source_keys)} evidence objects, all checked" in out
    await _same_data(settings, target.settings)

    restored_store = LocalEvidenceStore.from_settings(target.settings)
    assert await store_keys(restored_store) == source_keys
    for key, digest in hashes.items():
        assert await restored_store.sha256(key) == digest
        assert await restored_store.retained_until(key) is not None, "confirmed evidence stays locked"
    assert await readable_numbers(target.settings) == set(ID_NUMBERS)

    again = _refused(zongzhi(target.env, "restore", str(archive)))
    assert again == "zongzhi restore: the database is not empty: restore into an empty one, or pass --force"
    _ok(zongzhi(target.env, "restore", "--force", str(archive)))
    await _same_data(settings, target.settings)


async def test_restore_refuses_another_pii_key_and_a_damaged_archive(
    rules, settings, client, target, tmp_path
):
    await fill(rules, settings, client)
    archive = tmp_path / "b.tar.gz"
    _ok(zongzhi(_env(settings), "backup", str(archive)))

    other_key = {**target.env, "ZONGZHI_SECRET_KEY": "another-secret-key-that-is-long-enough-for-hs256"}
    assert "another PII key" in _refused(zongzhi(other_key, "restore", str(archive)))
    assert await tables(target.settings) == [], "a refused restore writes nothing"

    broken = tmp_path / "broken.tar"
    broken.write_bytes(b"this is not a tar file")
    assert "not a readable tar archive" in _refused(zongzhi(target.env, "restore", str(broken)))
    missing = _refused(zongzhi(target.env, "restore", str(tmp_path / "nope.tar")))
    assert missing.endswith("nope.tar: no such file")


@pytest.mark.s3
async def test_a_local_backup_restores_into_an_s3_bucket(rules, settings, client, target, tmp_path, moto):
    hashes = await fill(rules, settings, client)
    source_keys = await store_keys(LocalEvidenceStore.from_settings(settings))
    archive = tmp_path / "b.tar"
    _ok(zongzhi(_env(settings), "backup", str(archive)))

    bucket = f"zz-restore-{uuid.uuid4().hex[:10]}"
    s3 = replace(
        target.settings,
        storage="s3",
        s3_endpoint=moto,
        s3_access_key="testing",
        s3_secret_key="testing",
        s3_bucket=bucket,
    )
    env = _env(
        s3,
        ZONGZHI_S3_ENDPOINT=moto,
        ZONGZHI_S3_ACCESS_KEY="testing",
        ZONGZHI_S3_SECRET_KEY="testing",
        ZONGZHI_S3_BUCKET=bucket,
    )
    _ok(zongzhi(env, "restore", str(archive)))
    store = build_store(s3)
    assert isinstance(store, MinioEvidenceStore)
    await store.ensure_ready()
    assert await store_keys(store) == source_keys
    for key, digest in hashes.items():
        assert await store.sha256(key) == digest
    await _same_data(settings, s3, [t for t in TABLES if t != "evidence"])
    # Evidence rows as they were, pinned to the versions the bucket gave the restored objects.
    columns = "id, case_id, key, filename, content_type, size, sha256, status"
    before = await query(settings, f"SELECT {columns} FROM evidence ORDER BY id")
    assert await query(s3, f"SELECT {columns} FROM evidence ORDER BY id") == before
    for key, version in await query(s3, "SELECT key, version_id FROM evidence WHERE status = 'stored'"):
        info = await store.stat(key)
        assert info is not None and version == info.version_id and version is not None
