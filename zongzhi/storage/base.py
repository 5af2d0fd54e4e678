"""The evidence store interface shared by the MinIO/S3 store and the local-directory store.

Every method is a coroutine so the ASGI event loop never waits on disk or network: implementations
push blocking work (the ``minio`` SDK is synchronous) onto worker threads.

The upload flow the API builds on top of a store:

1. ``presign_put`` (or ``start_multipart`` for large files) hands the client a short-lived URL to a
   *staging* key (:func:`~zongzhi.storage.keys.staging_key`);
2. the client uploads its bytes straight to that URL;
3. on confirmation the API calls ``promote``, which moves the staged object to its final key, a key
   no link ever names, and returns that object's version; the API then checks *that version* with
   ``stat``, ``head_bytes`` (type sniffing) and ``sha256``, and finally ``lock``s it; on any mismatch
   it ``delete``s that version.
4. downloads are ``presign_get`` links to the recorded version, served with the recorded type.

So whatever a client later sends to a link it still holds lands on a staging key nobody reads: what
was confirmed is what is served.
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
    version_id: str | None = None
    """The store's version of the object, where it keeps versions (``None`` otherwise)."""


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

        ``key`` must be a staging key (``ValueError`` otherwise): no upload link names final evidence.

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
    async def promote(self, staging_key: str, final_key: str, content_type: str) -> ObjectInfo | None:
        """Move the object uploaded to ``staging_key`` to ``final_key`` and drop the staging object.

        From the moment the move starts, nothing a client sends to a staging link can reach the final
        object. Returns the final object, with its ``version_id`` where the store keeps versions, or
        ``None`` when nothing was uploaded (the staging link stays usable then). Idempotent: when
        ``final_key`` already exists (a retried confirmation) it is returned as it is and the staged
        object is dropped, never copied over it. ``content_type`` becomes the final object's type.
        """

    @abstractmethod
    async def stat(self, key: str, version_id: str | None = None) -> ObjectInfo | None:
        """The object's (or that version's) size, etag, modification time and version, or ``None``."""

    @abstractmethod
    async def head_bytes(self, key: str, n: int = 4096, version_id: str | None = None) -> bytes:
        """The object's first ``n`` bytes (fewer if it is shorter), for type sniffing."""

    @abstractmethod
    async def sha256(self, key: str, version_id: str | None = None) -> str:
        """Hex sha256 of the object, read as a stream (never the whole file in memory)."""

    @abstractmethod
    async def lock(self, key: str, days: int, version_id: str | None = None) -> bool:
        """Put the object under retention for ``days``; False (and a log note) where unsupported."""

    @abstractmethod
    async def presign_get(
        self,
        key: str,
        filename: str,
        expires: int = 300,
        *,
        content_type: str = "application/octet-stream",
        version_id: str | None = None,
        sha256: str | None = None,
    ) -> str:
        """A short-lived download URL for that version of the object, served as an attachment named
        ``filename`` with ``content_type`` (the type recorded at confirmation, never one guessed from
        the name or stored with the upload). Where ``sha256`` is given and the store serves the bytes
        itself (local links), the file is checked against it before a byte goes out."""

    @abstractmethod
    async def delete(self, key: str, version_id: str | None = None) -> None:
        """Remove the object (all its versions, or only ``version_id``); :class:`ObjectLocked` if
        under retention.

        Deleting a key that does not exist is not an error.
        """

    async def versions(self, key: str) -> list[ObjectInfo]:
        """Every version of ``key``, newest first; empty where the store keeps no versions.

        Used once per evidence confirmed before versions were recorded, to find and pin the version
        whose bytes match the recorded hash.
        """
        return []

    @abstractmethod
    async def list_keys(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with ``prefix``, with its age (``last_modified``)."""

    # -- backup and restore (``zongzhi backup`` / ``zongzhi restore``) ----------------------------

    @abstractmethod
    async def download(self, key: str, dest: Path, version_id: str | None = None) -> None:
        """Copy the object's bytes (``version_id``: that version) into the local file ``dest``,
        streamed; :class:`ObjectMissing` if there is none."""

    @abstractmethod
    async def upload(self, key: str, src: Path, content_type: str) -> ObjectInfo:
        """Store the local file ``src`` under ``key`` (streamed); :class:`ObjectLocked` if retained."""

    @abstractmethod
    async def retained_until(self, key: str) -> datetime | None:
        """When the object's retention (object lock) ends, or ``None`` when it has none."""
