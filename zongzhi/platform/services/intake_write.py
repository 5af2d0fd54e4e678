"""Intake's write on PostgreSQL: the case, its number, its new people, its parties, its event and
the event's outbox row in one statement.

A data-modifying ``WITH`` statement is atomic on its own, so the write needs no BEGIN and COMMIT:
one round trip instead of about ten, no ORM query building, and the county's day counter
(``case_counter``, one row that every intake of the county and day updates) stays locked only while
the statement runs, where a transaction held it across every later insert and made concurrent
intakes queue behind each other. The case and event ids come from their sequences inside the
statement, so the case names its last event as it is inserted.

Everything the statement writes is what the ORM path writes (the columns come from the models'
own fields and conversions); its text depends only on the parties' shape and is built once per
shape. The foreign keys and unique constraints are checked at the end of the statement as for any
insert; a violated one (a repeated client request id) raises ``IntegrityError`` as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tortoise import Tortoise

from zongzhi.platform.models import Case, CaseEvent, Person
from zongzhi.platform.services.outbox import EVENT_TOPIC, Committed, saved_row


@dataclass
class PartyRow:
    """One party as written: an existing person (``person_id``) or a new one (``person``, unsaved)."""

    role: str
    blind: bool
    person_id: int | None = None
    person: Person | None = None


def _columns(model) -> list[str]:
    """The model's stored fields, without its generated primary key, in the model's order."""
    meta = model._meta
    return [name for name in meta.fields_db_projection if not meta.fields_map[name].generated]


def _db_values(instance, names: list[str]) -> list:
    fields = instance._meta.fields_map
    return [fields[name].to_db_value(getattr(instance, name), instance) for name in names]


#: Case columns the statement fills itself (its number and last event) rather than from the model.
_CASE_COMPUTED = ("number", "last_event_id")


class _Params:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, cast: str = "") -> str:
        self.count += 1
        return f"${self.count}{cast}"


def _shape(parties: list[PartyRow]) -> tuple[int | None, ...]:
    """Per party: ``None`` for an existing person, else the index of the first party with its new
    person (one person may be a party in two roles, and is inserted once)."""
    shape: list[int | None] = []
    for party in parties:
        if party.person is None:
            shape.append(None)
        else:
            shape.append(next(i for i, p in enumerate(parties) if p.person is party.person))
    return tuple(shape)


@lru_cache(maxsize=64)
def _statement(shape: tuple[int | None, ...]) -> str:
    """The statement for parties shaped ``shape`` (``_shape``). Parameters, in order: the counter's
    scope, the number's prefix, the case's columns, per new person its columns, per party (person id
    if existing,) role and blind, then the event's columns and its payload's parts."""
    p = _Params()
    scope, prefix = p(), p("::text")
    case_names = [n for n in _columns(Case) if n not in _CASE_COMPUTED]
    case_cols = [Case._meta.fields_db_projection[n] for n in case_names]
    case_values = [p() for _ in case_names]
    person_cols = [Person._meta.fields_db_projection[n] for n in _columns(Person)]
    ctes = [
        "k AS (INSERT INTO case_counter (scope, seq) VALUES ("
        + scope
        + ", 1) ON CONFLICT (scope) DO UPDATE SET seq = case_counter.seq + 1 RETURNING seq)",
        "ids AS (SELECT nextval(pg_get_serial_sequence('\"case\"', 'id')) AS case_id, "
        "nextval(pg_get_serial_sequence('case_event', 'id')) AS event_id)",
        'c AS (INSERT INTO "case" (id, number, last_event_id, '
        + ", ".join(f'"{c}"' for c in case_cols)
        + ") VALUES ((SELECT case_id FROM ids), (SELECT "
        + prefix
        + " || lpad(seq::text, greatest(5, length(seq::text)), '0') FROM k), (SELECT event_id FROM ids), "
        + ", ".join(case_values)
        + ") RETURNING number)",
    ]
    new_people = []
    for i, slot in enumerate(shape):
        if slot == i:
            name = f"p{i}"
            values = ", ".join(p() for _ in person_cols)
            columns = ", ".join(f'"{c}"' for c in person_cols)
            ctes.append(f"{name} AS (INSERT INTO person ({columns}) VALUES ({values}) RETURNING id)")
            new_people.append(name)
    party_values, payload_parties = [], []
    for slot in shape:
        person = f"(SELECT id FROM p{slot})" if slot is not None else p("::int")
        role, blind = p("::text"), p("::boolean")
        party_values.append(f"((SELECT case_id FROM ids), {person}, {role}, {blind})")
        payload_parties.append(f"jsonb_build_object('person_id', {person}, 'role', {role})")
    if party_values:
        ctes.append(
            "cp AS (INSERT INTO case_party (case_id, person_id, role, blind) VALUES "
            + ", ".join(party_values)
            + ")"
        )
    event_type, actor_id, actor_label = p("::text"), p(), p()
    channel, category, extra = p("::text"), p("::text"), p("::jsonb")
    cause_id, depth, rule, at, topic = p(), p(), p(), p("::timestamptz"), p("::text")
    payload = (
        f"jsonb_build_object('channel', {channel}, 'category', {category}, 'parties', "
        f"jsonb_build_array({', '.join(payload_parties)})) || {extra}"
    )
    ctes.append(
        "e AS (INSERT INTO case_event (id, case_id, type, actor_id, actor_label, payload, cause_id, depth, "
        "rule, at) VALUES ((SELECT event_id FROM ids), (SELECT case_id FROM ids), "
        f"{event_type}, {actor_id}, {actor_label}, {payload}, {cause_id}, {depth}, {rule}, {at}))"
    )
    ctes.append(
        "o AS (INSERT INTO outbox (event_id, topic, payload, created_at, attempts, last_error) "
        f"SELECT event_id, {topic}, jsonb_build_object('event_id', event_id, 'case_id', case_id, "
        f"'type', {event_type}), {at}, 0, '' FROM ids RETURNING id)"
    )
    people = "".join(f", {name}.id AS {name}" for name in new_people)
    sources = "".join(f", {name}" for name in new_people)
    return (
        "WITH "
        + ",\n".join(ctes)
        + f"\nSELECT ids.case_id, ids.event_id, o.id AS row_id, c.number{people} FROM ids, o, c{sources}"
    )


async def write_case(
    case: Case, number_scope: str, number_prefix: str, parties: list[PartyRow], event: CaseEvent, extra: dict
) -> Committed:
    """Insert ``case`` (unsaved; its number is ``number_prefix`` and the scope's next sequence
    number), the new people, the parties, and ``event`` (unsaved, its payload the channel, category
    and parties, with ``extra`` over them) with its outbox row. The objects come back saved."""
    shape = _shape(parties)
    case_names = [n for n in _columns(Case) if n not in _CASE_COMPUTED]
    params: list = [number_scope, number_prefix, *_db_values(case, case_names)]
    person_names = _columns(Person)
    for i, party in enumerate(parties):
        if shape[i] == i:
            params += _db_values(party.person, person_names)
    for party in parties:
        if party.person is None:
            params.append(party.person_id)
        params += [party.role, party.blind]
    payload_field = CaseEvent._meta.fields_map["payload"]
    params += [
        event.type,
        event.actor_id,
        event.actor_label,
        case.channel,
        case.category,
        payload_field.to_db_value(extra, event),
        event.cause_id,
        event.depth,
        event.rule,
        event.at,
        EVENT_TOPIC,
    ]
    conn = Tortoise.get_connection("default")
    row = (await conn.execute_query_dict(_statement(shape), params))[0]
    case.id, case.number, case.last_event_id = row["case_id"], row["number"], row["event_id"]
    case._saved_in_db = True
    written = []
    for i, party in enumerate(parties):
        if party.person is not None:
            party.person.id = row[f"p{shape[i]}"]
            party.person._saved_in_db = True
            party.person_id = party.person.id
        written.append({"person_id": party.person_id, "role": party.role})
    event.case_id = case.id
    event.id = row["event_id"]
    event.payload = {"channel": case.channel, "category": case.category, "parties": written} | extra
    event._saved_in_db = True
    return Committed(saved_row(event, row["row_id"]), event, case)
