"""Run a compiled operation: one statement per root field, then one pass that shapes the answer.

Everything that could refuse the request (an ID of the wrong kind, a filter value the resolvers
refuse, a cursor of another order, a ``node`` ID of another type) is checked before anything is
written; it raises ``NotCompilable`` or a ``ServiceError``, and the request goes through the
resolvers, which answer it with their error. The reveal audit row is written last, as the
``RevealAudit`` extension does after a query.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from graphql import GraphQLSchema
from graphql.execution.values import get_argument_values
from tortoise import Tortoise

from zongzhi.platform import models
from zongzhi.platform.base import codes
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import resolve_ref, visible_ids
from zongzhi.platform.readpath import masking
from zongzhi.platform.readpath.catalogue import converter
from zongzhi.platform.readpath.compile import (
    POSTGRES,
    ObjectSQL,
    Params,
    Resolved,
    filter_predicates,
    inbox_predicates,
    queue_predicate,
    scope_parts,
    scope_predicate,
)
from zongzhi.platform.readpath.selection import NotCompilable, ObjectPlan, RootPlan
from zongzhi.platform.schema.ids import from_global_id, pk_of
from zongzhi.platform.schema.queries import (
    CaseOrderField,
    OrderDirection,
    _decode_cursor,
    _decode_sort_cursor,
    _encode_cursor,
    _encode_sort_cursor,
    _is_default,
)
from zongzhi.platform.schema.sanitise import check_value
from zongzhi.platform.services import queues
from zongzhi.platform.services.people import lookup_hash_for_id

_SORT_VALUE = {
    CaseOrderField.RECEIVED: converter(models.Case, "created_at"),
    CaseOrderField.LAST_ACTIVITY: converter(models.Case, "updated_at"),
    CaseOrderField.RESOLVE_BY: converter(models.Case, "resolve_by"),
    CaseOrderField.SEVERITY: lambda v: None if v is None else int(v),
    CaseOrderField.RISK: lambda v: None if v is None else int(v),
}


C_ID = 'c."id"'


def _queue_field(name: str, queue: queues.WorkQueue, count: int) -> Any:
    if name == "queue":
        return queue.name
    if name == "label":
        return queues.LABELS[queue]
    return count if name == "count" else "WorkQueueCount"


def risk_rank(c: str) -> str:
    """``schema.queries.RISK_RANK`` on the alias ``c``: none < low < medium < high."""
    whens = " ".join(f"WHEN '{r.value}' THEN {i}" for i, r in enumerate(codes.Risk))
    return f'CASE {c}."risk" {whens} ELSE 0 END'


# --- shaping -----------------------------------------------------------------------------------


_MISSING = object()
#: Answers remembered per repeating field of a plan (its distinct values seldom reach this).
_MEMO_MAX = 512


def shape(plan: ObjectPlan, raw: dict, sight: masking.Sight) -> dict:
    out: dict[str, Any] = {}
    for key, kind, a, b, c in plan.entries:
        if kind == "leaf":
            value = a(raw, sight)
            if value is None:
                out[key] = None
            elif c:
                out[key] = [b(v) for v in value]
            else:
                out[key] = b(value)
        elif kind == "repeating":  # a: the Leaf, b: its serialiser, c: answers by column value
            value = raw[a.columns[0]]
            answer = c.get(value, _MISSING)
            if answer is _MISSING:
                answer = a.value(raw, sight)
                answer = None if answer is None else b(answer)
                if len(c) < _MEMO_MAX:
                    c[value] = answer
            out[key] = answer
        elif kind == "typename":
            out[key] = a
        elif kind == "embedded":
            out[key] = shape(b, a(raw, sight), sight)
        elif kind == "embedded_many":
            out[key] = [shape(b, item, sight) for item in a(raw, sight)]
        elif kind == "one":
            child = raw[a]
            if child is not None and c:
                child.update({f"_{name}": raw[name] for name in c})
            out[key] = None if child is None else shape(b, child, sight)
        else:  # many
            items = raw[a]
            if c:
                for child in items:
                    child.update({f"_{name}": raw[name] for name in c})
            out[key] = [shape(b, child, sight) for child in items]
    return out


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


# --- statements --------------------------------------------------------------------------------


def case_object_sql(root: RootPlan, dialect: str, alias: str, sort_ref: str | None) -> str:
    """The JSON object of a case row as the root's selection needs it; built once per document."""
    key = (dialect, sort_ref)
    sql = root.object_sql.get(key)
    if sql is None:
        plan = root.case or ObjectPlan("Case")
        plan.need(("id",))
        extra = (("_sv", sort_ref),) if sort_ref else ()
        sql = root.object_sql[key] = ObjectSQL(dialect).object(plan, alias, extra)
    return sql


