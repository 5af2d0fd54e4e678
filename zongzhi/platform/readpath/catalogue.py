"""What the compiled path can answer: per GraphQL type, its table, and per field the columns it reads
and the Python value its resolver in ``schema.types`` returns (serialised afterwards by the schema's
own leaf types, so enum names and scalar formats follow the schema wherever they change).

A field not listed here is outside the compiled subset: the document goes through the resolvers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from tortoise.fields import BooleanField, DatetimeField, SmallIntField
from tortoise.fields.data import CharEnumFieldInstance, IntEnumFieldInstance
from tortoise.models import Model
from tortoise.timezone import get_default_timezone, get_use_tz

from zongzhi.platform import models
from zongzhi.platform.base import codes
from zongzhi.platform.readpath import masking
from zongzhi.platform.schema.ids import to_global_id

Value = Callable[[dict, Any], Any]


@dataclass(frozen=True)
class Leaf:
    """A field whose value comes from its object's own columns.

    ``repeats``: the answer is a function of one column alone (not of who asks) whose values recur
    from row to row (a status, a center's name): its serialised answer is remembered per value.
    """

    columns: tuple[str, ...]
    value: Value
    repeats: bool = False


@dataclass(frozen=True)
class Relation:
    """Another table's row (or rows) linked to this one, read by a correlated subquery."""

    target: str  # the GraphQL type
    table: str
    link: str  # SQL with {o} for the outer row's alias and {i} for the inner one
    columns: tuple[str, ...]  # the outer row's columns the link or the shaping needs
    many: bool = False
    order: str = '{i}."id"'
    carry: tuple[str, ...] = ()  # outer columns handed down to the inner row as ``_<name>``
    joined: bool = False  # joined into its parent list's subquery (a one-to-one link, never null)


@dataclass(frozen=True)
class Embedded:
    """An object made of its parent's own columns (``Code``, ``Location``, ``Deadlines``), or with
    ``many`` a list of them (``allowedActions``)."""

    target: str
    columns: tuple[str, ...]
    make: Value
    many: bool = False


@dataclass(frozen=True)
class TypeSpec:
    table: str
    model: type[Model] | None
    fields: dict[str, Leaf | Relation | Embedded]


def converter(model: type[Model], column: str) -> Callable[[Any], Any]:
    field = model._meta.fields_map[column]
    if isinstance(field, DatetimeField):
        return _datetime_of(field.to_python_value)
    return field.to_python_value


def _datetime_of(slow: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``DatetimeField.to_python_value`` for the ISO texts the statement returns, by the standard
    library's C parser (tortoise's took a tenth of a page's time); any other form goes to tortoise."""

    def convert(value: Any) -> Any:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return slow(value)
        if parsed.tzinfo is None or not get_use_tz():
            return slow(value)
        return parsed.astimezone(get_default_timezone())

    return convert


#: Text columns whose values recur on a page (the names of centers, grids and departments, codes).
REPEATING = frozenset({"name", "code", "kind", "level", "role", "type", "unit_kind", "method"})


def col(model: type[Model], column: str) -> Leaf:
    convert = converter(model, column)
    field = model._meta.fields_map[column]
    repeats = isinstance(field, CharEnumFieldInstance | IntEnumFieldInstance | BooleanField | SmallIntField)
    return Leaf((column,), lambda r, _c: convert(r[column]), repeats or column in REPEATING)


def global_id(type_name: str) -> Leaf:
    return Leaf(("id",), lambda r, _c: to_global_id(type_name, r["id"]))


def label(model: type[Model], column: str, enum: type[codes.LabelledEnum]) -> Leaf:
    convert = converter(model, column)
    return Leaf((column,), lambda r, _c: enum(convert(r[column])).label, repeats=True)


def code(column: str, code_list: codes.CodeList) -> Embedded:
    return Embedded("Code", (column,), lambda r, _c: {"code": r[column], "label": code_list.label(r[column])})


def _deadlines(r: dict, _c: Any) -> dict:
    from zongzhi.platform.services.lifecycle import OPEN

    convert = converter(models.Case, "resolve_by")
    resolve_by = convert(r["resolve_by"])
    status = converter(models.Case, "status")(r["status"])
    overdue = bool(resolve_by and status in OPEN and resolve_by < datetime.now(resolve_by.tzinfo))
    return {
        "respond_by": converter(models.Case, "respond_by")(r["respond_by"]),
        "resolve_by": resolve_by,
        "overdue": overdue,
    }


#: Columns computed by a correlated subquery on the row ``{o}``: what ``allowedActions`` decides
#: from besides the case's own columns (its open assignments with their centers' paths, and the
#: departments an open whistle summons), as ``[user, department, center, center path]`` lists.
COMPUTED = {
    "_active": {
        "postgres": (
            "(SELECT coalesce(json_agg(json_build_array(a.user_id, a.department_id, a.center_id, ac.path)"
            " ORDER BY a.id), '[]'::json) FROM assignment a LEFT JOIN center ac ON ac.id = a.center_id"
            ' WHERE a.case_id = {o}."id" AND a.returned_at IS NULL AND a.finished_at IS NULL)'
        ),
        "sqlite": (
            "json((SELECT json_group_array(json_array(a.user_id, a.department_id, a.center_id, ac.path))"
            " FROM assignment a LEFT JOIN center ac ON ac.id = a.center_id"
            ' WHERE a.case_id = {o}."id" AND a.returned_at IS NULL AND a.finished_at IS NULL))'
        ),
    },
    "_readers": {
        "postgres": (
            "(SELECT coalesce(json_agg(nr.user_id), '[]'::json) FROM notification_read nr"
            ' WHERE nr.notification_id = {o}."id")'
        ),
        "sqlite": (
            "json((SELECT json_group_array(nr.user_id) FROM notification_read nr"
            ' WHERE nr.notification_id = {o}."id"))'
        ),
    },
    "_summoning": {
        "postgres": (
            "(SELECT coalesce(json_agg(w.department_id), '[]'::json) FROM whistle w"
            ' WHERE w.case_id = {o}."id" AND w.answered_at IS NULL)'
        ),
        "sqlite": (
            "json((SELECT json_group_array(w.department_id) FROM whistle w"
            ' WHERE w.case_id = {o}."id" AND w.answered_at IS NULL))'
        ),
    },
}


def _allowed_actions(r: dict, sight: Any) -> list[dict]:
    """``services.allowed.decide`` on what the statement read (the resolver loads the same rows)."""
    from zongzhi.platform.services.allowed import LABELS, MUTATIONS, decide

    actor = sight.actor
    active, paths = [], {}
    for user_id, department_id, center_id, path in _json_value(r["_active"]):
        active.append(SimpleNamespace(user_id=user_id, department_id=department_id, center_id=center_id))
        if center_id is not None and path is not None:
            paths[center_id] = path
    summoned = actor.department_id is not None and actor.department_id in _json_value(r["_summoning"])
    case = SimpleNamespace(
        id=r["id"], status=converter(C, "status")(r["status"]), center_path=r["center_path"]
    )
    return [
        {
            "step": a.step,
            "label": LABELS[a.step],
            "mutation": MUTATIONS[a.step],
            "allowed": a.allowed,
            "reason": a.reason,
        }
        for a in decide(actor, case, active, paths, summoned)  # type: ignore[arg-type]
    ]


def _read(r: dict, sight: Any) -> bool:
    """Read by its user, or (sent to a role) by the asker: ``schema.workspace._notifications``."""
    if r["user_id"] is not None:
        return r["read_at"] is not None
    return sight.actor.user_id in _json_value(r["_readers"])


def _kind_label(kind: str) -> str:
    from zongzhi.platform.services.inbox import KINDS

    return KINDS.get(kind, kind)


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _plain(*names: str) -> dict[str, Leaf]:
    return {n: Leaf((n,), lambda r, _c, n=n: r[n]) for n in names}


def _columns(model: type[Model], **graphql_to_column: str) -> dict[str, Leaf]:
    return {name: col(model, column) for name, column in graphql_to_column.items()}


C = models.Case
CASE_COLUMNS = _columns(
    C,
    number="number",
    title="title",
    description="description",
    severity="severity",
    complexity="complexity",
    risk="risk",
    status="status",
    tags="tags",
    outcome="outcome",
    agreement="agreement",
    amount="amount",
    satisfaction="satisfaction",
    executed="executed",
    rejectReason="reject_reason",
    createdAt="created_at",
    updatedAt="updated_at",
    acceptedAt="accepted_at",
    concludedAt="concluded_at",
    closedAt="closed_at",
    externalId="external_id",
    followupDue="followup_due",
    deadlineNote="deadline_note",
)

TYPES: dict[str, TypeSpec] = {
    "Case": TypeSpec(
        "case",
        C,
        {
            "id": global_id("Case"),
            **CASE_COLUMNS,
            "statusLabel": label(C, "status", codes.CaseStatus),
            "riskLabel": label(C, "risk", codes.Risk),
            "category": code("category", codes.CATEGORIES),
            "kind": code("kind", codes.KINDS),
            "channel": code("channel", codes.CHANNELS),
            "location": Embedded(
                "Location",
                ("lat", "lng", "address"),
                lambda r, _c: {
                    "lat": converter(C, "lat")(r["lat"]),
                    "lng": converter(C, "lng")(r["lng"]),
                    "address": r["address"],
                },
            ),
            "deadlines": Embedded("Deadlines", ("respond_by", "resolve_by", "status"), _deadlines),
            "allowedActions": Embedded(
                "AllowedAction",
                ("id", "status", "center_path", "_active", "_summoning"),
                _allowed_actions,
                many=True,
            ),
            "center": Relation("Center", "center", '{i}."id" = {o}."center_id"', ("center_id",)),
            "grid": Relation("Grid", "grid", '{i}."id" = {o}."grid_id"', ("grid_id",)),
            "lastEvent": Relation(
                "CaseEvent", "case_event", '{i}."id" = {o}."last_event_id"', ("last_event_id",)
            ),
            "parties": Relation(
                "CaseParty",
                "case_party",
                '{i}."case_id" = {o}."id"',
                ("id",),
                many=True,
            ),
            "assignments": Relation(
                "Assignment", "assignment", '{i}."case_id" = {o}."id"', ("id",), many=True
            ),
            "timeline": Relation("CaseEvent", "case_event", '{i}."case_id" = {o}."id"', ("id",), many=True),
            "followups": Relation("FollowUp", "follow_up", '{i}."case_id" = {o}."id"', ("id",), many=True),
            "whistles": Relation("Whistle", "whistle", '{i}."case_id" = {o}."id"', ("id",), many=True),
        },
    ),
    "Notification": TypeSpec(
        "notification",
        models.Notification,
        {
            "id": global_id("Notification"),
            **_columns(models.Notification, kind="kind", message="message", createdAt="created_at"),
            "kindLabel": Leaf(("kind",), lambda r, _c: _kind_label(r["kind"])),
            "read": Leaf(("user_id", "read_at", "_readers"), _read),
            "toRole": Leaf(("user_id", "role"), lambda r, _c: r["role"] if r["user_id"] is None else None),
            # The inbox lists only notifications about cases the asker sees: no check needed here.
            "case": Relation("Case", "case", '{i}."id" = {o}."case_id"', ("case_id",)),
        },
    ),
    "FollowUp": TypeSpec(
        "follow_up",
        models.FollowUp,
        _columns(
            models.FollowUp,
            method="method",
            satisfaction="satisfaction",
            executed="executed",
            note="note",
            at="at",
        ),
    ),
    "Whistle": TypeSpec(
        "whistle",
        models.Whistle,
        {
            "id": global_id("Whistle"),
            **_columns(models.Whistle, due="due", answeredAt="answered_at", answer="answer"),
            "department": Relation(
                "Department", "department", '{i}."id" = {o}."department_id"', ("department_id",)
            ),
        },
    ),
    "Center": TypeSpec(
        "center",
        models.Center,
        {
            "id": global_id("Center"),
            **_columns(models.Center, code="code", name="name", level="level", active="active"),
            "levelLabel": label(models.Center, "level", codes.CenterLevel),
            "parent": Relation("Center", "center", '{i}."id" = {o}."parent_id"', ("parent_id",)),
        },
    ),
    "Grid": TypeSpec(
        "grid",
        models.Grid,
        {
            "id": global_id("Grid"),
            **_columns(
                models.Grid, code="code", name="name", level="level", polygon="polygon", datum="datum"
            ),
            "center": Relation("Center", "center", '{i}."id" = {o}."center_id"', ("center_id",)),
            "parent": Relation("Grid", "grid", '{i}."id" = {o}."parent_id"', ("parent_id",)),
        },
    ),
    "Department": TypeSpec(
        "department",
        models.Department,
        {"id": global_id("Department"), **_columns(models.Department, code="code", name="name", kind="kind")},
    ),
    "CaseEvent": TypeSpec(
        "case_event",
        models.CaseEvent,
        {
            "id": global_id("CaseEvent"),
            **_columns(
                models.CaseEvent,
                type="type",
                at="at",
                actorLabel="actor_label",
                payload="payload",
                depth="depth",
            ),
            "label": Leaf(("type",), lambda r, _c: _event_label(r["type"])),
        },
    ),
    "Assignment": TypeSpec(
        "assignment",
        models.Assignment,
        {
            "id": global_id("Assignment"),
            **_columns(
                models.Assignment,
                unitKind="unit_kind",
                mode="mode",
                lead="lead",
                due="due",
                createdAt="created_at",
                acceptedAt="accepted_at",
                returnedAt="returned_at",
                returnReason="return_reason",
                finishedAt="finished_at",
            ),
            "modeLabel": label(models.Assignment, "mode", codes.AssignmentMode),
            "center": Relation("Center", "center", '{i}."id" = {o}."center_id"', ("center_id",)),
            "department": Relation(
                "Department", "department", '{i}."id" = {o}."department_id"', ("department_id",)
            ),
        },
    ),
    "CaseParty": TypeSpec(
        "case_party",
        models.CaseParty,
        {
            "role": col(models.CaseParty, "role"),
            "roleLabel": label(models.CaseParty, "role", codes.PartyRole),
            "person": Relation(
                "Person",
                "person",
                '{i}."id" = {o}."person_id"',
                ("person_id", "blind"),
                carry=("blind",),
                joined=True,
            ),
        },
    ),
    "Person": TypeSpec(
        "person",
        models.Person,
        {
            "id": global_id("Person"),
            "name": Leaf(("id", "name"), masking.name),
            "address": Leaf(("id", "address"), masking.address),
            "tags": Leaf(("id", "tags"), masking.tags),
            "idNumber": Leaf(("id", "id_number_enc"), masking.id_number),
            "phone": Leaf(("id", "phone_enc"), masking.phone),
        },
    ),
    # Objects made in Python from their parent's row: no table of their own.
    "Code": TypeSpec("", None, _plain("code", "label")),
    "AllowedAction": TypeSpec("", None, _plain("step", "label", "mutation", "allowed", "reason")),
    "Location": TypeSpec("", None, _plain("lat", "lng", "address")),
    "Deadlines": TypeSpec(
        "",
        None,
        {
            "respondBy": Leaf(("respond_by",), lambda r, _c: r["respond_by"]),
            "resolveBy": Leaf(("resolve_by",), lambda r, _c: r["resolve_by"]),
            "overdue": Leaf(("overdue",), lambda r, _c: r["overdue"]),
        },
    ),
}


def _event_label(event_type: str) -> str:
    from zongzhi.platform.base import event_types

    return event_types.label(event_type)


#: Columns holding JSON (embedded as JSON, not as text, in the statement's answer).
JSON_COLUMNS = frozenset({"tags", "payload", "polygon"})
#: Columns read as text so that no decimal passes through a float.
DECIMAL_COLUMNS = frozenset({"amount"})
