"""Intake: registering a case (受理登记), with its number, its center and grid, and its parties.

Every ID the input names resolves through the filer's jurisdiction before anything is written; a
retried request (same client request ID, or the same partner reference) returns the first case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope, resolve_ref
from zongzhi.platform.models import Case, CaseParty, Center, Grid, Person
from zongzhi.platform.services.case_access import now
from zongzhi.platform.services.org import ancestor_at
from zongzhi.platform.services.outbox import change, record_event
from zongzhi.platform.services.people import (
    PersonInput,
    check_person_refs,
    find_or_create_person,
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


async def _county_code(center: Center) -> str:
    county = await ancestor_at(center, CenterLevel.county)
    return (county or center).code[:6]


async def _next_number(center: Center, at: datetime) -> str:
    county = await _county_code(center)
    day = at.astimezone(UTC).strftime("%Y%m%d")
    scope = f"{county}-{day}"
    return f"ZZ-{county}-{day}-{await _next_in_sequence(scope):05d}"


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


async def _intake_center(data: CaseInput, actor: Actor) -> tuple[Center, Grid | None]:
    """The receiving center and the grid, both resolved through the actor's jurisdiction.

    The grid must lie in the receiving center's subtree: a case filed with one township's center
    and another's grid would be routed by the rules into a territory its filer cannot see.
    """
    grid = None
    if data.grid_id is not None:
        grid = await resolve_ref(actor, Grid, data.grid_id, "gridId")
        await grid.fetch_related("center")
        grid_worker_only = actor.roles == {str(Role.grid_worker)}
        if grid_worker_only and grid.id not in actor.grid_ids:
            raise Forbidden("a grid worker files cases in their own grids", field="gridId")
    if grid is None and data.lat is not None and data.lng is not None:
        grid = await _located_grid(data, actor)
    if data.center_id is not None:
        center = await resolve_ref(actor, Center, data.center_id, "centerId")
    elif grid is not None:
        center = grid.center
    elif actor.center_id is not None:
        center = await Center.get(id=actor.center_id)
    else:
        raise ValidationFailed("say which center receives the case", field="centerId")
    if grid is not None and not grid.center.path.startswith(center.path):
        raise ValidationFailed("the grid lies outside the receiving center's territory", field="gridId")
    if not center_in_scope(actor, center.path) and not (grid and grid.id in actor.grid_ids):
        raise Forbidden("the receiving center is outside your jurisdiction", field="centerId")
    if not center.active:
        raise ValidationFailed("the receiving center is deactivated", field="centerId")
    return center, grid


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


async def intake(data: CaseInput, actor: Actor) -> tuple[Case, bool]:
    """Register a case. Returns ``(case, created)``: a retried request returns the first case."""
    if not actor.has(*INTAKE_ROLES):
        raise Forbidden("your role may not register cases")
    _validate_case_input(data, actor)
    existing = await find_existing(data, actor)
    if existing is not None:
        return existing, False
    center, grid = await _intake_center(data, actor)
    await _check_party_refs(data, actor)
    received_at = data.received_at or now()
    try:
        async with change():
            case = await Case.create(
                number=await _next_number(center, received_at),
                title=data.title.strip(),
                description=data.description,
                category=data.category,
                kind=data.kind,
                channel=data.channel,
                severity=data.severity,
                complexity=data.complexity,
                center=center,
                center_path=center.path,
                grid=grid,
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
            if data.received_at is not None:
                await Case.filter(id=case.id).update(created_at=received_at)
            parties = []
            for i, party in enumerate(data.parties):
                person_id, blind = party.person_id, False
                if person_id is None:
                    person, blind = await find_or_create_person(party.person, actor, f"parties[{i}].person.")
                    person_id = person.id
                entry = {"person_id": person_id, "role": str(party.role)}
                if entry in parties:  # the same person twice in one role: one party
                    continue
                await CaseParty.create(
                    case=case, person_id=person_id, role=PartyRole(party.role), blind=blind
                )
                parties.append(entry)
            await record_event(
                case,
                "case.received",
                actor,
                {"channel": case.channel, "category": case.category, "parties": parties} | data.extra_payload,
            )
    except IntegrityError:
        existing = await find_existing(data, actor)
        if existing is None:
            raise
        return existing, False
    return case, True
