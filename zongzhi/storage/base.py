"""The evidence store interface shared by the MinIO/S3 store and the local-directory store.

Every method is a coroutine so the ASGI event loop never waits on disk or network: implementations
push blocking work (the ``minio`` SDK is synchronous) onto worker threads.

The upload flow the API builds on top of a store:

1. ``presign_put`` (or ``start_multipart`` for large files) hands the client a short-lived URL;
2. the client uploads its bytes straight to that URL;
3. on confirmation the API calls ``stat``, ``head_bytes`` (type sniffing), ``sha256`` and finally
   ``lock``; on any mismatch it calls ``delete``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

MIN_PART_BYTES = 5 * 1024 * 1024
"""S3's smallest part (all parts but the last must be at least this large)."""
MAX_PARTS = 10_000
"""S3's largest number of parts in one multipart upload."""


class StorageError(Exception):
    """Base class of evidence store errors."""


class StoreUnavailable(StorageError):
    """The store cannot be used: unreachable, credentials refused, or misconfigured.

    ``reason`` is ``"unreachable"``, ``"credentials"`` or ``"error"``; ``endpoint`` names the store.
    """

    def __init__(self, message: str, *, endpoint: str, reason: str) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.reason = reason


class ObjectMissing(StorageError):
    """No object under that key."""


class ObjectLocked(StorageError):
    """The object is under retention and cannot be deleted or overwritten."""


class InvalidUpload(StorageError):
    """A multipart upload cannot be completed (unknown upload, missing or mismatched part)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how the client sends its bytes. ``headers`` must be sent with the request."""

    url: str
    method: str
    expires_at: datetime
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MultipartUpload:
    """``part_urls[i]`` takes part number ``i + 1``; the client keeps each response's ``ETag`` header
    and passes ``(part number, etag)`` pairs to ``complete_multipart``."""

    upload_id: str
    part_urls: list[str]
    expires_at: datetime


def part_size_for(total_bytes: int, preferred: int = 16 * 1024 * 1024) -> int:
    """A part size that keeps a ``total_bytes`` upload within S3's part count and minimum size."""
    return max(MIN_PART_BYTES, preferred, math.ceil(total_bytes / MAX_PARTS))


def content_disposition(filename: str) -> str:
    """An ``attachment`` disposition carrying ``filename`` safely (RFC 6266 / RFC 5987).

    Non-ASCII names go in ``filename*``; the plain ``filename`` gets an ASCII fallback with quotes,
    backslashes and control characters removed so the header cannot be broken out of.
    """
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class EvidenceStore(ABC):
    """Where evidence files live. Keys come from :func:`zongzhi.storage.keys.evidence_key`."""

    supports_locking: bool = False
    """True once ``ensure_ready`` found that ``lock`` really makes objects immutable."""

    @abstractmethod
    async def ensure_ready(self) -> None:
        """Create or check the bucket/directory; raise :class:`StoreUnavailable` saying why not."""

    @abstractmethod
    async def presign_put(
        self, key: str, content_type: str, expires: int = 300, size_limit: int | None = None
    ) -> PresignedUpload:
        """A URL the client PUTs the whole file to, valid ``expires`` seconds.

        ``size_limit`` is enforced on upload where the store can (local links); S3 presigned PUTs
        cannot limit the size, so confirmation must always check ``stat().size``.
        """

    @abstractmethod
    async def start_multipart(
        self, key: str, content_type: str, part_count: int, expires: int = 900
    ) -> MultipartUpload:
        """Begin a chunked upload with one presigned PUT URL per part."""

    @abstractmethod
    async def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> ObjectInfo:
        """Assemble the uploaded parts, given as ``(part number, etag)``, into the object."""

    @abstractmethod
    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Drop an unfinished multipart upload and its parts."""

    @abstractmethod
    async def abort_stale_multipart(self, older_than: timedelta) -> int:
        """Abort multipart uploads begun more than ``older_than`` ago; returns how many.

        Parts of an unfinished upload are not objects, so ``list_keys`` never shows them; the
        orphan sweeper calls this alongside deleting unconfirmed objects.
        """

    @abstractmethod
    async def put(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        """Store a small file sent through the API (server-side put)."""

    @abstractmethod
    async def stat(self, key: str) -> ObjectInfo | None:
        """The object's size, etag and modification time, or ``None`` if there is none."""

    @abstractmethod
    async def head_bytes(self, key: str, n: int = 4096) -> bytes:
        """The object's first ``n`` bytes (fewer if it is shorter), for type sniffing."""

    @abstractmethod
    async def sha256(self, key: str) -> str:
        """Hex sha256 of the object, read as a stream (never the whole file in memory)."""

    @abstractmethod
    async def lock(self, key: str, days: int) -> bool:
        """Put the object under retention for ``days``; False (and a log note) where unsupported."""

    @abstractmethod
    async def presign_get(self, key: str, filename: str, expires: int = 300) -> str:
        """A short-lived download URL; the response names the file ``filename``."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object (all its versions); :class:`ObjectLocked` if under retention.

        Deleting a key that does not exist is not an error.
        """

    @abstractmethod
    async def list_keys(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with ``prefix``, with its age (``last_modified``)."""

    # -- backup and restore (``zongzhi backup`` / ``zongzhi restore``) ----------------------------

    @abstractmethod
    async def download(self, key: str, dest: Path) -> None:
        """Copy the object's bytes into the local file ``dest`` (streamed); :class:`ObjectMissing`."""

    @abstractmethod
    async def upload(self, key: str, src: Path, content_type: str) -> ObjectInfo:
        """Store the local file ``src`` under ``key`` (streamed); :class:`ObjectLocked` if retained."""

    @abstractmethod
    async def retained_until(self, key: str) -> datetime | None:
        """When the object's retention (object lock) ends, or ``None`` when it has none."""
