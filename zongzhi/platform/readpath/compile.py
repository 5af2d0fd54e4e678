"""A plan and its arguments → one SQL statement for PostgreSQL or SQLite.

The JSON built for each object holds the columns its fields read and, under ``_<response key>``,
each selected relation: a correlated subquery per relation (``json_build_object``/``json_agg`` on
PostgreSQL; ``json_object``/``json_group_array`` on SQLite, wrapped in ``json()`` so the nested
value stays JSON). The object expressions depend only on the document and are cached with it;
the predicates (filters, jurisdiction, keyset) are added per request with bound parameters.

The jurisdiction is ``jurisdiction._parts`` as SQL, part for part: the center subtree (its
centers' paths), the cases assigned to the actor's department or summoned it by a whistle, those
assigned to or filed by the actor, and those in a grid worker's grids. As in ``schema.queries``,
each part of the case list is its own indexed subquery and the page is the first of their union.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from zongzhi.platform.base import codes, limits
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import is_partner
from zongzhi.platform.readpath.catalogue import COMPUTED, DECIMAL_COLUMNS, JSON_COLUMNS, TYPES
from zongzhi.platform.readpath.selection import NotCompilable, ObjectPlan

POSTGRES = "postgres"
SQLITE = "sqlite"


@dataclass
class Params:
    dialect: str
    values: list[Any] = field(default_factory=list)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.dialect == POSTGRES else "?"

    def any_of(self, column: str, values: list, pg_type: str = "text") -> str:
        """``column`` equal to one of ``values``: one array parameter on PostgreSQL (a stable text)."""
        if self.dialect == POSTGRES:
            return f"{column} = ANY({self.add(list(values))}::{pg_type}[])"
        return f"{column} IN ({', '.join(self.add(v) for v in values)})"


class ObjectSQL:
    """The JSON object expressions of a plan, with fresh table aliases for every subquery."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.count = 0

    def alias(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def _column(self, alias: str, column: str) -> str:
        if column in COMPUTED:
            return COMPUTED[column][self.dialect].format(o=alias)
        ref = f'{alias}."{column}"'
        if column in DECIMAL_COLUMNS:
            return f"CAST({ref} AS TEXT)"
        if column in JSON_COLUMNS and self.dialect == SQLITE:
            return f"json({ref})"
        return ref

    def build(self, pairs: list[tuple[str, str]]) -> str:
        fn = "json_build_object" if self.dialect == POSTGRES else "json_object"
        body = ", ".join(f"'{k}', {v}" for k, v in pairs)
        return f"{fn}({body})"

    def object(
        self,
        plan: ObjectPlan,
        alias: str,
        extra: tuple[tuple[str, str], ...] = (),
        joined: dict[str, str] | None = None,
    ) -> str:
        pairs = [(c, self._column(alias, c)) for c in plan.columns]
        for key, relation, child in plan.relations:
            if joined and key in joined:
                pairs.append((key, self.object(child, joined[key])))
            else:
                pairs.append((key, self.relation(relation, child, alias)))
        pairs.extend(extra)
        return self.build(pairs)

    def relation(self, relation, child: ObjectPlan, outer: str) -> str:
        inner = self.alias()
        table = TYPES[relation.target].table
        link = relation.link.format(o=outer, i=inner)
        if not relation.many:
            sub = f'(SELECT {self.object(child, inner)} FROM "{table}" {inner} WHERE {link})'
            return sub if self.dialect == POSTGRES else f"json({sub})"
        # A list's rows come with the row each of them points to (a party with its person) joined
        # in the same subquery.
        joins, joined = [], {}
        for key, rel, _grandchild in child.relations:
            if rel.joined:
                a = self.alias()
                joins.append(f'JOIN "{TYPES[rel.target].table}" {a} ON {rel.link.format(o=inner, i=a)}')
                joined[key] = a
        body = self.object(child, inner, joined=joined)
        source = f'"{table}" {inner} {" ".join(joins)}'.rstrip()
        order = relation.order.format(i=inner)
        if self.dialect == POSTGRES:
            return (
                f"(SELECT coalesce(json_agg({body} ORDER BY {order}), '[]'::json) FROM {source} WHERE {link})"
            )
        rows = self.alias()
        return (
            f"json((SELECT json_group_array(json({rows}.o)) FROM "
            f"(SELECT {body} AS o FROM {source} WHERE {link} ORDER BY {order}) {rows}))"
        )


# --- the cases the asker may see -------------------------------------------------------------


Part = Callable[[Params, str], str]


def subtree(p: Params, c: str, prefix: str) -> str:
    """The cases of the centers whose path starts with ``prefix``. On PostgreSQL the paths are
    one array computed once (an InitPlan), so each part is still an ordered scan of one index, as
    the resolvers' list of paths is; a join with ``center`` would read and sort the whole subtree."""
    paths = f'SELECT "path" FROM "center" WHERE "path" LIKE {p.add(prefix)}'
    if p.dialect == POSTGRES:
        return f'{c}."center_path" = ANY(ARRAY({paths}))'
    return f'{c}."center_path" IN ({paths})'


def scope_parts(actor: Actor) -> list[Part] | None:
    """``jurisdiction._parts`` as SQL builders on a case alias; ``None``: every case (system).

    Builders, not text: on SQLite the parameters are positional, so each use adds its own."""
    if actor.system:
        return None
    parts: list[Part] = []
    if is_partner(actor):
        return parts
    if actor.center_path:
        prefix = actor.center_path + "%"
        parts.append(lambda p, c: subtree(p, c, prefix))
    if (department := actor.department_id) is not None:
        parts.append(
            lambda p, c: (
                f'{c}."id" IN (SELECT "case_id" FROM "assignment" WHERE "department_id" = '
                f"{p.add(department)})"
            )
        )
        parts.append(
            lambda p, c: (
                f'{c}."id" IN (SELECT "case_id" FROM "whistle" WHERE "department_id" = {p.add(department)})'
            )
        )
    if (user := actor.user_id) is not None:
        parts.append(
            lambda p, c: f'{c}."id" IN (SELECT "case_id" FROM "assignment" WHERE "user_id" = {p.add(user)})'
        )
        parts.append(lambda p, c: f'{c}."created_by_id" = {p.add(user)}')
    if actor.grid_ids:
        grids = sorted(actor.grid_ids)
        parts.append(lambda p, c: p.any_of(f'{c}."grid_id"', grids, "int"))
    return parts


def scope_predicate(actor: Actor, p: Params, c: str) -> str:
    parts = scope_parts(actor)
    if parts is None:
        return "1 = 1"
    return "(" + " OR ".join(part(p, c) for part in parts) + ")" if parts else "1 = 0"


# --- the inbox ---------------------------------------------------------------------------------


def inbox_predicates(actor: Actor, unread: bool, p: Params, n: str) -> list[str]:
    """``services.inbox.inbox_of`` (and ``unread``) on the notification alias ``n``: to the asker or
    their role at their center, about no case or a case they can see."""
    if actor.user_id is None:
        return ["1 = 0"]
    to = [f'{n}."user_id" = {p.add(actor.user_id)}']
    if actor.center_id and actor.roles:
        role = f'{n}."role"'
        to.append(f'({n}."center_id" = {p.add(actor.center_id)} AND {p.any_of(role, sorted(actor.roles))})')
    seen = (
        f'EXISTS (SELECT 1 FROM "case" c WHERE c."id" = {n}."case_id" AND {scope_predicate(actor, p, "c")})'
    )
    preds = ["(" + " OR ".join(to) + ")", f'({n}."case_id" IS NULL OR {seen})']
    if unread:
        mine = p.add(actor.user_id)
        read = f'SELECT "notification_id" FROM "notification_read" WHERE "user_id" = {p.add(actor.user_id)}'
        preds.append(
            f'(({n}."user_id" = {mine} AND {n}."read_at" IS NULL) OR '
            f'({n}."user_id" IS NULL AND {n}."id" NOT IN ({read})))'
        )
    return preds


# --- the case list's filter --------------------------------------------------------------------


@dataclass
class Resolved:
    """What the filter's IDs resolved to (read through the asker's jurisdiction beforehand)."""

    center_path: str | None = None
    grid_id: int | None = None
    assignee_user_id: int | None = None
    assignee_department_id: int | None = None
    party_hash: str | None = None
    #: The work queue's predicate, for the asker (``services.queues.queue_q`` as SQL).
    queue: Part | None = None


def _open_assignments(column: str, value: int) -> Part:
    return lambda p, c: (
        f'{c}."id" IN (SELECT "case_id" FROM "assignment" WHERE "returned_at" IS NULL '
        f'AND "finished_at" IS NULL AND "{column}" = {p.add(value)})'
    )


def queue_predicate(actor: Actor, queue: Any) -> Part:
    """``services.queues.queue_q`` as SQL, branch for branch (the jurisdiction is added apart)."""
    from zongzhi.platform.services import queues

    q = queues.WorkQueue(getattr(queue, "value", queue))
    nothing: Part = lambda p, c: "1 = 0"  # noqa: E731
    if q is queues.WorkQueue.MINE:
        return _open_assignments("user_id", actor.user_id) if actor.user_id else nothing
    if q is queues.WorkQueue.DEPARTMENT:
        return _open_assignments("department_id", actor.department_id) if actor.department_id else nothing
    if q is queues.WorkQueue.WHISTLES:
        if not actor.department_id:
            return nothing
        department = actor.department_id
        return lambda p, c: (
            f'{c}."id" IN (SELECT "case_id" FROM "whistle" WHERE "department_id" = {p.add(department)} '
            f'AND "answered_at" IS NULL)'
        )
    _, roles = queues.DECISIONS[q]
    if not actor.has(*roles):
        return nothing
    statuses = [str(getattr(s, "value", s)) for s in queues.WAITING[q]]
    if actor.center_id and actor.has(*queues.CENTER_STAFF):
        center = actor.center_id
        among: Part = lambda p, c: f'{c}."center_id" = {p.add(center)}'  # noqa: E731
    elif actor.grid_ids:
        grids = sorted(actor.grid_ids)
        among = lambda p, c: p.any_of(f'{c}."grid_id"', grids, "int")  # noqa: E731
    elif actor.user_id:
        user = actor.user_id
        among = lambda p, c: (  # noqa: E731
            f'{c}."id" IN (SELECT "case_id" FROM "assignment" WHERE "user_id" = {p.add(user)})'
        )
    else:
        return nothing

    def waiting(p: Params, c: str) -> str:
        status = f'{c}."status"'
        return f"{p.any_of(status, statuses)} AND {among(p, c)}"

    return waiting


def filter_predicates(f: dict | None, resolved: Resolved, p: Params, c: str) -> list[str]:
    """``schema.queries._filtered_cases`` as SQL; a value it would refuse raises ``NotCompilable``
    (the resolvers then give the error)."""
    if not f:
        return []
    out: list[str] = []
    for name, known in (("channel", codes.CHANNELS), ("category", codes.CATEGORIES), ("kind", codes.KINDS)):
        values = f.get(name)
        if values:
            if any(v not in known for v in values):
                raise NotCompilable(f"unknown {name}")
            out.append(p.any_of(f'{c}."{name}"', list(values)))
    if f.get("status"):
        out.append(p.any_of(f'{c}."status"', [codes.CaseStatus(s).value for s in f["status"]]))
    if f.get("risk"):
        out.append(p.any_of(f'{c}."risk"', [codes.Risk(r).value for r in f["risk"]]))
    if resolved.center_path is not None:
        out.append(subtree(p, c, resolved.center_path + "%"))
    if resolved.grid_id is not None:
        out.append(f'{c}."grid_id" = {p.add(resolved.grid_id)}')
    for key, column, op in (
        ("createdFrom", "created_at", ">="),
        ("createdTo", "created_at", "<"),
        ("resolveByFrom", "resolve_by", ">="),
        ("resolveByTo", "resolve_by", "<"),
        ("concludedFrom", "concluded_at", ">="),
        ("concludedTo", "concluded_at", "<"),
    ):
        if f.get(key):
            out.append(f'{c}."{column}" {op} {p.add(limits.check_datetime(f[key], f"filter.{key}"))}')
    if f.get("overdue") is not None:
        from zongzhi.platform.services.lifecycle import OPEN

        statuses = p.any_of(f'{c}."status"', sorted(s.value for s in OPEN))
        late = f'({statuses} AND {c}."resolve_by" < {p.add(datetime.now(UTC))})'
        out.append(late if f["overdue"] else f"NOT {late}")
    if resolved.assignee_user_id is not None:
        uid = p.add(resolved.assignee_user_id)
        out.append(f'{c}."id" IN (SELECT "case_id" FROM "assignment" WHERE "user_id" = {uid})')
    if resolved.assignee_department_id is not None:
        did = p.add(resolved.assignee_department_id)
        out.append(f'{c}."id" IN (SELECT "case_id" FROM "assignment" WHERE "department_id" = {did})')
    if f.get("tag"):
        tag = limits.check_text(f["tag"], "filter.tag", limits.TAG_MAX, required=True).strip()
        if p.dialect == POSTGRES:
            out.append(f'{c}."tags" @> {p.add(json.dumps([tag]))}::jsonb')
        else:
            out.append(f'EXISTS (SELECT 1 FROM json_each({c}."tags") WHERE json_each.value = {p.add(tag)})')
    if resolved.party_hash is not None:
        h, blind = p.add(resolved.party_hash), p.add(False)
        out.append(
            f'{c}."id" IN (SELECT cp."case_id" FROM "case_party" cp '
            f'JOIN "person" pp ON pp."id" = cp."person_id" '
            f'WHERE pp."id_number_hash" = {h} AND cp."blind" = {blind})'
        )
    if f.get("externalId"):
        external = limits.check_text(f["externalId"], "filter.externalId", 80).strip()
        out.append(f'{c}."external_id" = {p.add(external)}')
    if resolved.queue is not None:
        out.append(f"({resolved.queue(p, c)})")
    if f.get("text"):
        t = limits.check_text(f["text"], "filter.text", limits.SEARCH_MAX).strip()
        pattern = "%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # In the order of the text: SQLite's parameters are positional.
        like = [f'{c}."number" = {p.add(t)}'] if len(t) <= limits.CASE_NUMBER_MAX else []
        like += [
            f"UPPER(CAST({c}.\"{col}\" AS VARCHAR)) LIKE UPPER({p.add(pattern)}) ESCAPE '\\'"
            for col in ("title", "description")
        ]
        out.append("(" + " OR ".join(like) + ")")
    return out
