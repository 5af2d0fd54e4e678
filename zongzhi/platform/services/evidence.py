"""Evidence on cases: presigned uploads, confirmation, immutable storage, audited downloads.

The bytes never pass through the API for ordinary uploads: ``request_upload`` writes a *pending*
Evidence row and hands out a presigned PUT (or one URL per part for large files) to a *staging* key;
the client uploads straight to the store and calls ``confirm_upload`` (``complete_upload`` for
multipart). Confirmation first claims the row (pending -> confirming, so two confirmations never run
at once), then has the store move the staged object to the final key, which no link names, and reads
*that* object back — size, the real type from its first bytes, its sha256. Only when all three match
the declaration does it lock that version where the store supports retention, mark the row *stored*
with the version, and record ``evidence.added`` in the same transaction. A mismatch removes the
object and the row, so nothing half-recorded is left; a store failure puts the row back to pending
(the client may retry, or the orphan sweeper removes it later).

What was confirmed is what is served: a client that PUTs again to a link it still holds only writes
a staging object nobody reads (the local store even refuses it), downloads name the recorded version
and carry the recorded type, and the local store hashes the file again before serving it.

Small files sent through the API, and partner files pushed by plugins, go through
``add_evidence_bytes``, which puts the bytes and then runs the same confirmation.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q, Subquery

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from zongzhi.platform.base.observability import metrics
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope, scoped_cases
from zongzhi.platform.models import Case, Evidence, EvidenceAccess
from zongzhi.platform.services.case_access import get_case
from zongzhi.platform.services.outbox import change, record_event
from zongzhi.storage import (
    EvidenceStore,
    InvalidUpload,
    ObjectMissing,
    StoreUnavailable,
    check_declared,
    evidence_key,
    is_allowed,
    part_size_for,
    staging_key,
)
from zongzhi.storage.base import MAX_PARTS, MIN_PART_BYTES
from zongzhi.storage.sniff import normalise

log = logging.getLogger(__name__)

#: Roles that work on cases and so may add evidence (jurisdiction decides which cases).
EVIDENCE_ROLES = (Role.staff, Role.leader, Role.mediator, Role.grid_worker, Role.department)
#: Roles that may withdraw evidence someone else added.
WITHDRAW_ROLES = (Role.staff, Role.leader)

MULTIPART_THRESHOLD = 64 * 1024 * 1024
"""Declared sizes above this get a multipart upload even when the client did not ask for one."""
INLINE_MAX_BYTES = 20 * 1024 * 1024
"""Largest file accepted through the API itself (GraphQL multipart, partner pushes)."""
UPLOAD_URL_SECONDS = 300
MULTIPART_URL_SECONDS = 1800
DOWNLOAD_URL_SECONDS = 120
HEAD_BYTES = 4096
#: Statuses of an upload that is not confirmed yet.
UNCONFIRMED = ("pending", "confirming")
CLAIM_TIMEOUT_SECONDS = 900
"""A confirmation still running after this long is taken to have died, and may be taken over."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StorageUnavailable(ServiceError):
    """The evidence store could not be reached or failed; nothing was recorded."""

    code = "STORAGE_UNAVAILABLE"


@dataclass(frozen=True)
class UploadTicket:
    """Where the client sends the bytes: one ``url``, or ``part_urls`` of ``part_size`` bytes each."""

    evidence: Evidence
    method: str
    expires_at: datetime
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    upload_id: str | None = None
    part_size: int | None = None
    part_urls: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: datetime
    filename: str


@asynccontextmanager
async def _store_call(what: str) -> AsyncIterator[None]:
    """Turn a store outage into the coded service error clients see."""
    try:
        yield
    except StoreUnavailable as exc:
        log.warning("evidence store failed while %s: %s", what, exc)
        raise StorageUnavailable(
            f"the evidence store is unavailable ({what}); nothing was recorded, please try again later"
        ) from exc


def _now() -> datetime:
    return datetime.now(UTC)


def _require_contributor(actor: Actor) -> None:
    if actor.system:
        return
    if actor.plugin or Role.partner in actor.roles:
        raise Forbidden("partner tokens add evidence only through their plugin")
    if not actor.has(*EVIDENCE_ROLES):
        raise Forbidden(
            "adding evidence needs one of the roles: " + ", ".join(r.value for r in EVIDENCE_ROLES)
        )


