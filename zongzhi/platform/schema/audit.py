"""The audit log and the evidence access log, for the ``auditor`` role only.

等保 2.0 asks that system, security and audit administration be in different hands: an admin
manages accounts and partners but cannot read these logs, and an auditor reads them but can change
nothing. An auditor without a center reads the whole log. An auditor with a center reads the rows
of the users of that center's subtree, and the downloads of evidence on cases that subtree owns
(rows written by the system or the command line, which have no user, only the former). Each read
of either log is itself written to the audit log.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from tortoise.expressions import Subquery

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.domain import audit
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import AuditLog, AuditSubject, Center, Evidence, EvidenceAccess, User
from zongzhi.platform.schema import types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.schema.nodes import ModelNode, copy_of


def require_auditor(info: Info) -> Actor:
    actor = actor_of(info)
    if actor.system or Role.auditor not in actor.roles:
        raise Forbidden("the audit logs are for the auditor role only")
    return actor


def page_size(info: Info, first: int) -> int:
    cap = info.context.settings.page_size_max
    if not 1 <= first <= cap:
        raise ValidationFailed(f"first must be between 1 and {cap}", field="first")
    return first


def _cursor(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode()


def _after(kind: str, cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        name, _, pk = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if name == kind:
            value = int(pk)
            if 0 < value < 2**63:
                return value
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationFailed("not a cursor this API issued for this list", field="after")


async def _users_in_scope(actor: Actor) -> Subquery | None:
    """The users an auditor's center subtree holds, or ``None`` for an auditor without a center."""
    if not actor.center_path:
        return None
    centers = Subquery(Center.filter(path__startswith=actor.center_path).values("id"))
    return Subquery(User.filter(center_id__in=centers).values("id"))


def _window(query, at_from: datetime | None, at_to: datetime | None, field: str):
    for value, name in ((at_from, "from"), (at_to, "to")):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(
                "give a time zone (e.g. 2026-10-01T00:00:00+08:00)", field=f"filter.{name}"
            )
    if at_from is not None:
        query = query.filter(**{f"{field}__gte": at_from})
    if at_to is not None:
        query = query.filter(**{f"{field}__lt": at_to})
    return query


@strawberry.input(description="Which audit rows to show; every field narrows the list.")
class AuditLogFilter:
    actor_id: strawberry.ID | None = strawberry.field(default=None, description="Rows written by this user.")
    action: str | None = strawberry.field(
        default=None,
        description="Exact action (pii.read, user.disable, token.revoke, ruleset.activate, ...).",
    )
    target: str | None = strawberry.field(default=None, description="Exact target, e.g. user:12 or person.")
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Rows that concern this person (e.g. whose full numbers were shown)."
    )
    case_id: strawberry.ID | None = strawberry.field(default=None, description="Rows that concern this case.")
    at_from: datetime | None = strawberry.field(
        default=None, name="from", description="Written at or after this time (with a time zone)."
    )
    at_to: datetime | None = strawberry.field(
        default=None, name="to", description="Written before this time (with a time zone)."
    )


@strawberry.type(description="One audit-log row: an administrative act or a sensitive read.")
class AuditEntry(ModelNode):
    model = AuditLog
    node_name = "AuditLog"
    seq: int | None = strawberry.field(description="Its place in the hash chain (null: before the chain).")
    at: datetime = strawberry.field(description="When it was written.")
    action: str = strawberry.field(description="What was done, e.g. pii.read or user.disable.")
    target: str = strawberry.field(description="What it was done to.")
    details: JSON = strawberry.field(description="The row's details (people are ids, never numbers).")
    hash: str = strawberry.field(description="HMAC-SHA256 chaining the row to the one before.")
    actor_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who did it (null: the system or the command line).")
    async def actor(self, info: Info) -> types.User | None:
        if self.actor_pk is None:
            return None
        row = await info.context.loaders.user.load(self.actor_pk)
        return types.User.of(row) if row else None

    @classmethod
    def of(cls, r: AuditLog) -> AuditEntry:
        return copy_of(cls, r, actor_pk=r.actor_id)

    @classmethod
    async def from_visible(cls, r: AuditLog, info: Info) -> AuditEntry:
        """A row fetched by ``node``: that read is audited like a page of the log."""
        actor = require_auditor(info)
        await audit.record("audit.read", "audit_log", actor_id=actor.user_id, details={"rows": 1})
        return cls.of(r)


@strawberry.type(description="One audit row in a page.")
class AuditEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this row.")
    node: AuditEntry = strawberry.field(description="The row.")


@strawberry.type(description="A page of the audit log, newest first.")
class AuditLogConnection:
    edges: list[AuditEdge] = strawberry.field(description="The rows of this page.")
    page_info: types.PageInfo = strawberry.field(description="Whether there is more.")


@strawberry.input(description="Which evidence downloads to show; every field narrows the list.")
class EvidenceAccessFilter:
    user_id: strawberry.ID | None = strawberry.field(default=None, description="Links issued to this user.")
    case_id: strawberry.ID | None = strawberry.field(default=None, description="Evidence on this case.")
    evidence_id: strawberry.ID | None = strawberry.field(default=None, description="This piece of evidence.")
    at_from: datetime | None = strawberry.field(
        default=None, name="from", description="Issued at or after this time (with a time zone)."
    )
    at_to: datetime | None = strawberry.field(
        default=None, name="to", description="Issued before this time (with a time zone)."
    )


