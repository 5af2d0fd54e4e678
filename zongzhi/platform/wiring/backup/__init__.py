"""``zongzhi backup`` and ``zongzhi restore``: the database and the evidence store in one tar file.

An archive holds ``database/zongzhi.sqlite3`` (SQLite) or ``database/zongzhi.pgdump`` (PostgreSQL,
pg_dump's custom format), ``evidence/<key>`` for every object of the evidence store, read through
the store interface (so a backup of a local directory restores into MinIO and back), and
``manifest.json`` last (see :mod:`.manifest`). A name ending in ``.gz`` or ``.tgz`` is gzipped.

Order matters for consistency while the API runs: the database snapshot comes first, then the
objects. Confirmed evidence is never changed or deleted, so every object a row in the snapshot
names is still there when the objects are copied; an upload that starts later only adds an object
no row names (an orphan the clean-up removes).

The archive does not hold the secret or PII keys (``ZONGZHI_SECRET_KEY``, ``ZONGZHI_PII_KEY``, or
the embedded mode's ``<data dir>/secret.key``): they are kept apart, and a restore refuses to run
under another PII key than the backup's, which would leave every stored ID number unreadable.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from zongzhi.platform.base.errors import UsageError
from zongzhi.platform.base.progress import Progress
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import db
from zongzhi.platform.wiring.backup import database
from zongzhi.platform.wiring.backup.manifest import (
    EVIDENCE_PREFIX,
    MANIFEST,
    EvidenceObject,
    Manifest,
    key_fingerprint,
    sha256_file,
)
from zongzhi.storage import EvidenceStore, ObjectLocked, ObjectMissing, build_store

__all__ = ["Manifest", "RestoreReport", "backup", "restore"]

DATABASE_PREFIX = "database/"
_CHUNK = 1024 * 1024


@dataclass
class RestoreReport:
    manifest: Manifest
    rows: int
    objects: int
    migrated: list[str]


def _tar_mode(path: Path, write: bool) -> str:
    if write:
        return "w:gz" if path.name.endswith((".gz", ".tgz")) else "w"
    return "r:*"


async def backup(settings: Settings, out: Path) -> Manifest:
    """Write a backup of the configured database and evidence store to ``out``.

    The archive is written as ``<out>.partial`` and renamed when complete, so ``out`` is never a
    half-written backup.
    """
    store = build_store(settings)
    await store.ensure_ready()
    partial = out.with_name(out.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="zongzhi-backup-") as tmp:
        dump = Path(tmp) / ("zongzhi.sqlite3" if settings.is_sqlite else "zongzhi.pgdump")
        facts = await database.snapshot(settings, dump)
        manifest = Manifest(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            database_kind="sqlite" if settings.is_sqlite else "postgres",
            database_file=DATABASE_PREFIX + dump.name,
            database_sha256=sha256_file(dump),
            migrations=facts.migrations,
            counts=facts.counts,
            key_fingerprint=key_fingerprint(settings),
            evidence_store=settings.storage,
        )
        try:
            with tarfile.open(partial, _tar_mode(out, write=True)) as tar:
                tar.add(dump, arcname=manifest.database_file)
                dump.unlink()
                await _back_up_objects(store, tar, Path(tmp), facts, manifest)
                body = manifest.to_json()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(time.time()), 0o644
                tar.addfile(info, io.BytesIO(body))
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


async def _back_up_objects(
    store: EvidenceStore, tar: tarfile.TarFile, tmp: Path, facts: database.Facts, manifest: Manifest
) -> None:
    objects = await store.list_keys()
    local = tmp / "object"
    with Progress.start("backing up evidence", sum(o.size for o in objects), unit="B") as bar:
        for info in objects:
            content_type, _status, version = facts.evidence.get(
                info.key, ("application/octet-stream", "", None)
            )
            try:
                # The version a row pins is the evidence, even if a newer one was put over it.
                await store.download(info.key, local, version)
            except ObjectMissing:
                continue  # an unconfirmed upload the clean-up removed since the listing
            until = await store.retained_until(info.key)
            manifest.evidence.append(
                EvidenceObject(
                    key=info.key,
                    size=local.stat().st_size,
                    sha256=sha256_file(local),
                    content_type=content_type,
                    retain_until=until.isoformat() if until else None,
                )
            )
            tar.add(local, arcname=EVIDENCE_PREFIX + info.key)
            local.unlink()
            bar.advance(info.size)
    stored = {o.key for o in manifest.evidence}
    manifest.missing_evidence = sorted(
        key
        for key, (_type, status, _version) in facts.evidence.items()
        if status != "pending" and key not in stored
    )


# -- restore --------------------------------------------------------------------------------------


def known_migrations() -> set[str]:
    """The migrations this version of zongzhi ships, as ``models.<name>``."""
    names = resources.files(db.MIGRATIONS_PACKAGE).iterdir()
    return {f"models.{p.name[:-3]}" for p in names if re.match(r"^\d{4}_\w+\.py$", p.name)}


def _read_manifest(tar: tarfile.TarFile, source: str) -> Manifest:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError as exc:
        raise UsageError(f"{source}: no {MANIFEST} (not a zongzhi backup, or cut short)") from exc
    handle = tar.extractfile(member)
    if handle is None:
        raise UsageError(f"{source}: {MANIFEST} is not a file")
    return Manifest.from_json(handle.read(), source)


def _extract_checked(
    tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, sha256: str, what: str
) -> None:
    """Copy an archive member to ``dest`` and check it against the manifest's SHA-256."""
    handle = tar.extractfile(member)
    if handle is None:
        raise UsageError(f"the archive's {what} is not a file")
    digest = hashlib.sha256()
    with dest.open("wb") as out:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        raise UsageError(f"the archive is damaged: {what} does not match the SHA-256 in its manifest")


