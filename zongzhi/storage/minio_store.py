"""Evidence in MinIO or any S3-compatible store, through the ``minio`` SDK.

The SDK is synchronous; every call runs in a worker thread (``asyncio.to_thread``).

Immutability: clients only ever hold presigned URLs to ``staging/`` keys. ``promote`` server-side copies
the staged object (the exact version it found) to the final ``cases/`` key, which no URL names, and
returns the new version; confirmation checks and locks that version, and downloads are presigned GETs
of that version with the recorded content type. A later PUT to a staging URL a client still holds only
creates a staging object nobody serves (the orphan sweeper removes it).

When ``retention_days > 0`` the bucket is created with object lock (which also turns on
versioning) and ``lock`` sets a retention period on the confirmed version. A store or an existing bucket
without object lock is used as is, with one logged note. Because a locked bucket is versioned,
``delete`` removes every version of a key, so deleting an unconfirmed upload really frees it and
deleting locked evidence is refused rather than hidden behind a delete marker.

Multipart uploads use the SDK's S3 primitives (``_create_multipart_upload``,
``_complete_multipart_upload``, ``_abort_multipart_upload``): the public SDK only offers multipart
for uploads it streams itself, not for presigned part URLs handed to a client.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, REPLACE, CopySource
from minio.datatypes import Part
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.retention import Retention

from .base import (
    MAX_PARTS,
    EvidenceStore,
    InvalidUpload,
    MultipartUpload,
    ObjectInfo,
    ObjectLocked,
    ObjectMissing,
    PresignedUpload,
    StoreUnavailable,
    content_disposition,
)
from .keys import validate_key, validate_staging_key

log = logging.getLogger(__name__)
T = TypeVar("T")

CREDENTIAL_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "InvalidClientTokenId",
}
MISSING_CODES = {"NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound", "MethodNotAllowed"}
LOCK_UNSUPPORTED_CODES = {
    "ObjectLockConfigurationNotFoundError",
    "NotImplemented",
    "InvalidRequest",
    "InvalidBucketState",
}
_CHUNK = 1024 * 1024


def http_client(connect_timeout: float = 5.0, read_timeout: float = 120.0) -> urllib3.PoolManager:
    """A pool that gives up quickly on an unreachable store.

    The SDK's default waits up to 5 minutes to connect and retries five times with backoff, which
    turns a wrong endpoint into a start-up that hangs instead of an error.
    """
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        maxsize=16,
        retries=urllib3.Retry(total=3, connect=1, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class MinioEvidenceStore(EvidenceStore):
    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        endpoint: str,
        access_key: str = "",
        retention_days: int = 0,
        lock_mode: str = COMPLIANCE,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.endpoint = endpoint
        self.access_key = access_key
        self.retention_days = retention_days
        self.lock_mode = lock_mode
        self.supports_locking = False
        self._versioned = False

    @classmethod
    def from_settings(cls, settings: Any, *, connect_timeout: float = 5.0) -> MinioEvidenceStore:
        client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region or None,
            http_client=http_client(connect_timeout),
        )
        scheme = "https" if settings.s3_secure else "http"
        return cls(
            client,
            settings.s3_bucket,
            endpoint=f"{scheme}://{settings.s3_endpoint}",
            access_key=settings.s3_access_key,
            retention_days=settings.evidence_retention_days,
        )

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._unreachable(exc) from exc

    def _unreachable(self, exc: BaseException) -> StoreUnavailable:
        reason = getattr(exc, "reason", None) or exc
        return StoreUnavailable(
            f"evidence store at {self.endpoint} is unreachable: {reason}",
            endpoint=self.endpoint,
            reason="unreachable",
        )

    # -- start-up ---------------------------------------------------------------------------------

    async def ensure_ready(self) -> None:
        try:
            await self._run(self._ensure_ready)
        except S3Error as exc:
            if exc.code in CREDENTIAL_CODES:
                raise StoreUnavailable(
                    f"evidence store at {self.endpoint} refused the credentials for access key "
                    f"{self.access_key!r} ({exc.code}: {exc.message}); check ZONGZHI_S3_ACCESS_KEY "
                    f"and ZONGZHI_S3_SECRET_KEY, and that the key may use bucket {self.bucket!r}",
                    endpoint=self.endpoint,
                    reason="credentials",
                ) from exc
            raise StoreUnavailable(
                f"evidence store at {self.endpoint} failed on bucket {self.bucket!r}: "
                f"{exc.code}: {exc.message}",
                endpoint=self.endpoint,
                reason="error",
            ) from exc
        except (InvalidResponseError, ServerError) as exc:
            raise StoreUnavailable(
                f"evidence store at {self.endpoint} did not answer like an S3 store: {exc}",
                endpoint=self.endpoint,
                reason="error",
            ) from exc

    def _ensure_ready(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            self._make_bucket()
        self._versioned = self.client.get_bucket_versioning(self.bucket).status in {"Enabled", "Suspended"}
        self.supports_locking = self.retention_days > 0 and self._versioned and self._bucket_has_lock()
        if self.retention_days > 0 and not self.supports_locking:
            log.warning(
                "evidence bucket %r at %s has no object lock: confirmed evidence will not be "
                "write-protected by the store",
                self.bucket,
                self.endpoint,
            )

    def _make_bucket(self) -> None:
        if self.retention_days > 0:
            try:
                self.client.make_bucket(self.bucket, object_lock=True)
                log.info("created evidence bucket %r with object lock", self.bucket)
                return
            except S3Error as exc:
                if exc.code not in LOCK_UNSUPPORTED_CODES:
                    raise
                log.warning("store at %s cannot create object-lock buckets (%s)", self.endpoint, exc.code)
        self.client.make_bucket(self.bucket)
        log.info("created evidence bucket %r", self.bucket)

    def _bucket_has_lock(self) -> bool:
        try:
            self.client.get_object_lock_config(self.bucket)
        except S3Error as exc:
            if exc.code in LOCK_UNSUPPORTED_CODES:
                return False
            raise
        return True

    # -- uploads ----------------------------------------------------------------------------------

    async def presign_put(
        self, key: str, content_type: str, expires: int = 300, size_limit: int | None = None
    ) -> PresignedUpload:
        validate_staging_key(key)
        url = await self._run(
            self.client.get_presigned_url, "PUT", self.bucket, key, expires=timedelta(seconds=expires)
        )
        return PresignedUpload(url, "PUT", _in(expires), {"Content-Type": content_type})

    async def start_multipart(
        self, key: str, content_type: str, part_count: int, expires: int = 900
    ) -> MultipartUpload:
        validate_staging_key(key)
        if not 1 <= part_count <= MAX_PARTS:
            raise ValueError(f"part_count must be between 1 and {MAX_PARTS}")
        upload_id = await self._run(
            self.client._create_multipart_upload, self.bucket, key, {"Content-Type": content_type}
        )

        def presign_parts() -> list[str]:
            return [
                self.client.get_presigned_url(
                    "PUT",
                    self.bucket,
                    key,
                    expires=timedelta(seconds=expires),
                    extra_query_params={"partNumber": str(n), "uploadId": upload_id},
                )
                for n in range(1, part_count + 1)
            ]

        return MultipartUpload(upload_id, await self._run(presign_parts), _in(expires))

    async def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> ObjectInfo:
        validate_key(key)
        sdk_parts = [Part(number, etag.strip('"')) for number, etag in parts]
        try:
            await self._run(self.client._complete_multipart_upload, self.bucket, key, upload_id, sdk_parts)
        except S3Error as exc:
            if exc.code in {"InvalidPart", "InvalidPartOrder", "NoSuchUpload", "EntityTooSmall"}:
                raise InvalidUpload(f"{exc.code}: {exc.message}") from exc
            raise
        info = await self.stat(key)
        if info is None:
            raise ObjectMissing(key)
        return info

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        validate_key(key)
        try:
            await self._run(self.client._abort_multipart_upload, self.bucket, key, upload_id)
        except S3Error as exc:
            if exc.code != "NoSuchUpload":
                raise

    async def abort_stale_multipart(self, older_than: timedelta) -> int:
        cutoff = datetime.now(UTC) - older_than

        def sweep() -> int:
            aborted = 0
            key_marker: str | None = None
            upload_id_marker: str | None = None
            while True:
                # Paged by the last upload seen: the SDK drops NextUploadIdMarker when parsing.
                page = self.client._list_multipart_uploads(
                    self.bucket, key_marker=key_marker, upload_id_marker=upload_id_marker
                )
                for upload in page.uploads:
                    if upload.upload_id and upload.initiated_time and upload.initiated_time < cutoff:
                        self.client._abort_multipart_upload(self.bucket, upload.object_name, upload.upload_id)
                        aborted += 1
                if not page.is_truncated or not page.uploads:
                    return aborted
                key_marker = page.next_key_marker or page.uploads[-1].object_name
                upload_id_marker = page.uploads[-1].upload_id

        return await self._run(sweep)

    async def put(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        validate_key(key)
        await self._run(
            self.client.put_object, self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
        )
        info = await self.stat(key)
        if info is None:
            raise ObjectMissing(key)
        return info

    async def promote(self, staging_key: str, final_key: str, content_type: str) -> ObjectInfo | None:
        validate_staging_key(staging_key)
        validate_key(final_key)
        existing = await self.stat(final_key)
        if existing is None:
            staged = await self.stat(staging_key)
            if staged is None:
                return None
            # Copy the very version just seen, so a PUT racing with the copy cannot slip in (S3 copies
            # larger than 5 GiB are done part by part by the SDK, from the same pinned version).
            source = CopySource(self.bucket, staging_key, version_id=staged.version_id)
            metadata = {"Content-Type": content_type}
            try:
                result = await self._run(
                    self.client.copy_object,
                    self.bucket,
                    final_key,
                    source,
                    metadata=metadata,
                    metadata_directive=REPLACE,
                )
            except S3Error as exc:
                if exc.code in MISSING_CODES:
                    return None
                raise
            existing = await self.stat(final_key, result.version_id)
            if existing is None:
                raise ObjectMissing(final_key)
        try:
            await self.delete(staging_key)
        except ObjectLocked:
            # A bucket default retention locks staging objects too; they are never served anyway.
            log.warning("staged upload %r is under retention and stays until it expires", staging_key)
        return existing

    # -- reading ----------------------------------------------------------------------------------

    async def stat(self, key: str, version_id: str | None = None) -> ObjectInfo | None:
        validate_key(key)
        try:
            st = await self._run(self.client.stat_object, self.bucket, key, version_id=version_id)
        except S3Error as exc:
            if exc.code in MISSING_CODES or (version_id and exc.code == "InvalidArgument"):
                return None
            raise
        return ObjectInfo(
            key, st.size or 0, st.etag or "", st.last_modified or datetime.now(UTC), st.version_id or None
        )

    async def head_bytes(self, key: str, n: int = 4096, version_id: str | None = None) -> bytes:
        validate_key(key)

        def read() -> bytes:
            try:
                response = self.client.get_object(self.bucket, key, offset=0, length=n, version_id=version_id)
            except S3Error as exc:
                if exc.code == "InvalidRange":
                    return b""
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await self._missing_as_error(key, read)

    async def sha256(self, key: str, version_id: str | None = None) -> str:
        validate_key(key)

        def digest() -> str:
            h = hashlib.sha256()
            response = self.client.get_object(self.bucket, key, version_id=version_id)
            try:
                for chunk in response.stream(_CHUNK):
                    h.update(chunk)
            finally:
                response.close()
                response.release_conn()
            return h.hexdigest()

        return await self._missing_as_error(key, digest)

    async def _missing_as_error(self, key: str, fn: Callable[[], T]) -> T:
        try:
            return await self._run(fn)
        except S3Error as exc:
            if exc.code in MISSING_CODES:
                raise ObjectMissing(key) from exc
            raise

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
        validate_key(key)
        return await self._run(
            self.client.get_presigned_url,
            "GET",
            self.bucket,
            key,
            expires=timedelta(seconds=expires),
            response_headers={
                "response-content-disposition": content_disposition(filename),
                "response-content-type": content_type,
                "response-cache-control": "private, no-store",
            },
            version_id=version_id,
        )

    async def versions(self, key: str) -> list[ObjectInfo]:
        validate_key(key)
        if not self._versioned:
            return []

        def listing() -> list[ObjectInfo]:
            found = [
                ObjectInfo(key, o.size or 0, o.etag or "", o.last_modified or datetime.now(UTC), o.version_id)
                for o in self.client.list_objects(self.bucket, prefix=key, include_version=True)
                if o.object_name == key and not o.is_delete_marker and o.version_id
            ]
            return sorted(found, key=lambda o: o.last_modified, reverse=True)

        return await self._run(listing)

    async def list_keys(self, prefix: str = "") -> list[ObjectInfo]:
        def listing() -> list[ObjectInfo]:
            return [
                ObjectInfo(
                    o.object_name or "", o.size or 0, o.etag or "", o.last_modified or datetime.now(UTC)
                )
                for o in self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
                if not o.is_dir
            ]

        return await self._run(listing)

    # -- immutability and removal -----------------------------------------------------------------

    async def lock(self, key: str, days: int, version_id: str | None = None) -> bool:
        validate_key(key)
        if days <= 0 or not self.supports_locking:
            log.info("evidence %r not write-protected: the store has no object lock", key)
            return False
        until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
        try:
            await self._run(
                self.client.set_object_retention,
                self.bucket,
                key,
                Retention(self.lock_mode, until),
                version_id=version_id,
            )
        except S3Error as exc:
            if exc.code in MISSING_CODES:
                raise ObjectMissing(key) from exc
            if exc.code in LOCK_UNSUPPORTED_CODES:
                log.warning("could not set retention on %r: %s", key, exc.code)
                return False
            raise
        return True

    async def delete(self, key: str, version_id: str | None = None) -> None:
        validate_key(key)

        def remove() -> None:
            if version_id is not None:
                self.client.remove_object(self.bucket, key, version_id=version_id)
                return
            if not self._versioned:
                self.client.remove_object(self.bucket, key)
                return
            versions = [
                o.version_id
                for o in self.client.list_objects(self.bucket, prefix=key, include_version=True)
                if o.object_name == key
            ]
            for version in versions:
                self.client.remove_object(self.bucket, key, version_id=version)

        try:
            await self._run(remove)
        except S3Error as exc:
            if exc.code == "AccessDenied":
                raise ObjectLocked(
                    f"evidence {key!r} is under retention (or deletion is not allowed)"
                ) from exc
            raise

    # -- backup and restore -----------------------------------------------------------------------

    async def download(self, key: str, dest: Path, version_id: str | None = None) -> None:
        validate_key(key)
        await self._missing_as_error(
            key, lambda: self.client.fget_object(self.bucket, key, str(dest), version_id=version_id)
        )

    async def upload(self, key: str, src: Path, content_type: str) -> ObjectInfo:
        validate_key(key)
        try:
            await self._run(self.client.fput_object, self.bucket, key, str(src), content_type=content_type)
        except S3Error as exc:
            if exc.code == "AccessDenied":
                raise ObjectLocked(f"evidence {key!r} is under retention") from exc
            raise
        info = await self.stat(key)
        if info is None:
            raise ObjectMissing(key)
        return info

    async def retained_until(self, key: str) -> datetime | None:
        validate_key(key)
        if not self.supports_locking:
            return None
        # From the object's headers (HEAD), which every S3 store sends for a retained object;
        # GET ?retention is missing from some S3 look-alikes.
        try:
            st = await self._run(self.client.stat_object, self.bucket, key)
        except S3Error as exc:
            if exc.code in MISSING_CODES:
                return None
            raise
        raw = (st.metadata or {}).get("x-amz-object-lock-retain-until-date")
        if not raw:
            return None
        until = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return until if until > datetime.now(UTC) else None


def _in(seconds: int) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