class Runner:
    def __init__(self, schema: GraphQLSchema, settings: Any, actor: Actor, variables: Any) -> None:
        self.schema = schema
        self.settings = settings
        self.actor = actor
        self.variables = variables
        self.conn = Tortoise.get_connection("default")
        self.dialect = POSTGRES if self.conn.capabilities.dialect == "postgres" else "sqlite"
        self.sight = masking.Sight(actor)

    def arguments(self, root: RootPlan) -> dict[str, Any]:
        query_type = self.schema.query_type
        args = get_argument_values(query_type.fields[root.name], root.node, self.variables)  # type: ignore[union-attr]
        for name, value in args.items():
            if value is not None:
                check_value(value, name)
        return args

    async def fetch(self, sql: str, values: list) -> Any:
        _, rows = await self.conn.execute_query(sql, values)
        return rows[0] if rows else None

    # ``case(id:)`` and ``node(id:)`` for a case ---------------------------------------------

    async def one_case(self, root: RootPlan) -> dict | None:
        args = self.arguments(root)
        if root.name == "case":
            pk = pk_of(args["id"], "Case", "id")
        else:
            type_name, pk = from_global_id(args["id"])
            if type_name != "Case":
                raise NotCompilable("node of another type")
        p = Params(self.dialect)
        obj = case_object_sql(root, self.dialect, "c", None)
        where = f'c."id" = {p.add(pk)} AND {scope_predicate(self.actor, p, "c")}'
        row = await self.fetch(f'SELECT {obj} AS "row" FROM "case" c WHERE {where}', p.values)
        return None if row is None else _json(row["row"])

    # ``cases`` --------------------------------------------------------------------------------

    async def resolve_filter(self, f: dict | None) -> Resolved:
        """The filter's IDs, resolved through the asker's jurisdiction as ``_filtered_cases`` does."""
        r = Resolved()
        if not f:
            return r
        if f.get("centerId"):
            pk = pk_of(f["centerId"], "Center", "filter.centerId")
            r.center_path = (await resolve_ref(self.actor, models.Center, pk, "filter.centerId")).path
        if f.get("gridId"):
            pk = pk_of(f["gridId"], "Grid", "filter.gridId")
            r.grid_id = (await resolve_ref(self.actor, models.Grid, pk, "filter.gridId")).id
        if f.get("assigneeUserId"):
            uid = pk_of(f["assigneeUserId"], "User", "filter.assigneeUserId")
            await resolve_ref(self.actor, models.User, uid, "filter.assigneeUserId")
            r.assignee_user_id = uid
        if f.get("assigneeDepartmentId"):
            did = pk_of(f["assigneeDepartmentId"], "Department", "filter.assigneeDepartmentId")
            await resolve_ref(self.actor, models.Department, did, "filter.assigneeDepartmentId")
            r.assignee_department_id = did
        if f.get("queue") is not None:
            r.queue = queue_predicate(self.actor, f["queue"])
        if f.get("partyIdNumber"):
            from zongzhi.platform.base import limits

            limits.check_text(f["partyIdNumber"], "filter.partyIdNumber", limits.SEARCH_MAX)
            r.party_hash = lookup_hash_for_id(f["partyIdNumber"].strip())
        return r

    async def case_list(self, root: RootPlan) -> tuple[list[tuple[dict, str]], bool, int | None, bool]:
        args = self.arguments(root)
        first, after = args["first"], args.get("after")
        cap = self.settings.page_size_max
        if not 1 <= first <= cap:
            raise NotCompilable("first out of range")
        f = args.get("filter")
        order = args.get("orderBy")
        order_ns = (
            None if order is None else SimpleNamespace(field=order["field"], direction=order["direction"])
        )
        default = _is_default(order_ns)
        if default:
            field, desc = CaseOrderField.RECEIVED, True
        else:
            field, desc = order_ns.field, order_ns.direction is OrderDirection.DESC  # type: ignore[union-attr]
        cursor = None
        if after:
            cursor = _decode_cursor(after) if default else _decode_sort_cursor(after, order_ns)
        resolved = await self.resolve_filter(f)
        d = self.dialect
        direction = "DESC" if desc else "ASC"
        cmp = "<" if desc else ">"

        def sort_expr(c: str) -> str:
            if field is CaseOrderField.RISK:
                return risk_rank(c)
            return f'{c}."{field.value}"'

        def keyset(p: Params, c: str) -> list[str]:
            if cursor is None:
                return []
            value, pk = cursor
            sv = sort_expr(c)
            if default:
                s = p.add(value)
                later = f'({sv} < {p.add(value)} OR ({sv} = {p.add(value)} AND {c}."id" < {p.add(pk)}))'
                return [f"{sv} <= {s}", later]
            if value is None:
                return [f"{sv} IS NULL", f'{c}."id" {cmp} {p.add(pk)}']
            dated = (
                f"{sv} IS NOT NULL AND ({sv} {cmp} {p.add(value)} "
                f'OR ({sv} = {p.add(value)} AND {c}."id" {cmp} {p.add(pk)}))'
            )
            if field is CaseOrderField.RESOLVE_BY:
                return [f"(({dated}) OR {sv} IS NULL)"]
            return [f"({dated})"]

        nulls = " NULLS LAST" if field is CaseOrderField.RESOLVE_BY else ""

        def order_by(sv: str, id_ref: str) -> str:
            return f"{sv} {direction}{nulls}, {id_ref} {direction}"

        parts = scope_parts(self.actor)
        p = Params(d)
        size = first + 1

        def part_select(part) -> str:
            preds = filter_predicates(f, resolved, p, "c")
            if part is not None:
                preds.append(part(p, "c"))
            preds += keyset(p, "c")
            where = " AND ".join(preds) or "1 = 1"
            sv = sort_expr("c")
            ordering = order_by(sv, C_ID)
            select = f'SELECT c."id" AS "id", {sv} AS "sv" FROM "case" c WHERE {where}'
            return f"{select} ORDER BY {ordering} LIMIT {p.add(size)}"

        branches = [None] if parts is None else list(parts)
        if branches:
            union = " UNION ".join(
                f'SELECT u{i}."id", u{i}."sv" FROM ({part_select(b)}) u{i}' for i, b in enumerate(branches)
            )
            ordering = order_by('k."sv"', 'k."id"')
            page = f'WITH page AS (SELECT k."id", k."sv" FROM ({union}) k '
            page += f"ORDER BY {ordering} LIMIT {p.add(size)}) "
        else:
            page = 'WITH page AS (SELECT c."id", c."created_at" AS "sv" FROM "case" c WHERE 1 = 0) '
        ordering = order_by('p."sv"', 'p."id"')
        if d == POSTGRES:
            obj = case_object_sql(root, d, "c", 'p."sv"')
            rows = (
                f"(SELECT coalesce(json_agg({obj} ORDER BY {ordering}), '[]'::json) "
                f'FROM page p JOIN "case" c ON c."id" = p."id")'
            )
        else:
            obj = case_object_sql(root, d, "c", 'c."_sv_"')
            rows = (
                f'json((SELECT json_group_array({obj}) FROM (SELECT cc.*, p."sv" AS "_sv_" FROM page p '
                f'JOIN "case" cc ON cc."id" = p."id" ORDER BY {ordering}) c))'
            )
        total = self.count_sql(f, resolved, p) if root.total else "NULL"
        row = await self.fetch(f'{page}SELECT {rows} AS "rows", {total} AS "total"', p.values)
        raw_rows = _json(row["rows"]) if row is not None else []
        convert = _SORT_VALUE[field]
        edges = []
        for raw in raw_rows[:first]:
            value = convert(raw["_sv"])
            if default:
                cursor_text = _encode_cursor(value, raw["id"])
            else:
                cursor_text = _encode_sort_cursor(order_ns, value, raw["id"])
            edges.append((raw, cursor_text))
        count = int(row["total"]) if root.total and row is not None else None
        return edges, len(raw_rows) > first, count, after is not None

    def count_sql(self, f: dict | None, resolved: Resolved, p: Params) -> str:
        """How many cases the list with this filter holds in all: ``totalCount``, a queue's count."""
        parts = scope_parts(self.actor)
        if parts is None:
            preds = filter_predicates(f, resolved, p, "c")
            return f'(SELECT count(*) FROM "case" c WHERE {" AND ".join(preds) or "1 = 1"})'
        if not parts:
            return "0"
        ids = []
        for part in parts:
            preds = filter_predicates(f, resolved, p, "c")
            preds.append(part(p, "c"))
            ids.append(f'SELECT c."id" FROM "case" c WHERE {" AND ".join(preds)}')
        return f"(SELECT count(*) FROM ({' UNION '.join(ids)}) n)"

    # ``workQueues`` ---------------------------------------------------------------------------

    async def work_queues(self) -> list[tuple[queues.WorkQueue, int]]:
        """Every queue's count in one statement (the resolvers count one queue at a time)."""
        p = Params(self.dialect)
        counts = [
            self.count_sql({"queue": q}, Resolved(queue=queue_predicate(self.actor, q)), p)
            for q in queues.WorkQueue
        ]
        row = await self.fetch(
            "SELECT " + ", ".join(f'{c} AS "q{i}"' for i, c in enumerate(counts)), p.values
        )
        return [(q, int(row[f"q{i}"])) for i, q in enumerate(queues.WorkQueue)]

    # the inbox ------------------------------------------------------------------------------

    async def notification_list(
        self, root: RootPlan
    ) -> tuple[list[tuple[dict, str]], bool, int | None, bool]:
        """``notifications``: a page of the inbox, newest first, and its total."""
        from zongzhi.platform.schema.workspace import _after, _cursor

        args = self.arguments(root)
        first, after, unread = args["first"], args.get("after"), args["unread"]
        if not 1 <= first <= self.settings.page_size_max:
            raise NotCompilable("first out of range")
        before = _after(after) if after else None
        d = self.dialect
        p = Params(d)
        if (d, None) not in root.object_sql:
            root.object_sql[(d, None)] = ObjectSQL(d).object(root.case, "n")  # type: ignore[arg-type]
        obj = root.object_sql[(d, None)]
        preds = inbox_predicates(self.actor, unread, p, "n")
        if before is not None:
            preds.append(f'n."id" < {p.add(before)}')
        source = (
            f'FROM "notification" n WHERE {" AND ".join(preds)} ORDER BY n."id" DESC LIMIT {p.add(first + 1)}'
        )
        if d == POSTGRES:
            rows = f"(SELECT coalesce(json_agg(o), '[]'::json) FROM (SELECT {obj} AS o {source}) page)"
        else:
            rows = f"json((SELECT json_group_array(json(o)) FROM (SELECT {obj} AS o {source})))"
        total = "NULL"
        if root.total:
            everything = " AND ".join(inbox_predicates(self.actor, unread, p, "n"))
            total = f'(SELECT count(*) FROM "notification" n WHERE {everything})'
        row = await self.fetch(f'SELECT {rows} AS "rows", {total} AS "total"', p.values)
        raw_rows = _json(row["rows"])
        edges = [(raw, _cursor(int(raw["id"]))) for raw in raw_rows[:first]]
        count = int(row["total"]) if root.total else None
        return edges, len(raw_rows) > first, count, after is not None

    async def unread_count(self) -> int:
        p = Params(self.dialect)
        preds = inbox_predicates(self.actor, True, p, "n")
        row = await self.fetch(
            f'SELECT count(*) AS "n" FROM "notification" n WHERE {" AND ".join(preds)}', p.values
        )
        return int(row["n"])

    # the answer -------------------------------------------------------------------------------

    async def run(self, roots: list) -> tuple[dict, set[int]]:
        fetched = []
        for root in roots:
            if isinstance(root, tuple):
                fetched.append(None)
            elif root.name == "cases":
                fetched.append(await self.case_list(root))
            elif root.name == "workQueues":
                fetched.append(await self.work_queues())
            elif root.name == "notifications":
                fetched.append(await self.notification_list(root))
            elif root.name == "unreadNotificationCount":
                fetched.append(await self.unread_count())
            else:
                fetched.append(await self.one_case(root))
        blind: set[int] = set()
        for root, got in zip(roots, fetched, strict=True):
            if isinstance(root, tuple) or root.case is None or not root.case.has_person or got is None:
                continue
            listed = root.name in ("cases", "notifications")
            for raw in [edge for edge, _cursor in got[0]] if listed else [got]:
                masking.blind_people(root.case, raw, blind)
        if blind:
            self.sight.blind_seen = await visible_ids(self.actor, models.Person, sorted(blind))
        data: dict[str, Any] = {}
        for root, got in zip(roots, fetched, strict=True):
            if isinstance(root, tuple):
                data[root[0]] = root[1]
            elif root.name in ("cases", "notifications"):
                data[root.key] = self.connection(root, *got)
            elif root.name == "unreadNotificationCount":
                data[root.key] = got
            elif root.name == "workQueues":
                data[root.key] = [
                    {key: _queue_field(name, q, n) for key, name in root.connection or []} for q, n in got
                ]
            else:
                data[root.key] = None if got is None else shape(root.case, got, self.sight)  # type: ignore[arg-type]
        return data, self.sight.revealed

    def connection(
        self, root: RootPlan, edges, has_next: bool, total: int | None, has_previous: bool
    ) -> dict:
        out: dict[str, Any] = {}
        for key, kind, a, _b in root.connection or []:
            if kind == "typename":
                out[key] = a
            elif kind == "totalCount":
                out[key] = total
            elif kind == "pageInfo":
                info = {
                    "hasNextPage": has_next,
                    "hasPreviousPage": has_previous,
                    "startCursor": edges[0][1] if edges else None,
                    "endCursor": edges[-1][1] if edges else None,
                }
                out[key] = {k: ("PageInfo" if name == "__typename" else info[name]) for k, name in a}
            else:  # edges
                shaped = []
                for raw, cursor in edges:
                    edge: dict[str, Any] = {}
                    for entry in a:
                        if entry[1] == "typename":
                            edge[entry[0]] = entry[2]
                        elif entry[1] == "cursor":
                            edge[entry[0]] = cursor
                        else:
                            edge[entry[0]] = shape(entry[2], raw, self.sight)
                    shaped.append(edge)
                out[key] = shaped
        return out