def _validate_declaration(
    settings: Settings, filename: str, content_type: str, size: int, sha256: str | None
) -> None:
    if not filename or not filename.strip():
        raise ValidationFailed("filename is required", field="filename")
    if len(filename) > 255:
        raise ValidationFailed("filename is longer than 255 characters", field="filename")
    if not is_allowed(content_type):
        raise ValidationFailed(
            f"type {content_type!r} is not on the allow-list of evidence types", field="contentType"
        )
    if size < 1:
        raise ValidationFailed("the file is empty", field="size")
    if size > settings.evidence_max_bytes:
        raise ValidationFailed(
            f"the file is {size} bytes; evidence may be at most {settings.evidence_max_bytes} bytes",
            field="size",
        )
    if sha256 is not None and not _SHA256.match(sha256):
        raise ValidationFailed("sha256 must be 64 hexadecimal characters", field="sha256")


def _plan_parts(size: int, parts: int | None) -> tuple[int, int] | None:
    """``(part count, part size)`` for a multipart upload, or ``None`` for a single PUT."""
    if parts is None:
        if size <= MULTIPART_THRESHOLD:
            return None
        part_size = part_size_for(size)
        return math.ceil(size / part_size), part_size
    if not 1 <= parts <= MAX_PARTS:
        raise ValidationFailed(f"parts is between 1 and {MAX_PARTS}", field="parts")
    part_size = math.ceil(size / parts)
    if parts > 1 and part_size < MIN_PART_BYTES:
        most = max(1, size // MIN_PART_BYTES)
        raise ValidationFailed(
            f"every part but the last must be at least {MIN_PART_BYTES} bytes: use at most {most} parts",
            field="parts",
        )
    return math.ceil(size / part_size), part_size


class EvidenceService:
    """The evidence operations, bound to the app's store and settings."""

    def __init__(self, store: EvidenceStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    # -- uploads ----------------------------------------------------------------------------------

    async def request_upload(
        self,
        actor: Actor,
        case_id: int,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
        parts: int | None = None,
    ) -> UploadTicket:
        """A pending Evidence row and the presigned URL(s) to upload its bytes to."""
        _require_contributor(actor)
        case = await get_case(actor, case_id)
        sha256 = sha256.strip().lower()
        _validate_declaration(self.settings, filename, content_type, size, sha256)
        plan = _plan_parts(size, parts)
        declared = normalise(content_type)
        staged = staging_key(filename)
        fields_ = dict(
            case_id=case.id,
            key=evidence_key(case.id, filename),
            staging_key=staged,
            filename=filename.strip(),
            content_type=declared,
            size=size,
            sha256=sha256,
            uploaded_by_id=actor.user_id,
            status="pending",
        )
        if plan is None:
            async with _store_call("issuing an upload link"):
                target = await self.store.presign_put(staged, declared, UPLOAD_URL_SECONDS, size_limit=size)
            evidence = await Evidence.create(**fields_)
            return UploadTicket(
                evidence, target.method, target.expires_at, url=target.url, headers=target.headers
            )
        count, part_size = plan
        async with _store_call("starting a multipart upload"):
            upload = await self.store.start_multipart(staged, declared, count, MULTIPART_URL_SECONDS)
        evidence = await Evidence.create(**fields_, multipart_upload_id=upload.upload_id)
        return UploadTicket(
            evidence,
            "PUT",
            upload.expires_at,
            headers={},
            upload_id=upload.upload_id,
            part_size=part_size,
            part_urls=upload.part_urls,
        )

    async def confirm_upload(self, actor: Actor, evidence_id: int) -> Evidence:
        """Check the uploaded bytes against the declaration and record the evidence."""
        evidence = await self._pending_for(actor, evidence_id)
        if evidence.status == "stored":
            return evidence
        if evidence.multipart_upload_id:
            raise ValidationFailed("this is a multipart upload: complete it with its parts", field="id")
        return await self._claim_and_store(actor, evidence)

    async def complete_upload(self, actor: Actor, evidence_id: int, parts: list[tuple[int, str]]) -> Evidence:
        """Assemble a multipart upload from its parts' ETags, then confirm it."""
        evidence = await self._pending_for(actor, evidence_id)
        if evidence.status == "stored":
            return evidence
        if not evidence.multipart_upload_id:
            raise ValidationFailed("this is a single-request upload: confirm it instead", field="id")
        if not parts:
            raise ValidationFailed("list the uploaded parts with their ETags", field="parts")
        ordered = sorted((int(n), etag.strip()) for n, etag in parts)
        evidence = await self._claim(evidence)
        if evidence.status == "stored":
            return evidence
        async with self._claimed(evidence), _store_call("assembling the upload"):
            staged = _staging_key_of(evidence)
            # A retry after a store outage may find the object already assembled or promoted.
            if await self.store.stat(staged) is None and await self.store.stat(evidence.key) is None:
                try:
                    await self.store.complete_multipart(staged, evidence.multipart_upload_id, ordered)
                except InvalidUpload as exc:
                    raise ValidationFailed(f"the parts cannot be assembled: {exc}", field="parts") from exc
            return await self._verify_and_store(actor, evidence)

    async def add_evidence_bytes(
        self, actor: Actor, case_id: int, filename: str, content_type: str, data: bytes
    ) -> Evidence:
        """Store a file the API received itself (GraphQL upload, partner plugin) and record it."""
        _require_contributor(actor)
        case = await get_case(actor, case_id)
        _validate_declaration(self.settings, filename, content_type, len(data), None)
        if len(data) > INLINE_MAX_BYTES:
            raise ValidationFailed(
                f"files over {INLINE_MAX_BYTES} bytes must be uploaded with requestEvidenceUpload",
                field="size",
            )
        reason = check_declared(content_type, data[:HEAD_BYTES])
        if reason is not None:
            raise ValidationFailed(reason, field="contentType")
        declared = normalise(content_type)
        evidence = await Evidence.create(
            case_id=case.id,
            key=evidence_key(case.id, filename),
            staging_key=staging_key(filename),
            filename=filename.strip(),
            content_type=declared,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by_id=actor.user_id,
            status="pending",
        )
        try:
            async with _store_call("storing the file"):
                await self.store.put(_staging_key_of(evidence), data, declared)
        except StorageUnavailable:
            await evidence.delete()
            raise
        return await self._claim_and_store(actor, evidence)

    async def _pending_for(self, actor: Actor, evidence_id: int) -> Evidence:
        """The uploader's own evidence row, locked against a concurrent confirmation."""
        _require_contributor(actor)
        evidence = await _in_scope(actor).get_or_none(id=evidence_id)
        if evidence is None:
            raise NotFound(f"no evidence {evidence_id} in your jurisdiction", field="id")
        if evidence.status == "withdrawn":
            raise Conflict("this evidence was withdrawn", field="id")
        if evidence.status in UNCONFIRMED and not actor.system and evidence.uploaded_by_id != actor.user_id:
            raise Forbidden("only the person who started an upload can confirm it", field="id")
        return evidence

    async def _claim(self, evidence: Evidence) -> Evidence:
        """Take the row from pending to confirming, so one confirmation at a time checks the file.

        Returns the row; already stored when another confirmation finished first (a client retry). A
        claim older than ``CLAIM_TIMEOUT_SECONDS`` (its process died) is taken over.
        """
        now = _now()
        stale = now - timedelta(seconds=CLAIM_TIMEOUT_SECONDS)
        won = await Evidence.filter(
            Q(status="pending") | Q(status="confirming", claimed_at__lt=stale), id=evidence.id
        ).update(status="confirming", claimed_at=now)
        current = await _reloaded(evidence.id)
        if won or current.status == "stored":
            return current
        if current.status == "confirming":
            raise Conflict("this upload is being confirmed right now; ask again in a moment", field="id")
        raise Conflict(f"this evidence is {current.status}", field="id")

    @asynccontextmanager
    async def _claimed(self, evidence: Evidence) -> AsyncIterator[None]:
        """Give the claim back (confirming -> pending) when the confirmation fails on the way."""
        try:
            yield
        except BaseException:
            await Evidence.filter(id=evidence.id, status="confirming").update(status="pending")
            raise

    async def _claim_and_store(self, actor: Actor, evidence: Evidence) -> Evidence:
        evidence = await self._claim(evidence)
        if evidence.status == "stored":
            return evidence
        async with self._claimed(evidence):
            return await self._verify_and_store(actor, evidence)

    async def _verify_and_store(self, actor: Actor, evidence: Evidence) -> Evidence:
        """Move the staged upload to its final key and check *that* object against the declaration."""
        async with _store_call("checking the uploaded file"):
            info = await self.store.promote(_staging_key_of(evidence), evidence.key, evidence.content_type)
            if info is None:
                raise Conflict("the file has not been uploaded yet", field="id")
            version = info.version_id
            if info.size != evidence.size:
                message = f"the uploaded file is {info.size} bytes, not the declared {evidence.size}"
                await self._refuse(evidence, version, "size", message)
            try:
                head = await self.store.head_bytes(evidence.key, HEAD_BYTES, version)
                reason = check_declared(evidence.content_type, head)
                if reason is not None:
                    await self._refuse(evidence, version, "contentType", reason)
                digest = await self.store.sha256(evidence.key, version)
            except ObjectMissing as exc:
                raise Conflict("the file has not been uploaded yet", field="id") from exc
            if digest != evidence.sha256:
                message = f"the uploaded file's sha256 is {digest}, not the declared one"
                await self._refuse(evidence, version, "sha256", message)
            locked = await self.store.lock(evidence.key, self.settings.evidence_retention_days, version)
        return await self._record(actor, evidence, version, locked)

    async def _refuse(self, evidence: Evidence, version: str | None, field_: str, message: str) -> None:
        """Remove the mismatching object and its row; the client must start over."""
        await self.store.delete(evidence.key, version)
        if evidence.multipart_upload_id:
            await self.store.abort_multipart(_staging_key_of(evidence), evidence.multipart_upload_id)
        await Evidence.filter(id=evidence.id, status__in=UNCONFIRMED).delete()
        raise ValidationFailed(f"{message}; the upload was discarded", field=field_)

    async def _record(self, actor: Actor, evidence: Evidence, version: str | None, locked: bool) -> Evidence:
        async with change():
            # Conditional on the claim, so only the confirmation holding it records the event.
            won = await Evidence.filter(id=evidence.id, status="confirming").update(
                status="stored", stored_at=_now(), version_id=version
            )
            if won:
                case = await Case.get(id=evidence.case_id)
                await record_event(
                    case,
                    "evidence.added",
                    actor,
                    {
                        "evidence_id": evidence.id,
                        "filename": evidence.filename,
                        "content_type": evidence.content_type,
                        "size": evidence.size,
                        "sha256": evidence.sha256,
                        "locked": locked,
                    },
                )
        if won:
            metrics.EVIDENCE_UPLOADS.inc()
            metrics.EVIDENCE_BYTES.inc(evidence.size)
        return await _reloaded(evidence.id)

    # -- after storage ----------------------------------------------------------------------------

    async def withdraw(self, actor: Actor, evidence_id: int, reason: str) -> Evidence:
        """Hide stored evidence from the case view; the object itself is kept (and stays locked)."""
        _require_contributor(actor)
        if not reason or not reason.strip():
            raise ValidationFailed("give a reason for withdrawing evidence", field="reason")
        evidence = await _in_scope(actor).get_or_none(id=evidence_id, status="stored")
        if evidence is None:
            raise NotFound(f"no stored evidence {evidence_id} in your jurisdiction", field="id")
        case = await Case.get(id=evidence.case_id)
        own = evidence.uploaded_by_id is not None and evidence.uploaded_by_id == actor.user_id
        staff = actor.has(*WITHDRAW_ROLES) and center_in_scope(actor, case.center_path)
        if not (own or actor.system or staff):
            raise Forbidden("evidence is withdrawn by its uploader or the case's center staff")
        async with change():
            won = await Evidence.filter(id=evidence.id, status="stored").update(status="withdrawn")
            if won:
                await record_event(
                    case,
                    "evidence.withdrawn",
                    actor,
                    {"evidence_id": evidence.id, "filename": evidence.filename, "reason": reason.strip()},
                )
        return await _reloaded(evidence.id)

    async def download_link(self, actor: Actor, evidence_id: int) -> DownloadLink:
        """A short-lived download URL for stored evidence on a case the actor may see; audited."""
        if not actor.system and (actor.plugin or Role.partner in actor.roles):
            raise Forbidden("partner tokens cannot download evidence")
        evidence = await _in_scope(actor).get_or_none(id=evidence_id, status="stored")
        if evidence is None:
            raise NotFound(f"no stored evidence {evidence_id} in your jurisdiction", field="id")
        async with _store_call("issuing a download link"):
            if evidence.version_id is None:
                evidence = await self._pin_version(evidence)
            info = await self.store.stat(evidence.key, evidence.version_id)
            if info is None or info.size != evidence.size:
                log.error("evidence %s (%s) is missing or changed in the store", evidence.id, evidence.key)
                raise Conflict("this evidence cannot be served: it failed its integrity check", field="id")
            url = await self.store.presign_get(
                evidence.key,
                evidence.filename,
                DOWNLOAD_URL_SECONDS,
                content_type=evidence.content_type,
                version_id=evidence.version_id,
                sha256=evidence.sha256,
            )
        await EvidenceAccess.create(evidence_id=evidence.id, user_id=actor.user_id)
        return DownloadLink(url, _now() + timedelta(seconds=DOWNLOAD_URL_SECONDS), evidence.filename)

    async def _pin_version(self, evidence: Evidence) -> Evidence:
        """Evidence confirmed before versions were recorded: find the version whose bytes match the
        recorded sha256 (a later PUT to the same key added newer ones) and record it, once."""
        versions = await self.store.versions(evidence.key)
        if not versions:
            return evidence  # the store keeps no versions (the local store hashes on the way out)
        for candidate in versions:
            if candidate.size != evidence.size:
                continue
            if await self.store.sha256(evidence.key, candidate.version_id) == evidence.sha256:
                await Evidence.filter(id=evidence.id, version_id=None).update(version_id=candidate.version_id)
                return await _reloaded(evidence.id)
        log.error("no version of evidence %s (%s) matches its recorded sha256", evidence.id, evidence.key)
        raise Conflict("this evidence cannot be served: it failed its integrity check", field="id")

    async def get(self, actor: Actor, evidence_id: int) -> Evidence | None:
        """Evidence on a case the actor may see; pending uploads only to their uploader."""
        evidence = await _in_scope(actor).get_or_none(id=evidence_id)
        if evidence is None:
            return None
        if evidence.status in UNCONFIRMED and not actor.system and evidence.uploaded_by_id != actor.user_id:
            return None
        return evidence

    async def accesses(self, actor: Actor, evidence_id: int) -> list[EvidenceAccess]:
        """Who was given download links for the evidence (center staff and leaders only)."""
        if not actor.has(*WITHDRAW_ROLES, Role.admin):
            raise Forbidden("the access log is for center staff and leaders")
        evidence = await _in_scope(actor).get_or_none(id=evidence_id)
        if evidence is None:
            raise NotFound(f"no evidence {evidence_id} in your jurisdiction", field="id")
        return await EvidenceAccess.filter(evidence_id=evidence.id).order_by("id")


def _staging_key_of(evidence: Evidence) -> str:
    """Where the client uploads; rows from before staging keys existed cannot be confirmed safely."""
    if not evidence.staging_key:
        raise Conflict("this upload was started before an upgrade; please upload the file again", field="id")
    return evidence.staging_key


def _in_scope(actor: Actor):
    """Evidence on the cases ``actor`` may see."""
    return Evidence.filter(case_id__in=Subquery(scoped_cases(actor).values("id")))


async def _reloaded(evidence_id: int) -> Evidence:
    """The row after a conditional update; gone only if the orphan sweeper removed it meanwhile."""
    evidence = await Evidence.get_or_none(id=evidence_id)
    if evidence is None:
        raise Conflict("the upload expired and was removed; please upload the file again", field="id")
    return evidence
