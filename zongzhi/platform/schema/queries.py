"""Read side: the org tree, people, cases with filters and cursor pagination, node lookups, ``me``."""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import json
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from strawberry import relay
from tortoise import Tortoise
from tortoise.expressions import Q, RawSQL, Subquery

from zongzhi.platform import models
from zongzhi.platform.base import codes, limits
from zongzhi.platform.base.errors import NotFound, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import (
    ScopePart,
    case_scope_parts,
    resolve_ref,
    scoped_cases,
    subtree_paths,
    visible,
)
from zongzhi.platform.schema import enums, nodes, types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import PK_MAX, from_global_id, pk_of
from zongzhi.platform.services import queues
from zongzhi.platform.services.lifecycle import OPEN
from zongzhi.platform.services.people import lookup_hash_for_id


@strawberry.input(description="Every given criterion must hold (AND); a list means any of its values.")
class CaseFilter:
    status: list[enums.CaseStatus] | None = None
    channel: list[str] | None = None
    category: list[str] | None = None
    kind: list[str] | None = None
    risk: list[enums.Risk] | None = None
    center_id: strawberry.ID | None = strawberry.field(
        default=None, description="This center and its subtree"
    )
    grid_id: strawberry.ID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    overdue: bool | None = strawberry.field(default=None, description="Open and past its resolve-by deadline")
    assignee_user_id: strawberry.ID | None = None
    assignee_department_id: strawberry.ID | None = None
    text: str | None = strawberry.field(
        default=None,
        description=f"Matches number, title or description (at most {limits.SEARCH_MAX} characters)",
    )
    resolve_by_from: datetime | None = strawberry.field(
        default=None, description="Resolve-by deadline at or after this time (a deadline window)"
    )
    resolve_by_to: datetime | None = strawberry.field(
        default=None, description="Resolve-by deadline before this time"
    )
    concluded_from: datetime | None = strawberry.field(
        default=None, description="Concluded (resolved, failed, rejected or withdrawn) at or after this time"
    )
    concluded_to: datetime | None = strawberry.field(default=None, description="Concluded before this time")
    tag: str | None = strawberry.field(default=None, description="Carries this tag")
    party_id_number: str | None = strawberry.field(
        default=None, description="A party's full 18-character ID number (looked up by its keyed hash)"
    )
    external_id: str | None = strawberry.field(
        default=None, description="A partner's own reference (court case number, incident number)"
    )
    queue: enums.WorkQueue | None = strawberry.field(
        default=None, description="One of your work queues (see workQueues)"
    )


def _utc(value: datetime, field: str) -> datetime:
    return limits.check_datetime(value, field)


