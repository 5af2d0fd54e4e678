"""The manifest of a backup archive (``manifest.json``, the archive's last member).

It says what the archive holds and lets a restore check everything before and after loading:
the format and zongzhi version, the database kind and the migrations applied, the row count of
every table, a fingerprint of the PII key, and every evidence object's key, size, SHA-256,
content type and retention end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

from zongzhi.platform.base.errors import UsageError
from zongzhi.platform.base.pii import PiiCipher
from zongzhi.platform.base.settings import Settings

FORMAT = "zongzhi-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EVIDENCE_PREFIX = "evidence/"
_KEY_CHECK = "zongzhi backup key check"


def zongzhi_version() -> str:
    try:
        return metadata.version("zongzhi")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def key_fingerprint(settings: Settings) -> str:
    """A keyed hash that names the PII key without revealing it (the same key, the same value)."""
    return PiiCipher(settings.pii_key or f"pii:{settings.secret_key}").lookup_hash(_KEY_CHECK)[:16]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class EvidenceObject:
    key: str
    size: int
    sha256: str
    content_type: str
    retain_until: str | None = None
    """ISO time the object's retention ends in the source store, or ``None``."""


@dataclass
class Manifest:
    created_at: str
    database_kind: str
    database_file: str
    database_sha256: str
    migrations: list[str]
    counts: dict[str, int]
    key_fingerprint: str
    evidence_store: str
    evidence: list[EvidenceObject] = field(default_factory=list)
    missing_evidence: list[str] = field(default_factory=list)
    """Keys that evidence rows name but the store did not have when the backup was made."""
    zongzhi_version: str = field(default_factory=zongzhi_version)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def migration_level(self) -> str:
        return self.migrations[-1] if self.migrations else "(none)"

    def to_json(self) -> bytes:
        data = asdict(self)
        data["migration_level"] = self.migration_level
        return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes, source: str) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise ValueError("not a zongzhi backup")
            if data.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"backup format {data.get('format_version')} is not {FORMAT_VERSION}")
            data.pop("migration_level", None)
            data["evidence"] = [EvidenceObject(**o) for o in data.get("evidence", [])]
            manifest = cls(**data)
            datetime.fromisoformat(manifest.created_at)
            return manifest
        except (ValueError, TypeError, KeyError) as exc:
            raise UsageError(f"{source}: not a usable zongzhi backup manifest ({exc})") from exc