@strawberry.type(description="One download link issued for a piece of evidence.")
class EvidenceAccessRecord:
    at: datetime = strawberry.field(description="When the link was issued.")
    evidence_id: strawberry.ID = strawberry.field(description="The evidence's global ID.")
    case_id: strawberry.ID = strawberry.field(description="The global ID of the case it belongs to.")
    filename: str = strawberry.field(description="The evidence's file name.")
    user_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who was given the link (null: the system).")
    async def user(self, info: Info) -> types.User | None:
        if self.user_pk is None:
            return None
        row = await info.context.loaders.user.load(self.user_pk)
        return types.User.of(row) if row else None


@strawberry.type(description="One evidence download in a page.")
class EvidenceAccessEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this download.")
    node: EvidenceAccessRecord = strawberry.field(description="The download.")


@strawberry.type(description="A page of the evidence access log, newest first.")
class EvidenceAccessConnection:
    edges: list[EvidenceAccessEdge] = strawberry.field(description="The downloads of this page.")
    page_info: types.PageInfo = strawberry.field(description="Whether there is more.")


def _page_info(edges: list, more: bool, after: str | None) -> types.PageInfo:
    return types.PageInfo(
        has_next_page=more,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


def _subject(kind: str, pk: int) -> Subquery:
    return Subquery(AuditSubject.filter(kind=kind, ref=pk).values("entry_id"))


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="The audit log, newest first (auditor only; an auditor with a center sees the rows "
        "of its subtree's users). `first` is capped by the page-size limit. Each read is audited."
    )
    async def audit_log(
        self, info: Info, filter: AuditLogFilter | None = None, first: int = 20, after: str | None = None
    ) -> AuditLogConnection:
        actor = require_auditor(info)
        size = page_size(info, first)
        before = _after("AuditLog", after)
        f = filter or AuditLogFilter()
        query = AuditLog.all()
        users = await _users_in_scope(actor)
        if users is not None:
            query = query.filter(actor_id__in=users)
        if f.actor_id:
            query = query.filter(actor_id=pk_of(f.actor_id, "User", "filter.actorId"))
        if f.action:
            query = query.filter(action=f.action)
        if f.target:
            query = query.filter(target=f.target)
        if f.person_id:
            query = query.filter(id__in=_subject("person", pk_of(f.person_id, "Person", "filter.personId")))
        if f.case_id:
            query = query.filter(id__in=_subject("case", pk_of(f.case_id, "Case", "filter.caseId")))
        query = _window(query, f.at_from, f.at_to, "at")
        if before is not None:
            query = query.filter(id__lt=before)
        rows = await query.order_by("-id").limit(size + 1)
        edges = [AuditEdge(cursor=_cursor("AuditLog", r.id), node=AuditEntry.of(r)) for r in rows[:size]]
        await audit.record("audit.read", "audit_log", actor_id=actor.user_id, details={"rows": len(edges)})
        return AuditLogConnection(edges=edges, page_info=_page_info(edges, len(rows) > size, after))

    @strawberry.field(
        description="Every evidence download link issued, newest first (auditor only; an auditor with a "
        "center sees evidence on cases its subtree owns). Each read is audited."
    )
    async def evidence_accesses(
        self,
        info: Info,
        filter: EvidenceAccessFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> EvidenceAccessConnection:
        actor = require_auditor(info)
        size = page_size(info, first)
        before = _after("EvidenceAccess", after)
        f = filter or EvidenceAccessFilter()
        query = EvidenceAccess.all()
        if actor.center_path:
            query = query.filter(evidence__case__center_path__startswith=actor.center_path)
        if f.user_id:
            query = query.filter(user_id=pk_of(f.user_id, "User", "filter.userId"))
        if f.case_id:
            query = query.filter(evidence__case_id=pk_of(f.case_id, "Case", "filter.caseId"))
        if f.evidence_id:
            query = query.filter(evidence_id=pk_of(f.evidence_id, "Evidence", "filter.evidenceId"))
        query = _window(query, f.at_from, f.at_to, "at")
        if before is not None:
            query = query.filter(id__lt=before)
        rows = await query.order_by("-id").limit(size + 1)
        page = rows[:size]
        files = {
            e["id"]: e
            for e in await Evidence.filter(id__in={r.evidence_id for r in page}).values(
                "id", "case_id", "filename"
            )
        }
        edges = [
            EvidenceAccessEdge(
                cursor=_cursor("EvidenceAccess", r.id),
                node=EvidenceAccessRecord(
                    at=r.at,
                    evidence_id=strawberry.ID(to_global_id("Evidence", r.evidence_id)),
                    case_id=strawberry.ID(to_global_id("Case", files[r.evidence_id]["case_id"])),
                    filename=files[r.evidence_id]["filename"],
                    user_pk=r.user_id,
                ),
            )
            for r in page
        ]
        await audit.record(
            "audit.read", "evidence_access", actor_id=actor.user_id, details={"rows": len(edges)}
        )
        return EvidenceAccessConnection(edges=edges, page_info=_page_info(edges, len(rows) > size, after))