def _encode_cursor(created_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _, pk = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        at, key = datetime.fromisoformat(stamp), int(pk)
    except ValueError:
        raise ValidationFailed("not a cursor this API issued", field="after") from None
    if not 1 <= key <= PK_MAX:
        raise ValidationFailed("not a cursor this API issued", field="after")
    return limits.check_datetime(at, "after"), key


def _selects(selections, name: str) -> bool:
    """Whether ``name`` is among the selected fields, fragments included."""
    for selection in selections:
        if getattr(selection, "name", None) == name or _selects(selection.selections, name):
            return True
    return False


def _page_size(info: Info, first: int) -> int:
    cap = info.context.settings.page_size_max
    if not 1 <= first <= cap:
        raise ValidationFailed(f"first must be between 1 and {cap}", field="first")
    return first


async def _filtered_cases(f: CaseFilter | None, actor: Actor):
    """The cases the filter selects, before the jurisdiction (``cases`` applies it by parts).

    The IDs in the filter resolve through the actor's jurisdiction like any other input ID.
    """
    query = models.Case.all()
    if f is None:
        return query
    for name, values, known in (
        ("channel", f.channel, codes.CHANNELS),
        ("category", f.category, codes.CATEGORIES),
        ("kind", f.kind, codes.KINDS),
    ):
        if values:
            unknown = [v for v in values if v not in known]
            if unknown:
                raise ValidationFailed(f"unknown {name}: {', '.join(unknown)}", field=f"filter.{name}")
            query = query.filter(**{f"{name}__in": values})
    if f.status:
        query = query.filter(status__in=[codes.CaseStatus(s) for s in f.status])
    if f.risk:
        query = query.filter(risk__in=[codes.Risk(r) for r in f.risk])
    if f.center_id:
        center_pk = pk_of(f.center_id, "Center", "filter.centerId")
        center = await resolve_ref(actor, models.Center, center_pk, "filter.centerId")
        # The subtree's paths rather than a prefix: an equality the center_path indexes serve.
        query = query.filter(center_path__in=await subtree_paths(center.path))
    if f.grid_id:
        grid = await resolve_ref(
            actor, models.Grid, pk_of(f.grid_id, "Grid", "filter.gridId"), "filter.gridId"
        )
        query = query.filter(grid_id=grid.id)
    # Compared in UTC: SQLite compares the stored text, so every bound must use the stored zone.
    if f.created_from:
        query = query.filter(created_at__gte=_utc(f.created_from, "filter.createdFrom"))
    if f.created_to:
        query = query.filter(created_at__lt=_utc(f.created_to, "filter.createdTo"))
    if f.overdue is not None:
        now = datetime.now(UTC)
        late = Q(status__in=list(OPEN), resolve_by__lt=now)
        query = query.filter(late) if f.overdue else query.filter(~late)
    if f.assignee_user_id:
        uid = pk_of(f.assignee_user_id, "User", "filter.assigneeUserId")
        await resolve_ref(actor, models.User, uid, "filter.assigneeUserId")
        query = query.filter(id__in=Subquery(models.Assignment.filter(user_id=uid).values("case_id")))
    if f.assignee_department_id:
        did = pk_of(f.assignee_department_id, "Department", "filter.assigneeDepartmentId")
        await resolve_ref(actor, models.Department, did, "filter.assigneeDepartmentId")
        query = query.filter(id__in=Subquery(models.Assignment.filter(department_id=did).values("case_id")))
    for column, lower, upper, name in (
        ("resolve_by", f.resolve_by_from, f.resolve_by_to, "resolveBy"),
        ("concluded_at", f.concluded_from, f.concluded_to, "concluded"),
    ):
        if lower:
            query = query.filter(**{f"{column}__gte": _utc(lower, f"filter.{name}From")})
        if upper:
            query = query.filter(**{f"{column}__lt": _utc(upper, f"filter.{name}To")})
    if f.tag:
        tag = limits.check_text(f.tag, "filter.tag", limits.TAG_MAX, required=True).strip()
        query = _tagged(query, tag)
    if f.party_id_number:
        limits.check_text(f.party_id_number, "filter.partyIdNumber", limits.SEARCH_MAX)
        holders = models.CaseParty.filter(
            person__id_number_hash=lookup_hash_for_id(f.party_id_number.strip()), blind=False
        ).values("case_id")
        query = query.filter(id__in=Subquery(holders))
    if f.external_id:
        query = query.filter(external_id=limits.check_text(f.external_id, "filter.externalId", 80).strip())
    if f.queue is not None:
        query = query.filter(queues.queue_q(actor, queues.WorkQueue(f.queue)))
    if f.text:
        t = limits.check_text(f.text, "filter.text", limits.SEARCH_MAX).strip()
        matches = Q(title__icontains=t) | Q(description__icontains=t)
        # A text longer than any case number cannot be one (and the column would refuse it).
        query = query.filter(Q(number=t) | matches if len(t) <= limits.CASE_NUMBER_MAX else matches)
    return query


def _count_parts(query, parts: list[ScopePart]):
    """The total of ``query`` over the jurisdiction's parts: each part less the parts before it."""
    counts = [
        query.filter(part.within, *(p.outside for p in parts[:i])).count() for i, part in enumerate(parts)
    ]
    return asyncio.gather(*counts)


async def cases_count(info: Info, f: CaseFilter | None) -> int:
    """How many cases ``cases(filter: f)`` lists in all (the work queues' counts)."""
    actor = actor_of(info)
    query = await _filtered_cases(f, actor)
    parts = await case_scope_parts(actor)
    return sum(await _count_parts(query, parts if parts is not None else [ScopePart(Q(), Q())]))


def _tagged(query, tag: str):
    """Cases whose JSON ``tags`` list holds ``tag``: jsonb containment on PostgreSQL, json_each on SQLite."""
    if Tortoise.get_connection("default").capabilities.dialect == "postgres":
        return query.filter(tags__contains=[tag])
    quoted = "'" + tag.replace("'", "''") + "'"
    has = RawSQL(f'EXISTS (SELECT 1 FROM json_each("case"."tags") WHERE json_each.value = {quoted})')
    return query.annotate(has_tag=has).filter(has_tag=1)


def _people_query(info: Info):
    """People the actor may see (``jurisdiction.people_q``)."""
    return visible(actor_of(info), models.Person)


async def _newest(query, parts: list[ScopePart], size: int, after: str | None) -> list[models.Case]:
    """The newest ``size + 1`` cases of ``query`` in any of ``parts``, after the cursor."""
    if after:
        stamp, pk = _decode_cursor(after)
        # ``created_at <= stamp`` is implied; said on its own it bounds an index range.
        query = query.filter(
            Q(created_at__lte=stamp), Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=pk)
        )
    newest = ("-created_at", "-id")
    if len(parts) == 1:
        return await query.filter(parts[0].within).order_by(*newest).limit(size + 1)
    # The keys of each part's newest, then the rows of the newest of them, read again through the
    # whole filter (cheap by primary key) so that none can have left it meanwhile.
    found = await asyncio.gather(
        *(
            query.filter(part.within).order_by(*newest).limit(size + 1).values_list("created_at", "id")
            for part in parts
        )
    )
    keys = {key for part_keys in found for key in part_keys}
    ids = [case_id for _, case_id in sorted(keys, reverse=True)[: size + 1]]
    if not ids:
        return []
    anywhere = Q(*(p.within for p in parts), join_type=Q.OR)
    by_id = {c.id: c for c in await query.filter(anywhere, id__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


@strawberry.enum(description="What the case list is sorted by; ties are broken by the case's ID.")
class CaseOrderField(enum.Enum):
    RECEIVED = "created_at"
    LAST_ACTIVITY = "updated_at"
    RESOLVE_BY = "resolve_by"
    SEVERITY = "severity"
    RISK = "risk_rank"


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(
    description="How to sort the case list. Cases with no resolve-by deadline come last either way."
)
class CaseOrder:
    field: CaseOrderField = strawberry.field(
        default=CaseOrderField.RECEIVED,
        description="RECEIVED (受理), LAST_ACTIVITY (last change), RESOLVE_BY (deadline), SEVERITY or RISK",
    )
    direction: OrderDirection = strawberry.field(default=OrderDirection.DESC, description="ASC or DESC")


#: Risk as a number, for sorting (none < low < medium < high).
RISK_RANK = RawSQL(
    'CASE "risk" ' + " ".join(f"WHEN '{r.value}' THEN {i}" for i, r in enumerate(codes.Risk)) + " ELSE 0 END"
)


def _is_default(order: CaseOrder | None) -> bool:
    return order is None or (
        order.field is CaseOrderField.RECEIVED and order.direction is OrderDirection.DESC
    )


def _encode_sort_cursor(order: CaseOrder, value, pk: int) -> str:
    shown = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([order.field.name, order.direction.name, shown, pk])
    return "o" + base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_sort_cursor(cursor: str, order: CaseOrder):
    try:
        name, direction, value, pk = json.loads(base64.urlsafe_b64decode(cursor[1:].encode()).decode())
        if not cursor.startswith("o") or (name, direction) != (order.field.name, order.direction.name):
            raise ValueError
        if value is not None and order.field in (
            CaseOrderField.RECEIVED,
            CaseOrderField.LAST_ACTIVITY,
            CaseOrderField.RESOLVE_BY,
        ):
            value = limits.check_datetime(datetime.fromisoformat(value), "after")
        elif value is not None and not isinstance(value, int):
            raise ValueError
        if not isinstance(pk, int) or not 1 <= pk <= PK_MAX:
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise ValidationFailed("not a cursor this API issued for this order", field="after") from None
    return value, pk


def _sortable(query, order: CaseOrder):
    return query.annotate(risk_rank=RISK_RANK) if order.field is CaseOrderField.RISK else query


async def _sorted_page(query, parts: list[ScopePart], size: int, after: str | None, order: CaseOrder):
    """``size + 1`` cases of ``query`` in any of ``parts`` in ``order`` after the cursor (keyset).

    Like ``_newest``: each part's first ``size + 1`` keys, merged, then the rows by primary key. A
    missing deadline sorts last in both directions (two ranges per part: the dated, then the undated).
    """
    col = order.field.value
    desc = order.direction is OrderDirection.DESC
    sign = "-" if desc else ""
    cmp = "lt" if desc else "gt"
    query = _sortable(query, order)
    dated, undated = query.filter(**{f"{col}__isnull": False}), query.filter(**{f"{col}__isnull": True})
    if after:
        value, pk = _decode_sort_cursor(after, order)
        if value is None:
            dated = None
            undated = undated.filter(**{f"id__{cmp}": pk})
        else:
            dated = dated.filter(Q(**{f"{col}__{cmp}": value}) | Q(**{col: value, f"id__{cmp}": pk}))
    keys: set[tuple] = set()

    async def part_keys(part: ScopePart) -> None:
        got = []
        if dated is not None:
            got = await (
                dated.filter(part.within)
                .order_by(f"{sign}{col}", f"{sign}id")
                .limit(size + 1)
                .values_list(col, "id")
            )
        if len(got) <= size and order.field is CaseOrderField.RESOLVE_BY:
            got += (
                await undated.filter(part.within).order_by(f"{sign}id").limit(size + 1).values_list(col, "id")
            )
        keys.update((v, i) for v, i in got)

    await asyncio.gather(*(part_keys(p) for p in parts))

    def sort_key(key: tuple):
        value, pk = key
        return (
            value is None,
            value if not desc or value is None else _Reversed(value),
            pk if not desc else -pk,
        )

    ordered = sorted(keys, key=sort_key)[: size + 1]
    if not ordered:
        return []
    anywhere = Q(*(p.within for p in parts), join_type=Q.OR)
    by_id = {c.id: c for c in await _sortable(query, order).filter(anywhere, id__in=[i for _, i in ordered])}
    return [(by_id[i], v) for v, i in ordered if i in by_id]


class _Reversed:
    """Wraps a value so that sorting ascending by it sorts the value descending."""

    __slots__ = ("v",)

    def __init__(self, v) -> None:
        self.v = v

    def __lt__(self, other: _Reversed) -> bool:
        return self.v > other.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.v == other.v


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in account.")
    async def me(self, info: Info) -> types.User:
        actor = actor_of(info)
        if actor.user_id is None:
            raise NotFound("the system actor has no account")
        return types.User.of(await models.User.get(id=actor.user_id))

    @strawberry.field(description="Fetch any object by its global ID, within your jurisdiction.")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        actor_of(info)  # a request without a token is refused, not answered with null
        type_name, pk = from_global_id(id)
        # Each node type reads its rows through jurisdiction.visible (ModelNode.resolve_nodes).
        node_type = nodes.node_type(info, type_name)
        if node_type is None:
            return None
        return await node_type.resolve_node(str(pk), info=info, required=False)

    @strawberry.field(description="The center tree from your own center down (all roots for admins).")
    async def centers(self, info: Info) -> list[types.Center]:
        actor = actor_of(info)
        if actor.center_id is not None:
            return [types.Center.of(await models.Center.get(id=actor.center_id))]
        if actor.has(codes.Role.admin):
            return [types.Center.of(c) for c in await models.Center.filter(parent_id=None).order_by("code")]
        return []

    @strawberry.field(description="One center by ID: yours, one above it or one below it.")
    async def center(self, info: Info, id: strawberry.ID) -> types.Center | None:
        row = await visible(actor_of(info), models.Center).get_or_none(id=pk_of(id, "Center", "id"))
        return types.Center.of(row) if row else None

    @strawberry.field(description="The departments stationed at your centers, yours, and those of no place.")
    async def departments(self, info: Info) -> list[types.Department]:
        rows = await visible(actor_of(info), models.Department).order_by("code")
        return [types.Department.of(d) for d in rows]

    @strawberry.field(description="Grids of a center's subtree (default: your center).")
    async def grids(self, info: Info, center_id: strawberry.ID | None = None) -> list[types.Grid]:
        actor = actor_of(info)
        grids = visible(actor, models.Grid)
        if center_id is not None:
            center = await resolve_ref(
                actor, models.Center, pk_of(center_id, "Center", "centerId"), "centerId"
            )
            path = center.path
        else:
            path = actor.center_path
        if path is None:
            return [types.Grid.of(g) for g in await grids.filter(id__in=list(actor.grid_ids))]
        rows = await grids.filter(center__path__startswith=path).order_by("code")
        return [types.Grid.of(g) for g in rows]

    @strawberry.field(description="Category, kind and channel codes with their labels.")
    def code_lists(self) -> types.CodeLists:
        def to_codes(lst: codes.CodeList) -> list[types.Code]:
            return [types.Code(code=c, label=label) for c, label in lst.items()]

        return types.CodeLists(
            categories=to_codes(codes.CATEGORIES),
            kinds=to_codes(codes.KINDS),
            channels=to_codes(codes.CHANNELS),
        )

    @strawberry.field(description="Search people by name, full ID number, phone or grid.")
    async def people(
        self,
        info: Info,
        name: str | None = None,
        id_number: str | None = None,
        grid_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> types.PersonConnection:
        size = _page_size(info, first)
        query = _people_query(info)
        if name:
            query = query.filter(name__icontains=limits.check_text(name, "name", limits.SEARCH_MAX).strip())
        if id_number:
            query = query.filter(id_number_hash=lookup_hash_for_id(id_number))
        if grid_id:
            grid = await resolve_ref(actor_of(info), models.Grid, pk_of(grid_id, "Grid", "gridId"), "gridId")
            query = query.filter(grid_id=grid.id)
        if after:
            query = query.filter(id__gt=int(_decode_cursor(after)[1]))
        rows = await query.order_by("id").limit(size + 1)
        edges = [
            types.PersonEdge(cursor=_encode_cursor(p.created_at, p.id), node=types.Person.of(p, sighted=True))
            for p in rows[:size]
        ]
        return types.PersonConnection(
            edges=edges,
            page_info=types.PageInfo(
                has_next_page=len(rows) > size,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(description="One case by ID, within your jurisdiction.")
    async def case(self, info: Info, id: strawberry.ID) -> types.Case | None:
        row = await scoped_cases(actor_of(info)).get_or_none(id=pk_of(id, "Case", "id"))
        return types.Case.of(row) if row else None

    @strawberry.field(
        description=f"One case by its number (ZZ-..., at most {limits.CASE_NUMBER_MAX} characters), "
        "within your jurisdiction."
    )
    async def case_by_number(self, info: Info, number: str) -> types.Case | None:
        limits.check_text(number, "number", limits.CASE_NUMBER_MAX)
        row = await scoped_cases(actor_of(info)).get_or_none(number=number.strip())
        return types.Case.of(row) if row else None

    @strawberry.field(
        description="Cases in your jurisdiction as a Relay connection, newest first unless `orderBy` says "
        "otherwise (a cursor belongs to the order it was issued for)."
    )
    async def cases(
        self,
        info: Info,
        filter: CaseFilter | None = None,
        first: int = 20,
        after: str | None = None,
        order_by: Annotated[
            CaseOrder | None, strawberry.argument(description="The sort order (default: RECEIVED, DESC).")
        ] = None,
    ) -> types.CaseConnection:
        size = _page_size(info, first)
        actor = actor_of(info)
        query = await _filtered_cases(filter, actor)
        # Each part of the jurisdiction on its own, so every statement can use an index (an OR of
        # them is a sequential scan on PostgreSQL): the page is the newest ``size + 1`` of the
        # parts' newest ``size + 1`` each, and the total adds up each part less the parts before it.
        parts = await case_scope_parts(actor)
        if parts is None:
            parts = [ScopePart(Q(), Q())]

        async def count() -> int:
            return sum(await _count_parts(query, parts))

        # The count, the costliest statement of a large center's page, runs beside the page's.
        counting = None
        if _selects(info.selected_fields[0].selections, "totalCount"):
            counting = asyncio.ensure_future(count())
        try:
            if _is_default(order_by):
                rows = [
                    (c, _encode_cursor(c.created_at, c.id)) for c in await _newest(query, parts, size, after)
                ]
            else:
                rows = [
                    (c, _encode_sort_cursor(order_by, value, c.id))
                    for c, value in await _sorted_page(query, parts, size, after, order_by)
                ]
        except BaseException:
            if counting is not None:
                counting.cancel()
            raise
        edges = [types.CaseEdge(cursor=cursor, node=types.Case.of(c)) for c, cursor in rows[:size]]
        return types.CaseConnection(
            edges=edges,
            count=(lambda: counting) if counting is not None else count,
            page_info=types.PageInfo(
                has_next_page=len(rows) > size,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
