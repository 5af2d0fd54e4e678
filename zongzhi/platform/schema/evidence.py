"""GraphQL for evidence: the Evidence type, its queries and the upload/confirm/withdraw mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import Private
from strawberry.file_uploads import Upload

from zongzhi.platform import models
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.schema import types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.schema.nodes import ModelNode, copy_of
from zongzhi.platform.services.evidence import (
    INLINE_MAX_BYTES,
    UNCONFIRMED,
    EvidenceService,
    UploadTicket,
)

#: Content types a browser may send cross-site without a CORS preflight.
SIMPLE_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
#: Headers whose presence proves the request was preflighted (the Apollo convention).
PREFLIGHT_HEADERS = ("x-apollo-operation-name", "apollo-require-preflight")


@strawberry.type(name="Evidence", description="证据: a file attached to a case, immutable once stored.")
class EvidenceFile(ModelNode):
    model = models.Evidence
    filename: str
    content_type: str
    size: int = strawberry.field(description="Bytes")
    sha256: str = strawberry.field(description="Hex SHA-256 of the stored bytes")
    status: str = strawberry.field(
        description="pending, confirming (being checked, for a moment), stored or withdrawn"
    )
    created_at: datetime
    stored_at: datetime | None
    m: Private[models.Evidence]

    @classmethod
    async def from_visible(cls, m: models.Evidence, info: Info) -> EvidenceFile | None:
        """As the ``evidence`` query (``EvidenceService.get``): pending uploads only to their uploader."""
        actor = actor_of(info)
        if m.status in UNCONFIRMED and not actor.system and m.uploaded_by_id != actor.user_id:
            return None
        return cls.of(m)

    @strawberry.field
    async def uploaded_by(self, info: Info) -> types.User | None:
        if self.m.uploaded_by_id is None:
            return None
        row = await info.context.loaders.user.load(self.m.uploaded_by_id)
        return types.User.of(row) if row else None

    @strawberry.field
    async def case(self, info: Info) -> types.Case:
        return types.Case.of(await models.Case.get(id=self.m.case_id))


@strawberry.type
class HttpHeader:
    name: str
    value: str


@strawberry.type(description="Where to upload: PUT the file to url, or each part to partUrls[i].")
class EvidenceUploadTicket:
    evidence: EvidenceFile
    method: str
    expires_at: datetime
    url: str | None = strawberry.field(description="Single-request upload; null for a multipart upload")
    headers: list[HttpHeader] = strawberry.field(description="Send these headers with every upload request")
    upload_id: str | None
    part_size: int | None = strawberry.field(description="Bytes per part (the last may be shorter)")
    part_urls: list[str] = strawberry.field(
        description="Part i+1 goes to partUrls[i]; keep each response's ETag for completeEvidenceUpload"
    )

    @classmethod
    def of(cls, t: UploadTicket) -> EvidenceUploadTicket:
        return copy_of(
            cls,
            t,
            evidence=EvidenceFile.of(t.evidence),
            headers=[HttpHeader(name=k, value=v) for k, v in t.headers.items()],
        )


@strawberry.type
class EvidenceDownload:
    url: str
    expires_at: datetime
    filename: str


@strawberry.type(description="One download link issued for a piece of evidence.")
class EvidenceAccessEntry:
    at: datetime
    user_id: Private[int | None]

    @strawberry.field
    async def user(self, info: Info) -> types.User | None:
        if self.user_id is None:
            return None
        row = await info.context.loaders.user.load(self.user_id)
        return types.User.of(row) if row else None


@strawberry.input
class UploadedPartInput:
    number: int = strawberry.field(description="Part number, from 1")
    etag: str = strawberry.field(description="The ETag header the part's upload answered with")


def service(info: Info) -> EvidenceService:
    return EvidenceService(info.context.request.app.state.store, info.context.settings)


def _evidence_pk(id: strawberry.ID) -> int:
    return pk_of(id, "Evidence", "id")


def require_preflight(info: Info) -> None:
    """Refuse a request a browser could have sent cross-site without a CORS preflight.

    Strawberry parses ``multipart/form-data`` but has no CSRF check of its own, so, as Apollo does,
    a form-encoded request must carry a header no plain HTML form can set.
    """
    request = info.context.request
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in SIMPLE_CONTENT_TYPES and not any(request.headers.get(h) for h in PREFLIGHT_HEADERS):
        raise Forbidden(
            "file uploads need a preflighted request: send an x-apollo-operation-name or "
            "apollo-require-preflight header",
            details={"reason": "CSRF"},
        )


@strawberry.type
class EvidenceQuery:
    @strawberry.field(description="One piece of evidence on a case you may see.")
    async def evidence(self, info: Info, id: strawberry.ID) -> EvidenceFile | None:
        row = await service(info).get(actor_of(info), _evidence_pk(id))
        return EvidenceFile.of(row) if row else None

    @strawberry.field(description="Who was given download links for the evidence (center staff, leaders).")
    async def evidence_access_log(self, info: Info, id: strawberry.ID) -> list[EvidenceAccessEntry]:
        rows = await service(info).accesses(actor_of(info), _evidence_pk(id))
        return [EvidenceAccessEntry(at=r.at, user_id=r.user_id) for r in rows]


@strawberry.type
class EvidenceMutation:
    @strawberry.mutation(description="Declare a file and get presigned URL(s) to upload it to.")
    async def request_evidence_upload(
        self,
        info: Info,
        case_id: strawberry.ID,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
        parts: int | None = None,
    ) -> EvidenceUploadTicket:
        ticket = await service(info).request_upload(
            actor_of(info), pk_of(case_id, "Case", "caseId"), filename, content_type, size, sha256, parts
        )
        return EvidenceUploadTicket.of(ticket)

    @strawberry.mutation(description="Check an uploaded file against its declaration and store it.")
    async def confirm_evidence_upload(self, info: Info, id: strawberry.ID) -> EvidenceFile:
        return EvidenceFile.of(await service(info).confirm_upload(actor_of(info), _evidence_pk(id)))

    @strawberry.mutation(description="Assemble a multipart upload from its parts, check it and store it.")
    async def complete_evidence_upload(
        self, info: Info, id: strawberry.ID, parts: list[UploadedPartInput]
    ) -> EvidenceFile:
        row = await service(info).complete_upload(
            actor_of(info), _evidence_pk(id), [(p.number, p.etag) for p in parts]
        )
        return EvidenceFile.of(row)

    @strawberry.mutation(
        description=f"Upload a small file (at most {INLINE_MAX_BYTES // (1024 * 1024)} MB) in the request "
        "itself (GraphQL multipart request; send an x-apollo-operation-name header)."
    )
    async def upload_evidence(
        self, info: Info, case_id: strawberry.ID, file: Upload, content_type: str | None = None
    ) -> EvidenceFile:
        require_preflight(info)
        actor = actor_of(info)
        data = await file.read(INLINE_MAX_BYTES + 1)
        if len(data) > INLINE_MAX_BYTES:
            message = f"files over {INLINE_MAX_BYTES} bytes must be uploaded with requestEvidenceUpload"
            raise ValidationFailed(message, field="file")
        declared = content_type or file.content_type or ""
        row = await service(info).add_evidence_bytes(
            actor, pk_of(case_id, "Case", "caseId"), file.filename or "file", declared, data
        )
        return EvidenceFile.of(row)

    @strawberry.mutation(description="Hide evidence from the case view (the file itself is kept).")
    async def withdraw_evidence(self, info: Info, id: strawberry.ID, reason: str) -> EvidenceFile:
        return EvidenceFile.of(await service(info).withdraw(actor_of(info), _evidence_pk(id), reason))

    @strawberry.mutation(description="A short-lived download link; every link issued is logged.")
    async def evidence_download_url(self, info: Info, id: strawberry.ID) -> EvidenceDownload:
        link = await service(info).download_link(actor_of(info), _evidence_pk(id))
        return EvidenceDownload(url=link.url, expires_at=link.expires_at, filename=link.filename)
