"""Evidence in a local directory, for the embedded mode.

Presigned URLs become signed, expiring links to the app itself (``/evidence-local/{token}``, see
:meth:`LocalEvidenceStore.routes`). Layout under ``settings.evidence_dir``::

    staging/<id>/<name>     what a client uploaded through a link, before confirmation
    cases/...               confirmed evidence, one read-only file per key; no link writes here
    .tmp/                   uploads in flight (renamed into place when complete)
    .sealed/<id>/           a staging slot being promoted
    .uploads/<upload id>/   multipart parts, plus ``key`` naming the target
    .retention/<sha256>     retain-until time (unix seconds) of a locked object

Keys never start with a dot (:func:`~zongzhi.storage.keys.validate_key`), so objects and the dot
directories cannot collide. A locked file is also made read-only.

Why a slot directory per staging key: an upload link streams into ``.tmp`` and, at its very end,
renames the file into ``staging/<id>/``, which it never creates. :meth:`promote` first renames the
whole slot to ``.sealed/`` (one atomic rename), so an upload still streaming when the evidence is
confirmed finds no slot and gets 409, and an upload that finished before lands in the sealed slot
and is what gets checked. The checked file is moved to its ``cases/`` key, and downloads hash it
again before serving it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import re
import shutil
import stat as stat_mode
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from .base import (
    EvidenceStore,
    InvalidUpload,
    MultipartUpload,
    ObjectInfo,
    ObjectLocked,
    ObjectMissing,
    PresignedUpload,
    StoreUnavailable,
)
from .keys import is_staging_key, validate_key, validate_staging_key
from .links import LinkError, LinkSigner

log = logging.getLogger(__name__)

ROUTE_PREFIX = "/evidence-local"
_CHUNK = 1024 * 1024
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class _TooLarge(Exception):
    pass


class LocalEvidenceStore(EvidenceStore):
    def __init__(self, root: Path, *, secret_key: str, public_url: str, max_bytes: int) -> None:
        self.root = Path(root).resolve()
        self.public_url = public_url.rstrip("/")
        self.max_bytes = max_bytes
        self._signer = LinkSigner(secret_key)
        self.supports_locking = True

    @classmethod
    def from_settings(cls, settings: Any) -> LocalEvidenceStore:
        return cls(
            settings.evidence_dir,
            secret_key=settings.secret_key,
            public_url=settings.public_url,
            max_bytes=settings.evidence_max_bytes,
        )

    # -- paths ------------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        """The file for ``key``; refuses anything that would resolve outside the root."""
        validate_key(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"evidence key {key!r} escapes the store")
        return path

    def _retention_path(self, key: str) -> Path:
        return self.root / ".retention" / hashlib.sha256(key.encode()).hexdigest()

    def _upload_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.match(upload_id):
            raise InvalidUpload(f"unknown upload {upload_id!r}")
        return self.root / ".uploads" / upload_id

    def _url(self, claims: dict[str, Any]) -> str:
        return f"{self.public_url}{ROUTE_PREFIX}/{self._signer.sign(claims)}"

    def _retained_until(self, key: str) -> float:
        try:
            return float(self._retention_path(key).read_text())
        except (FileNotFoundError, ValueError):
            return 0.0

    def _check_not_locked(self, key: str) -> None:
        if self._retained_until(key) > time.time():
            raise ObjectLocked(f"evidence {key!r} is under retention")

    # -- EvidenceStore ----------------------------------------------------------------------------

    async def ensure_ready(self) -> None:
        await asyncio.to_thread(self._ensure_ready)

    def _ensure_ready(self) -> None:
        try:
            for sub in (".tmp", ".uploads", ".retention", ".sealed", "staging"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            probe = self.root / ".tmp" / f"probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StoreUnavailable(
                f"evidence directory {self.root} is not usable: {exc}",
                endpoint=str(self.root),
                reason="error",
            ) from exc

    async def presign_put(
        self, key: str, content_type: str, expires: int = 300, size_limit: int | None = None
    ) -> PresignedUpload:
        validate_staging_key(key)
        slot = self._path(key).parent
        await asyncio.to_thread(slot.mkdir, parents=True, exist_ok=True)
        expires_at = _expiry(expires)
        limit = min(size_limit or self.max_bytes, self.max_bytes)
        url = self._url({"k": key, "m": "PUT", "e": expires_at, "n": limit})
        return PresignedUpload(url, "PUT", _at(expires_at), {"Content-Type": content_type})

    async def start_multipart(
        self, key: str, content_type: str, part_count: int, expires: int = 900
    ) -> MultipartUpload:
        validate_staging_key(key)
        self._path(key)
        if not 1 <= part_count <= 10_000:
            raise ValueError("part_count must be between 1 and 10000")
        upload_id = uuid.uuid4().hex
        updir = self._upload_dir(upload_id)
        await asyncio.to_thread(_write_new, updir, key)
        expires_at = _expiry(expires)
        urls = [
            self._url({"k": key, "m": "PUT", "e": expires_at, "n": self.max_bytes, "u": upload_id, "p": n})
            for n in range(1, part_count + 1)
        ]
        return MultipartUpload(upload_id, urls, _at(expires_at))

    async def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> ObjectInfo:
        target = self._path(key)
        updir = self._upload_dir(upload_id)
        return await asyncio.to_thread(self._complete, key, target, updir, parts)

    def _complete(self, key: str, target: Path, updir: Path, parts: list[tuple[int, str]]) -> ObjectInfo:
        try:
            owner = (updir / "key").read_text()
        except FileNotFoundError as exc:
            raise InvalidUpload(f"unknown upload {updir.name!r}") from exc
        if owner != key:
            raise InvalidUpload("upload belongs to another key")
        numbers = [n for n, _ in parts]
        if not parts or numbers != sorted(set(numbers)):
            raise InvalidUpload("parts must be listed once each, in ascending order")
        self._check_not_locked(key)
        tmp = self.root / ".tmp" / uuid.uuid4().hex
        total = 0
        try:
            with tmp.open("wb") as out:
                for number, etag in parts:
                    part = updir / str(number)
                    if not part.is_file():
                        raise InvalidUpload(f"part {number} was not uploaded")
                    digest = hashlib.md5(usedforsecurity=False)
                    with part.open("rb") as src:
                        for chunk in iter(lambda src=src: src.read(_CHUNK), b""):
                            digest.update(chunk)
                            out.write(chunk)
                            total += len(chunk)
                    if digest.hexdigest() != etag.strip('"'):
                        raise InvalidUpload(f"part {number} does not match its etag")
                    if total > self.max_bytes:
                        raise InvalidUpload("upload is larger than the evidence size limit")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        shutil.rmtree(updir, ignore_errors=True)
        return _info(key, target)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        updir = self._upload_dir(upload_id)
        await asyncio.to_thread(shutil.rmtree, updir, True)

    async def abort_stale_multipart(self, older_than: timedelta) -> int:
        cutoff = time.time() - older_than.total_seconds()

        def sweep() -> int:
            aborted = 0
            for updir in (self.root / ".uploads").iterdir():
                if updir.stat().st_mtime < cutoff:
                    shutil.rmtree(updir, ignore_errors=True)
                    aborted += 1
            for tmp in (self.root / ".tmp").iterdir():
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink(missing_ok=True)
            for sealed in (self.root / ".sealed").iterdir():
                if sealed.stat().st_mtime < cutoff:
                    shutil.rmtree(sealed, ignore_errors=True)
            for slot in (self.root / "staging").iterdir():
                # Slots nothing was ever uploaded to (files in slots are swept with their rows).
                if slot.is_dir() and slot.stat().st_mtime < cutoff and not any(slot.iterdir()):
                    slot.rmdir()
            return aborted

        return await asyncio.to_thread(sweep)

    async def put(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        target = self._path(key)
        return await asyncio.to_thread(self._put, key, target, data)

    def _put(self, key: str, target: Path, data: bytes) -> ObjectInfo:
        self._check_not_locked(key)
        tmp = self.root / ".tmp" / uuid.uuid4().hex
        try:
            tmp.write_bytes(data)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return _info(key, target)

    async def promote(self, staging_key: str, final_key: str, content_type: str) -> ObjectInfo | None:
        validate_staging_key(staging_key)
        staged = self._path(staging_key)
        final = self._path(final_key)
        return await asyncio.to_thread(self._promote, final_key, staged, final)

    def _promote(self, final_key: str, staged: Path, final: Path) -> ObjectInfo | None:
        slot = staged.parent
        if final.is_file():
            shutil.rmtree(slot, ignore_errors=True)
            return _info(final_key, final)
        if not staged.is_file():
            return None
        sealed = self.root / ".sealed" / uuid.uuid4().hex
        try:
            os.rename(slot, sealed)
        except FileNotFoundError:
            # Another confirmation sealed it first: it is moving (or moved) the file into place.
            return _info(final_key, final) if final.is_file() else None
        try:
            sealed_file = sealed / staged.name
            if not sealed_file.is_file():
                return None
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(sealed_file, final)
            final.chmod(stat_mode.S_IRUSR | stat_mode.S_IRGRP | stat_mode.S_IROTH)
        finally:
            shutil.rmtree(sealed, ignore_errors=True)
        return _info(final_key, final)

    async def stat(self, key: str, version_id: str | None = None) -> ObjectInfo | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(_info, key, path)
        except FileNotFoundError:
            return None

    async def head_bytes(self, key: str, n: int = 4096, version_id: str | None = None) -> bytes:
        path = self._path(key)

        def read() -> bytes:
            with path.open("rb") as f:
                return f.read(n)

        try:
            return await asyncio.to_thread(read)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    async def sha256(self, key: str, version_id: str | None = None) -> str:
        path = self._path(key)
        try:
            return await asyncio.to_thread(_file_sha256, path)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    async def lock(self, key: str, days: int, version_id: str | None = None) -> bool:
        path = self._path(key)
        if days <= 0:
            return False

        def apply() -> None:
            if not path.is_file():
                raise ObjectMissing(key)
            until = max(self._retained_until(key), time.time() + days * 86400)
            _write_new(self._retention_path(key).parent, None)
            self._retention_path(key).write_text(str(int(until)))
            path.chmod(stat_mode.S_IRUSR | stat_mode.S_IRGRP | stat_mode.S_IROTH)

        await asyncio.to_thread(apply)
        return True

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
        self._path(key)
        claims = {"k": key, "m": "GET", "e": _expiry(expires), "f": filename, "t": content_type}
        if sha256:
            claims["h"] = sha256
        return self._url(claims)

    async def delete(self, key: str, version_id: str | None = None) -> None:
        path = self._path(key)

        def remove() -> None:
            self._check_not_locked(key)
            path.unlink(missing_ok=True)
            self._retention_path(key).unlink(missing_ok=True)
            parent = path.parent
            while parent != self.root:
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent

        await asyncio.to_thread(remove)

    async def list_keys(self, prefix: str = "") -> list[ObjectInfo]:
        return await asyncio.to_thread(lambda: sorted(self._walk(prefix), key=lambda o: o.key))

    def _walk(self, prefix: str) -> Iterator[ObjectInfo]:
        start = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        start = start.resolve()
        if not start.is_relative_to(self.root) or not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix) and not name.startswith("."):
                    yield _info(key, path)

    # -- backup and restore -----------------------------------------------------------------------

    async def download(self, key: str, dest: Path, version_id: str | None = None) -> None:
        path = self._path(key)  # one version per key here
        try:
            await asyncio.to_thread(shutil.copyfile, path, dest)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    async def upload(self, key: str, src: Path, content_type: str) -> ObjectInfo:
        target = self._path(key)

        def copy_in() -> ObjectInfo:
            self._check_not_locked(key)
            tmp = self.root / ".tmp" / uuid.uuid4().hex
            try:
                shutil.copyfile(src, tmp)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            return _info(key, target)

        return await asyncio.to_thread(copy_in)

    async def retained_until(self, key: str) -> datetime | None:
        self._path(key)
        until = await asyncio.to_thread(self._retained_until, key)
        return datetime.fromtimestamp(until, UTC) if until > time.time() else None

    # -- HTTP side of the signed links --------------------------------------------------------------

    def routes(self) -> list[Route]:
        """``PUT``/``GET /evidence-local/{token}``: mount these in the app's Starlette routes."""
        return [
            Route(ROUTE_PREFIX + "/{token}", self._serve_put, methods=["PUT"]),
            Route(ROUTE_PREFIX + "/{token}", self._serve_get, methods=["GET", "HEAD"]),
        ]

    def _claims(self, request: Request, method: str) -> tuple[dict[str, Any], Path]:
        claims = self._signer.verify(request.path_params["token"], method)
        key = claims.get("k")
        if not isinstance(key, str):
            raise LinkError("malformed link")
        try:
            return claims, self._path(key)
        except ValueError as exc:
            raise LinkError("link names an invalid key") from exc

    async def _serve_get(self, request: Request) -> Response:
        try:
            claims, path = self._claims(request, "GET")
        except LinkError as exc:
            return PlainTextResponse(str(exc), status_code=403)
        if is_staging_key(claims["k"]):
            return PlainTextResponse("uploads in flight are not served", status_code=403)
        if not await asyncio.to_thread(path.is_file):
            return PlainTextResponse("no such evidence", status_code=404)
        expected = claims.get("h")
        if expected is not None and await asyncio.to_thread(_file_sha256, path) != expected:
            log.error("evidence %s does not match its recorded sha256: not served", claims["k"])
            return PlainTextResponse("evidence failed its integrity check", status_code=500)
        filename = str(claims.get("f") or path.name)
        media_type = str(claims.get("t") or "application/octet-stream")
        return FileResponse(
            path,
            media_type=media_type,
            filename=filename,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
        )

    async def _serve_put(self, request: Request) -> Response:
        try:
            claims, target = self._claims(request, "PUT")
        except LinkError as exc:
            return PlainTextResponse(str(exc), status_code=403)
        limit = min(int(claims.get("n") or self.max_bytes), self.max_bytes)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return PlainTextResponse(f"upload exceeds the limit of {limit} bytes", status_code=413)
        key = claims["k"]
        if not is_staging_key(key):
            return PlainTextResponse("upload links may only name staging keys", status_code=403)
        upload_id = claims.get("u")
        if upload_id is not None:
            try:
                updir = self._upload_dir(str(upload_id))
            except InvalidUpload:
                return PlainTextResponse("unknown upload", status_code=404)
            if not await asyncio.to_thread((updir / "key").is_file):
                return PlainTextResponse("unknown upload", status_code=404)
            part = claims.get("p")
            if not isinstance(part, int) or not 1 <= part <= 10_000:
                return PlainTextResponse("malformed link", status_code=403)
            target = updir / str(part)
        elif not await asyncio.to_thread(target.parent.is_dir):
            return _closed()
        try:
            etag = await self._receive(request.stream(), target, limit)
        except _TooLarge:
            return PlainTextResponse(f"upload exceeds the limit of {limit} bytes", status_code=413)
        except FileNotFoundError:
            return _closed()
        return Response(status_code=200, headers={"ETag": f'"{etag}"'})

    async def _receive(self, body: AsyncIterator[bytes], target: Path, limit: int) -> str:
        """Stream the body to a temp file, then move it into place; returns the md5 hex (ETag).

        The target's directory (a staging slot, or a multipart upload's) is never created here, so the
        final rename fails with ``FileNotFoundError`` when it was sealed or removed while the body
        streamed: the upload is refused rather than landing anywhere.
        """
        tmp = self.root / ".tmp" / uuid.uuid4().hex
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        out: IO[bytes] = await asyncio.to_thread(tmp.open, "wb")
        try:
            async for chunk in body:
                size += len(chunk)
                if size > limit:
                    raise _TooLarge
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(out.close)
            await asyncio.to_thread(os.replace, tmp, target)
        finally:
            out.close()
            await asyncio.to_thread(tmp.unlink, True)
        return digest.hexdigest()


def _closed() -> Response:
    return PlainTextResponse(
        "this upload is closed: it was confirmed or discarded; request a new upload", status_code=409
    )


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_new(directory: Path, key: str | None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if key is not None:
        (directory / "key").write_text(key)


def _info(key: str, path: Path) -> ObjectInfo:
    st = path.stat()
    return ObjectInfo(
        key=key,
        size=st.st_size,
        etag=f"{st.st_size:x}-{st.st_mtime_ns:x}",
        last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
    )


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def _expiry(seconds: int) -> int:
    """The whole second a link made now for ``seconds`` expires at.

    Rounded up: rounding down would give a one-second link as little as a
    millisecond of life.
    """
    return math.ceil(time.time() + seconds)
