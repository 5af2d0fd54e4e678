"""Intake: registering a case (受理登记), with its number, its center and grid, and its parties.

Every ID the input names resolves through the filer's jurisdiction before anything is written; a
retried request (same client request ID, or the same partner reference) returns the first case.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from tortoise import Tortoise
from tortoise.exceptions import IntegrityError

from zongzhi.platform.base import limits
from zongzhi.platform.base.codes import (
    CATEGORIES,
    CHANNELS,
    KINDS,
    PARTNER_CHANNELS,
    CenterLevel,
    PartyRole,
    Role,
)
from zongzhi.platform.base.errors import Forbidden, NotFound, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope, grid_visible, resolve_ref
from zongzhi.platform.models import Case, CaseParty, Center, Grid, Person
from zongzhi.platform.services.case_access import now
from zongzhi.platform.services.intake_write import PartyRow, write_case
from zongzhi.platform.services.org import ancestor_at
from zongzhi.platform.services.outbox import change, new_event, record_event, written_in_one_statement
from zongzhi.platform.services.people import (
    PersonInput,
    check_person_refs,
    find_or_create_person,
    new_person,
    validate_person,
)

INTAKE_ROLES = (Role.staff, Role.leader, Role.grid_worker, Role.mediator, Role.admin)
COMPLEXITIES = ("simple", "complex", "difficult")


@dataclass
class PartyInput:
    role: PartyRole
    person_id: int | None = None
    person: PersonInput | None = None


@dataclass
class CaseInput:
    title: str
    category: str
    kind: str = "dispute"
    channel: str = "window"
    description: str = ""
    severity: int = 2
    complexity: str = "simple"
    center_id: int | None = None
    grid_id: int | None = None
    lat: float | None = None
    lng: float | None = None
    address: str = ""
    tags: list[str] = field(default_factory=list)
    parties: list[PartyInput] = field(default_factory=list)
    client_request_id: str | None = None
    external_channel: str | None = None
    external_id: str | None = None
    received_at: datetime | None = None
    extra_payload: dict = field(default_factory=dict)


def _validate_case_input(data: CaseInput, actor: Actor) -> None:
    limits.check_text(data.title, "title", limits.TITLE_MAX, required=True)
    limits.check_text(data.description, "description", limits.DESCRIPTION_MAX, multiline=True)
    limits.check_text(data.address, "location.address", limits.ADDRESS_MAX)
    limits.check_tags(data.tags)
    for name in ("category", "kind", "channel"):
        limits.check_text(getattr(data, name), name, limits.CODE_MAX)
    limits.check_datetime(data.received_at, "receivedAt")
    if data.category not in CATEGORIES:
        raise ValidationFailed(f"unknown category {data.category!r}", field="category")
    if data.kind not in KINDS:
        raise ValidationFailed(f"unknown kind {data.kind!r}", field="kind")
    if data.channel not in CHANNELS:
        raise ValidationFailed(f"unknown channel {data.channel!r}", field="channel")
    if data.channel in PARTNER_CHANNELS and not actor.system:
        raise ValidationFailed(f"channel {data.channel!r} is fed by its partner plugin", field="channel")
    if not 1 <= data.severity <= 4:
        raise ValidationFailed("severity is 1 to 4", field="severity")
    if data.complexity not in COMPLEXITIES:
        raise ValidationFailed(f"complexity is one of {', '.join(COMPLEXITIES)}", field="complexity")
    if data.lat is not None and not -90 <= data.lat <= 90:
        raise ValidationFailed("latitude is between -90 and 90", field="location.lat")
    if data.lng is not None and not -180 <= data.lng <= 180:
        raise ValidationFailed("longitude is between -180 and 180", field="location.lng")
    if data.client_request_id is not None and not 1 <= len(data.client_request_id) <= 80:
        raise ValidationFailed("clientRequestId is 1 to 80 characters", field="clientRequestId")
    limits.check_text(data.client_request_id, "clientRequestId", 80)
    for i, party in enumerate(data.parties):
        if (party.person_id is None) == (party.person is None):
            raise ValidationFailed("give either personId or person", field=f"parties[{i}]")
        if party.person is not None:
            validate_person(party.person, f"parties[{i}].person.")


@dataclass(frozen=True)
class Place:
    """The receiving center as intake needs it, and the grid if any (``grid_center_path``: its center's)."""

    center_id: int
    center_path: str
    center_active: bool
    #: The first six digits of the county's area code (the center's own when it has no county).
    county: str
    grid_id: int | None = None
    grid_center_path: str | None = None


async def _place_of(center: Center) -> Place:
    county = await ancestor_at(center, CenterLevel.county)
    return Place(center.id, center.path, center.active, (county or center).code[:6])


def _number_scope(county: str, at: datetime) -> str:
    return f"{county}-{at.astimezone(UTC).strftime('%Y%m%d')}"


async def _next_number(county: str, at: datetime) -> str:
    scope = _number_scope(county, at)
    return f"ZZ-{scope}-{await _next_in_sequence(scope):05d}"


async def _next_in_sequence(scope: str) -> int:
    """One statement that creates or advances the counter and locks its row until commit."""
    conn = Tortoise.get_connection("default")
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    rows = await conn.execute_query_dict(
        f"INSERT INTO case_counter (scope, seq) VALUES ({mark}, 1) "
        "ON CONFLICT (scope) DO UPDATE SET seq = case_counter.seq + 1 RETURNING seq",
        [scope],
    )
    return int(rows[0]["seq"])


async def _intake_place(data: CaseInput, actor: Actor, found: dict) -> Place:
    """The receiving center and the grid, both resolved through the actor's jurisdiction.

    ``found`` is the given grid's row as ``_lookup`` read it. The grid must lie in the receiving
    center's subtree: a case filed with one township's center and another's grid would be routed by
    the rules into a territory its filer cannot see.
    """
    grid: Place | None = None
    if data.grid_id is not None:
        if found["grid_id"] is None or not grid_visible(actor, found["grid_id"], found["center_path"]):
            raise NotFound(f"no grid {data.grid_id} in your jurisdiction", field="gridId")
        grid = Place(
            found["center_id"],
            found["center_path"],
            bool(found["center_active"]),
            (found["county_code"] or found["center_code"])[:6],
            found["grid_id"],
            found["center_path"],
        )
        grid_worker_only = actor.roles == {str(Role.grid_worker)}
        if grid_worker_only and grid.grid_id not in actor.grid_ids:
            raise Forbidden("a grid worker files cases in their own grids", field="gridId")
    if grid is None and data.lat is not None and data.lng is not None:
        located = await _located_grid(data, actor)
        if located is not None:
            grid = replace(
                await _place_of(located.center), grid_id=located.id, grid_center_path=located.center.path
            )
    if data.center_id is not None:
        center = await _place_of(await resolve_ref(actor, Center, data.center_id, "centerId"))
    elif grid is not None:
        center = grid
    elif actor.center_id is not None:
        center = await _place_of(await Center.get(id=actor.center_id))
    else:
        raise ValidationFailed("say which center receives the case", field="centerId")
    grid_id = grid.grid_id if grid is not None else None
    if grid is not None and not (grid.grid_center_path or "").startswith(center.center_path):
        raise ValidationFailed("the grid lies outside the receiving center's territory", field="gridId")
    if not center_in_scope(actor, center.center_path) and not (grid_id and grid_id in actor.grid_ids):
        raise Forbidden("the receiving center is outside your jurisdiction", field="centerId")
    if not center.center_active:
        raise ValidationFailed("the receiving center is deactivated", field="centerId")
    if grid is None:
        return center
    return replace(center, grid_id=grid_id, grid_center_path=grid.grid_center_path)


async def _check_party_refs(data: CaseInput, actor: Actor) -> None:
    """Every ID inside the parties resolves through the actor's jurisdiction, before anything is written."""
    for i, party in enumerate(data.parties):
        if party.person_id is not None:
            await resolve_ref(actor, Person, party.person_id, f"parties[{i}].personId")
        elif party.person is not None:
            await check_person_refs(party.person, actor, f"parties[{i}].person.")


async def _located_grid(data: CaseInput, actor: Actor) -> Grid | None:
    """The grid whose boundary holds the case's coordinates (point-in-polygon), if the actor may file there.

    Given a center, only a grid under it; a place outside the actor's jurisdiction leaves the case
    where it would have gone without coordinates.
    """
    from zongzhi.platform.domain.geo import grid_at

    found = await grid_at(data.lat, data.lng)  # type: ignore[arg-type]
    if found is None:
        return None
    grid = await Grid.get(id=found.id).select_related("center")
    if data.center_id is not None:
        given = await Center.get_or_none(id=data.center_id)
        return grid if given is not None and grid.center.path.startswith(given.path) else None
    if center_in_scope(actor, grid.center.path) or grid.id in actor.grid_ids:
        return grid
    return None


async def find_existing(data: CaseInput, actor: Actor) -> Case | None:
    """The case an earlier identical request created (same client request id or external ref)."""
    if data.client_request_id and actor.user_id:
        found = await Case.get_or_none(created_by_id=actor.user_id, client_request_id=data.client_request_id)
        if found:
            return found
    if data.external_channel and data.external_id:
        return await Case.get_or_none(external_channel=data.external_channel, external_id=data.external_id)
    return None


# The filer's earlier case for this request (by client request id, by partner reference), and the
# given grid with its center and the first six digits of that center's county: one statement.
_LOOKUP = """SELECT
  (SELECT id FROM "case" WHERE created_by_id = {0} AND client_request_id = {1}) AS by_request,
  (SELECT id FROM "case" WHERE external_channel = {2} AND external_id = {3}) AS by_ref,
  g.id AS grid_id, c.id AS center_id, c.path AS center_path, c.active AS center_active, c.code AS center_code,
  (SELECT a.code FROM center a WHERE a.level = 'county' AND {ancestor} ORDER BY length(a.path) LIMIT 1)
    AS county_code
FROM (SELECT 1 AS one) x LEFT JOIN grid g ON g.id = {4} LEFT JOIN center c ON c.id = g.center_id"""

#: ``a`` is one of the centers on center ``c``'s path ("/<id>/<id>/").
_ANCESTOR = {
    "postgres": "a.id = ANY(string_to_array(trim(both '/' from c.path), '/')::int[])",
    "sqlite": "c.path LIKE '%/' || a.id || '/%'",
}


async def _lookup(data: CaseInput, actor: Actor) -> dict:
    conn = Tortoise.get_connection("default")
    dialect = conn.capabilities.dialect
    marks = [f"${i}" for i in range(1, 6)] if dialect == "postgres" else ["?"] * 5
    by_request = data.client_request_id and actor.user_id
    by_ref = data.external_channel and data.external_id
    params = [
        actor.user_id if by_request else None,
        data.client_request_id if by_request else None,
        data.external_channel if by_ref else None,
        data.external_id if by_ref else None,
        data.grid_id,
    ]
    sql = _LOOKUP.format(*marks, ancestor=_ANCESTOR.get(dialect, _ANCESTOR["sqlite"]))
    return (await conn.execute_query_dict(sql, params))[0]


async def intake(data: CaseInput, actor: Actor) -> tuple[Case, bool]:
    """Register a case. Returns ``(case, created)``: a retried request returns the first case."""
    if not actor.has(*INTAKE_ROLES):
        raise Forbidden("your role may not register cases")
    _validate_case_input(data, actor)
    found = await _lookup(data, actor)
    existing_id = found["by_request"] or found["by_ref"]
    if existing_id is not None:
        return await Case.get(id=existing_id), False
    place = await _intake_place(data, actor, found)
    await _check_party_refs(data, actor)
    received_at = data.received_at or now()
    case = Case(
        title=data.title.strip(),
        description=data.description,
        category=data.category,
        kind=data.kind,
        channel=data.channel,
        severity=data.severity,
        complexity=data.complexity,
        center_id=place.center_id,
        center_path=place.center_path,
        grid_id=place.grid_id,
        lat=data.lat,
        lng=data.lng,
        address=data.address,
        tags=sorted(set(data.tags)),
        external_channel=data.external_channel,
        external_id=data.external_id,
        created_by_id=actor.user_id,
        client_request_id=data.client_request_id,
        created_at=received_at,
    )
    try:
        if Tortoise.get_connection("default").capabilities.dialect == "postgres":
            await _write_in_one_statement(case, data, actor, place.county)
        else:
            await _write_with_orm(case, data, actor, place.county)
    except IntegrityError:
        existing = await find_existing(data, actor)
        if existing is None:
            raise
        return existing, False
    return case, True


async def _write_with_orm(case: Case, data: CaseInput, actor: Actor, county: str) -> None:
    async with change():
        case.number = await _next_number(county, case.created_at)
        await case.save()
        if data.received_at is not None:
            await Case.filter(id=case.id).update(created_at=data.received_at)
        parties: list[dict] = []
        for i, party in enumerate(data.parties):
            person_id, blind = party.person_id, False
            if person_id is None:
                person, blind = await find_or_create_person(party.person, actor, f"parties[{i}].person.")
                person_id = person.id
            entry = {"person_id": person_id, "role": str(party.role)}
            if entry in parties:  # the same person twice in one role: one party
                continue
            await CaseParty.create(case=case, person_id=person_id, role=PartyRole(party.role), blind=blind)
            parties.append(entry)
        await record_event(
            case,
            "case.received",
            actor,
            {"channel": case.channel, "category": case.category, "parties": parties} | data.extra_payload,
        )


async def _write_in_one_statement(case: Case, data: CaseInput, actor: Actor, county: str) -> None:
    """The ORM path's writes as one statement (``intake_write``): the same rows, one round trip."""
    rows: list[PartyRow] = []
    new_by_hash: dict[str, Person] = {}
    for i, party in enumerate(data.parties):
        role = str(party.role)
        if party.person_id is not None:
            row = PartyRow(role, False, person_id=party.person_id)
        else:
            person, blind = await new_person(party.person, actor, f"parties[{i}].person.")  # type: ignore[arg-type]
            if person.id_number_hash is not None and person.id_number_hash in new_by_hash:
                person = new_by_hash[person.id_number_hash]  # one resident, one record
            elif person.id_number_hash is not None and person.id is None:
                new_by_hash[person.id_number_hash] = person
            if person.id is not None:
                row = PartyRow(role, blind, person_id=person.id)
            else:
                row = PartyRow(role, blind, person=person)
        if any(_same_party(row, earlier) for earlier in rows):  # the same person twice in one role
            continue
        rows.append(row)
    scope = _number_scope(county, case.created_at)
    event = new_event(0, "case.received", actor)
    committed = await write_case(case, scope, f"ZZ-{scope}-", rows, event, data.extra_payload)
    await written_in_one_statement([committed])


def _same_party(a: PartyRow, b: PartyRow) -> bool:
    if a.role != b.role:
        return False
    if a.person is not None or b.person is not None:
        return a.person is b.person
    return a.person_id == b.person_id