async def restore(
    settings: Settings, archive: Path, *, force: bool = False, allow_other_key: bool = False
) -> RestoreReport:
    """Load ``archive`` into the configured (empty) database and evidence store, and check it.

    Refused before anything is written when the database holds data or the store holds objects
    (unless ``force``), when the backup comes from a newer zongzhi, or when it was made under
    another PII key (unless ``allow_other_key``). Afterwards every table's row count and every
    object's SHA-256 are checked against the manifest, and pending migrations are applied.
    """
    if not archive.is_file():
        raise UsageError(f"{archive}: no such file")
    with _open_archive(archive) as tar:
        manifest = _read_manifest(tar, str(archive))
        _check_compatible(settings, manifest, allow_other_key)
        kind = "sqlite" if settings.is_sqlite else "postgres"
        if manifest.database_kind != kind:
            raise UsageError(
                f"the backup holds a {manifest.database_kind} database but this installation uses {kind}"
            )
        store = build_store(settings)
        await store.ensure_ready()
        existing = {o.key for o in await store.list_keys()}
        if not force:
            if (await database.current_facts(settings)).has_data:
                raise UsageError("the database is not empty: restore into an empty one, or pass --force")
            if existing:
                raise UsageError(
                    f"the evidence store already holds {len(existing)} object(s): "
                    "use an empty one, or pass --force"
                )
        with tempfile.TemporaryDirectory(prefix="zongzhi-restore-") as tmp:
            dump = Path(tmp) / Path(manifest.database_file).name
            try:
                member = tar.getmember(manifest.database_file)
            except KeyError as exc:
                raise UsageError(f"the archive has no {manifest.database_file}") from exc
            _extract_checked(tar, member, dump, manifest.database_sha256, "the database")
            await database.load(dump, settings, force=force)
            dump.unlink()
            loaded = await database.current_facts(settings)
            _check_counts(manifest.counts, loaded.counts)
            versions = await _restore_objects(tar, manifest, store, Path(tmp), existing)
            await database.pin_versions(settings, versions)
        before = set((await database.current_facts(settings)).migrations)
        await db.migrate(settings)
        migrated = [m for m in (await database.current_facts(settings)).migrations if m not in before]
    return RestoreReport(manifest, sum(manifest.counts.values()), len(versions), migrated)


def _open_archive(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, _tar_mode(archive, write=False))
    except (tarfile.TarError, OSError) as exc:
        raise UsageError(f"{archive}: not a readable tar archive ({exc})") from exc


def _check_compatible(settings: Settings, manifest: Manifest, allow_other_key: bool) -> None:
    unknown = [m for m in manifest.migrations if m not in known_migrations()]
    if unknown:
        raise UsageError(
            f"the backup was made by a newer zongzhi (migration {unknown[0]} is unknown to "
            f"{manifest.zongzhi_version}): restore it with that version or a later one"
        )
    if manifest.key_fingerprint != key_fingerprint(settings) and not allow_other_key:
        raise UsageError(
            "the backup was made under another PII key: set ZONGZHI_PII_KEY and ZONGZHI_SECRET_KEY (or "
            "copy <data dir>/secret.key) as they were, or pass --allow-other-key to restore without "
            "readable ID and phone numbers"
        )


def _check_counts(expected: dict[str, int], found: dict[str, int]) -> None:
    for table, count in sorted(expected.items()):
        if found.get(table) != count:
            raise UsageError(
                f"restore check failed: table {table} has {found.get(table)} rows, the backup {count}"
            )


async def _restore_objects(
    tar: tarfile.TarFile, manifest: Manifest, store: EvidenceStore, tmp: Path, existing: set[str]
) -> dict[str, str | None]:
    """Upload every object of the archive, checked; returns key -> the version the store gave it."""
    entries = {o.key: o for o in manifest.evidence}
    members = {
        m.name.removeprefix(EVIDENCE_PREFIX): m
        for m in tar.getmembers()
        if m.name.startswith(EVIDENCE_PREFIX)
    }
    missing = sorted(set(entries) - set(members))
    if missing:
        raise UsageError(f"the archive is damaged: evidence {missing[0]} is listed but not stored")
    local = tmp / "object"
    versions: dict[str, str | None] = {}
    with Progress.start("restoring evidence", sum(o.size for o in entries.values()), unit="B") as bar:
        for key, entry in entries.items():
            _extract_checked(tar, members[key], local, entry.sha256, f"evidence {key}")
            if key not in existing or await store.sha256(key) != entry.sha256:
                try:
                    info = await store.upload(key, local, entry.content_type)
                except ObjectLocked as exc:
                    raise UsageError(
                        f"evidence {key} is under retention in the target store and differs from the backup"
                    ) from exc
            else:
                info = await store.stat(key)
            version = info.version_id if info is not None else None
            await _relock(store, entry, version)
            if await store.sha256(key, version) != entry.sha256:
                raise UsageError(f"restore check failed: evidence {key} does not match its SHA-256")
            local.unlink()
            versions[key] = version
            bar.advance(entry.size)
    return versions


async def _relock(store: EvidenceStore, entry: EvidenceObject, version: str | None) -> None:
    """Put the object back under the retention it had, for the time that is left of it."""
    if not entry.retain_until:
        return
    left = datetime.fromisoformat(entry.retain_until) - datetime.now(UTC)
    if left.total_seconds() > 0:
        await store.lock(entry.key, math.ceil(left.total_seconds() / 86400), version)
