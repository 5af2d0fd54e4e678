"""The day's work: the inbox, work queues and bulk steps (issue 14).

The inbox lists the signed-in user's notifications (to them, or to their role at their center) about
cases they can see; the work queues count the case list's ``queue`` filter; bulk mutations run one
service call per case, each in its own transaction, and report each case's result.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry

from zongzhi.platform import models
from zongzhi.platform.base import codes, limits
from zongzhi.platform.base.errors import ServiceError, ValidationFailed
from zongzhi.platform.domain.jurisdiction import scoped_cases
from zongzhi.platform.pipeline import broadcast
from zongzhi.platform.schema import enums, types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import PK_MAX, pk_of
from zongzhi.platform.schema.mutations import LocationInput, NewPersonInput, UnitInput, _units
from zongzhi.platform.schema.nodes import ModelNode
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services import corrections, inbox, queues
from zongzhi.platform.services.people import PersonInput

WorkQueue = enums.WorkQueue

#: At most this many cases in one bulk mutation (each is its own transaction).
BULK_MAX = 100


@strawberry.type(description="通知: one message in the signed-in user's inbox.")
class Notification(ModelNode):
    model = models.Notification
    kind: str = strawberry.field(
        description="Stable code: rule, overdue, supervision, whistle or returned (see kindLabel)."
    )
    kind_label: str = strawberry.field(description="The kind's Chinese label, e.g. 督办.")
    message: str = strawberry.field(description="The message text.")
    created_at: datetime = strawberry.field(description="When it was written.")
    read: bool = strawberry.field(description="Whether the signed-in user has read it.")
    to_role: str | None = strawberry.field(
        description="The role it was sent to at your center; null when sent to you by name."
    )
    case: types.Case | None = strawberry.field(description="The case it is about, if any.")

    @classmethod
    async def from_visible(cls, m: models.Notification, info: Info) -> Notification:
        return (await _notifications(info, [m]))[0]


@strawberry.type(description="One notification and its cursor.")
class NotificationEdge:
    cursor: str = strawberry.field(description="Pass as `after` to read on from here.")
    node: Notification = strawberry.field(description="The notification.")


@strawberry.type(description="A page of the inbox, newest first.")
class NotificationConnection:
    edges: list[NotificationEdge] = strawberry.field(description="The notifications on this page.")
    page_info: types.PageInfo = strawberry.field(description="Where this page lies in the inbox.")
    total_count: int = strawberry.field(description="How many notifications match, on every page.")


@strawberry.type(description="A work queue and how many cases wait in it.")
class WorkQueueCount:
    queue: WorkQueue = strawberry.field(description="The queue; pass it as `cases(filter: {queue})`.")
    label: str = strawberry.field(description="The queue's Chinese label.")
    count: int = strawberry.field(description="Cases in the queue, within your jurisdiction.")


@strawberry.type(description="What became of one case in a bulk mutation.")
class BulkResult:
    case_id: strawberry.ID = strawberry.field(description="The case, as given.")
    ok: bool = strawberry.field(description="The step was done.")
    code: str | None = strawberry.field(
        description="The error code when it was not (e.g. INVALID_TRANSITION)."
    )
    message: str | None = strawberry.field(description="The error message when it was not.")
    case: types.Case | None = strawberry.field(description="The case after the step, when done.")


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"n|{pk}".encode()).decode()


def _after(cursor: str) -> int:
    try:
        tag, _, pk = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        value = int(pk)
    except ValueError:
        raise ValidationFailed("not a cursor this API issued", field="after") from None
    if tag != "n" or not 1 <= value <= PK_MAX:
        raise ValidationFailed("not a cursor this API issued", field="after")
    return value


async def _notifications(info: Info, rows: list[models.Notification]) -> list[Notification]:
    """The rows as GraphQL objects, with their cases and read marks in two statements in all."""
    actor = actor_of(info)
    case_ids = {r.case_id for r in rows if r.case_id}
    cases = {c.id: c for c in await scoped_cases(actor).filter(id__in=case_ids)} if case_ids else {}
    shared = [r.id for r in rows if r.user_id is None]
    read_shared = set()
    if shared:
        read_shared = set(
            await models.NotificationRead.filter(
                notification_id__in=shared, user_id=actor.user_id
            ).values_list("notification_id", flat=True)
        )
    return [
        Notification(
            pk=r.id,
            kind=r.kind,
            kind_label=inbox.KINDS.get(r.kind, r.kind),
            message=r.message,
            created_at=r.created_at,
            read=(r.read_at is not None) if r.user_id is not None else r.id in read_shared,
            to_role=r.role if r.user_id is None else None,
            case=types.Case.of(cases[r.case_id]) if r.case_id in cases else None,
        )
        for r in rows
    ]


@strawberry.type
class WorkspaceQuery:
    @strawberry.field(
        description="Your inbox, newest first: notifications to you and to your role at your center."
    )
    async def notifications(
        self,
        info: Info,
        unread: Annotated[bool, strawberry.argument(description="Only those you have not read.")] = False,
        first: Annotated[int, strawberry.argument(description="Page size (at most the page-size cap).")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="A cursor from an earlier page.")
        ] = None,
    ) -> NotificationConnection:
        from zongzhi.platform.schema.queries import _page_size

        size = _page_size(info, first)
        actor = actor_of(info)
        query = inbox.inbox_of(actor)
        if unread:
            query = inbox.unread(query, actor)
        total = await query.count()
        if after:
            query = query.filter(id__lt=_after(after))
        rows = await query.order_by("-id").limit(size + 1)
        nodes = await _notifications(info, rows[:size])
        edges = [
            NotificationEdge(cursor=_cursor(int(r.id)), node=n) for r, n in zip(rows, nodes, strict=False)
        ]
        return NotificationConnection(
            edges=edges,
            total_count=total,
            page_info=types.PageInfo(
                has_next_page=len(rows) > size,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(description="How many notifications in your inbox you have not read.")
    async def unread_notification_count(self, info: Info) -> int:
        actor = actor_of(info)
        return await inbox.unread(inbox.inbox_of(actor), actor).count()

    @strawberry.field(
        description="Your work queues with how many cases wait in each; list one with "
        "`cases(filter: {queue: ...})`."
    )
    async def work_queues(self, info: Info) -> list[WorkQueueCount]:
        from zongzhi.platform.schema.queries import CaseFilter, cases_count

        async def one(q: queues.WorkQueue) -> WorkQueueCount:
            count = await cases_count(info, CaseFilter(queue=q))
            return WorkQueueCount(queue=q, label=queues.LABELS[q], count=count)

        return [await one(q) for q in queues.WorkQueue]


@strawberry.type
class WorkspaceMutation:
    @strawberry.mutation(description="Mark one notification of your inbox read.")
    async def mark_notification_read(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The notification.")]
    ) -> Notification:
        row = await inbox.mark_read(actor_of(info), pk_of(id, "Notification", "id"))
        return (await _notifications(info, [await models.Notification.get(id=row.id)]))[0]

    @strawberry.mutation(
        description="Mark every notification of your inbox read; returns how many were unread."
    )
    async def mark_all_notifications_read(self, info: Info) -> int:
        return await inbox.mark_all_read(actor_of(info))

    @strawberry.mutation(description="分流转办 many cases the same way; each case in its own transaction.")
    async def bulk_dispatch_cases(
        self,
        info: Info,
        case_ids: Annotated[
            list[strawberry.ID], strawberry.argument(description=f"The cases (at most {BULK_MAX}).")
        ],
        mode: Annotated[
            enums.AssignmentMode, strawberry.argument(description="How the units take the cases.")
        ],
        units: Annotated[
            list[UnitInput],
            strawberry.argument(
                description="The units to assign (none: the owning center handles it itself)."
            ),
        ],
        note: Annotated[str, strawberry.argument(description="A note for every case's timeline.")] = "",
    ) -> list[BulkResult]:
        actor = actor_of(info)
        resolved = _units(units)
        return await _bulk(case_ids, lambda pk: svc.dispatch(actor, pk, mode, resolved, note=note))

    @strawberry.mutation(description="办结归档 many concluded cases; each case in its own transaction.")
    async def bulk_close_cases(
        self,
        info: Info,
        case_ids: Annotated[
            list[strawberry.ID], strawberry.argument(description=f"The cases (at most {BULK_MAX}).")
        ],
        note: Annotated[str, strawberry.argument(description="A note for every case's timeline.")] = "",
    ) -> list[BulkResult]:
        actor = actor_of(info)
        return await _bulk(case_ids, lambda pk: svc.close(actor, pk, note))

    @strawberry.mutation(
        description="回访 many closed cases with the same result; each in its own transaction."
    )
    async def bulk_follow_up_cases(
        self,
        info: Info,
        case_ids: Annotated[
            list[strawberry.ID], strawberry.argument(description=f"The cases (at most {BULK_MAX}).")
        ],
        satisfaction: Annotated[
            int, strawberry.argument(description="1 (very unsatisfied) to 5 (very satisfied).")
        ],
        executed: Annotated[
            bool, strawberry.argument(description="执行到位: the agreement was carried out.")
        ],
        method: Annotated[
            enums.FollowUpMethod, strawberry.argument(description="How the follow-up was made.")
        ] = enums.FollowUpMethod.call,
        note: Annotated[str, strawberry.argument(description="A note for every case's timeline.")] = "",
    ) -> list[BulkResult]:
        actor = actor_of(info)
        return await _bulk(
            case_ids, lambda pk: svc.follow_up(actor, pk, satisfaction, executed, method, note)
        )


@strawberry.input(description="更正: the fields to correct; an omitted or null field stays as it is.")
class UpdateCaseInput:
    title: str | None = strawberry.field(default=None, description=limits.TITLE_DOC)
    description: str | None = strawberry.field(default=None, description=limits.DESCRIPTION_DOC)
    category: str | None = strawberry.field(default=None, description="A category code, see codeLists")
    kind: str | None = strawberry.field(default=None, description="A kind code, see codeLists")
    location: LocationInput | None = strawberry.field(
        default=None, description="Where it happened; the given parts replace the old ones"
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="The whole new tag list. " + limits.TAGS_DOC
    )


@strawberry.type
class CorrectionsMutation:
    @strawberry.mutation(
        description="更正: correct a case's title, description, category, kind, location or tags. "
        "One timeline event records each field before and after; a new category or kind, or any "
        "change to a concluded case, needs a reason."
    )
    async def update_case(
        self,
        info: Info,
        case_id: Annotated[strawberry.ID, strawberry.argument(description="The case.")],
        input: Annotated[UpdateCaseInput, strawberry.argument(description="The corrections.")],
        reason: Annotated[str, strawberry.argument(description="更正理由: why (where required).")] = "",
    ) -> types.Case:
        loc = input.location
        changes = corrections.CaseChanges(
            title=input.title,
            description=input.description,
            category=input.category,
            kind=input.kind,
            lat=loc.lat if loc else None,
            lng=loc.lng if loc else None,
            address=loc.address if loc and loc.address else None,
            tags=list(input.tags) if input.tags is not None else None,
            reason=reason,
        )
        return types.Case.of(
            await corrections.update_case(actor_of(info), pk_of(case_id, "Case", "caseId"), changes)
        )

    @strawberry.mutation(
        description="增加当事人: add a party, an existing person or a new one (as at intake)."
    )
    async def add_case_party(
        self,
        info: Info,
        case_id: Annotated[strawberry.ID, strawberry.argument(description="The case.")],
        role: Annotated[enums.PartyRole, strawberry.argument(description="The party's role.")],
        person_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="An existing person you can see.")
        ] = None,
        person: Annotated[
            NewPersonInput | None,
            strawberry.argument(description="A new person (an ID number on record links it)."),
        ] = None,
        reason: Annotated[
            str, strawberry.argument(description="更正理由 (required on a concluded case).")
        ] = "",
    ) -> types.Case:
        new = None
        if person is not None:
            new = PersonInput(
                name=person.name,
                id_number=person.id_number,
                phone=person.phone,
                address=person.address,
                grid_id=pk_of(person.grid_id, "Grid", "person.gridId") if person.grid_id else None,
            )
        case = await corrections.add_party(
            actor_of(info),
            pk_of(case_id, "Case", "caseId"),
            codes.PartyRole(role),
            person_id=pk_of(person_id, "Person", "personId") if person_id else None,
            person=new,
            reason=reason,
        )
        return types.Case.of(case)

    @strawberry.mutation(description="移除当事人: remove a party entered by mistake, with a reason.")
    async def remove_case_party(
        self,
        info: Info,
        case_id: Annotated[strawberry.ID, strawberry.argument(description="The case.")],
        person_id: Annotated[strawberry.ID, strawberry.argument(description="The party's person.")],
        role: Annotated[enums.PartyRole, strawberry.argument(description="The role to remove them from.")],
        reason: Annotated[str, strawberry.argument(description="更正理由: why (required).")],
    ) -> types.Case:
        case = await corrections.remove_party(
            actor_of(info),
            pk_of(case_id, "Case", "caseId"),
            pk_of(person_id, "Person", "personId"),
            codes.PartyRole(role),
            reason,
        )
        return types.Case.of(case)


async def _bulk(case_ids: list[strawberry.ID], step) -> list[BulkResult]:
    """Run ``step`` per case, one transaction each (the service's own); a refusal is that case's result."""
    if not 1 <= len(case_ids) <= BULK_MAX:
        raise ValidationFailed(f"give 1 to {BULK_MAX} cases", field="caseIds")
    pks = [pk_of(c, "Case", f"caseIds[{i}]") for i, c in enumerate(case_ids)]
    if len(set(pks)) != len(pks):
        raise ValidationFailed("a case is named twice", field="caseIds")
    results = []
    for gid, pk in zip(case_ids, pks, strict=True):
        try:
            case = await step(pk)
        except ServiceError as exc:
            results.append(BulkResult(case_id=gid, ok=False, code=exc.code, message=str(exc), case=None))
        else:
            results.append(
                BulkResult(case_id=gid, ok=True, code=None, message=None, case=types.Case.of(case))
            )
    return results


async def notification_added(info: Info) -> AsyncGenerator[Notification, None]:
    """New notifications of the subscriber's inbox, as the events that write them are committed."""
    actor = actor_of(info)
    newest = await inbox.inbox_of(actor).order_by("-id").first()
    last = newest.id if newest else 0
    async with broadcast.hub().subscribe() as queue:
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), timeout=60)
            except TimeoutError:
                message = {"kind": "inbox"}  # also catch rows written without an announcement
            if message.get("kind") != "inbox":
                continue
            rows = await inbox.inbox_of(actor).filter(id__gt=last).order_by("id").limit(100)
            for n in await _notifications(info, rows):
                yield n
            if rows:
                last = rows[-1].id
