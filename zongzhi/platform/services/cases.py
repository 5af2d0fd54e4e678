"""Intake and every lifecycle step of a case.

Each public function is one change: it loads the case inside the actor's jurisdiction, checks the
step against the state machine and the actor's role, writes the case, its CaseEvent and outbox row
in one transaction, and returns the case. Anything refused raises a ``ServiceError`` before a
single row is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from tortoise import Tortoise
from tortoise.exceptions import IntegrityError

from zongzhi.platform.base import limits, security
from zongzhi.platform.base.codes import (
    CATEGORIES,
    CHANNELS,
    KINDS,
    PARTNER_CHANNELS,
    AssignmentMode,
    CaseStatus,
    CenterLevel,
    FollowUpMethod,
    PartyRole,
    Risk,
    Role,
    UnitKind,
)
from zongzhi.platform.base.errors import Forbidden, NotFound, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope, resolve_ref, scoped_cases
from zongzhi.platform.models import (
    Assignment,
    Case,
    CaseParty,
    Center,
    Department,
    FollowUp,
    Grid,
    Person,
    User,
    Whistle,
)
from zongzhi.platform.services import lifecycle
from zongzhi.platform.services.org import ancestor_at
from zongzhi.platform.services.outbox import change, record_event
from zongzhi.platform.services.people import (
    PersonInput,
    check_person_refs,
    find_or_create_person,
    validate_person,
)

CENTER_STAFF = (Role.staff, Role.leader, Role.admin)
INTAKE_ROLES = (Role.staff, Role.leader, Role.grid_worker, Role.mediator, Role.admin)
COMPLEXITIES = ("simple", "complex", "difficult")


def now() -> datetime:
    return datetime.now(UTC)


# --- intake -----------------------------------------------------------------------------------


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


# --- loading and authority -------------------------------------------------------------------


async def get_case(actor: Actor, case_id: int) -> Case:
    case = await scoped_cases(actor).get_or_none(id=case_id)
    if case is None:
        raise NotFound(f"no case {case_id} in your jurisdiction", field="caseId")
    return case


async def _load_for_change(actor: Actor, case_id: int, step: str) -> Case:
    """Lock the case row for this transaction and check the step is allowed from its status."""
    case = await scoped_cases(actor).filter(id=case_id).select_for_update().first()
    if case is None:
        raise NotFound(f"no case {case_id} in your jurisdiction", field="caseId")
    lifecycle.check(step, case.status)
    return case


def _require(actor: Actor, *roles: Role, what: str) -> None:
    if not actor.has(*roles):
        raise Forbidden(f"{what} needs one of the roles: {', '.join(r.value for r in roles)}")


async def _active_assignments(case: Case) -> list[Assignment]:
    return await Assignment.filter(case_id=case.id, returned_at=None, finished_at=None)


def _holds(actor: Actor, assignment: Assignment, center_paths: dict[int, str]) -> bool:
    if actor.system:
        return True
    if assignment.user_id is not None:
        return assignment.user_id == actor.user_id
    if assignment.department_id is not None:
        return assignment.department_id == actor.department_id
    if assignment.center_id is not None:
        path = center_paths.get(assignment.center_id, "")
        return actor.has(*CENTER_STAFF, Role.mediator) and bool(
            actor.center_path and path.startswith(actor.center_path)
        )
    return False


async def _actor_assignment(actor: Actor, case: Case) -> Assignment | None:
    active = await _active_assignments(case)
    center_ids = [a.center_id for a in active if a.center_id]
    paths = dict(await Center.filter(id__in=center_ids).values_list("id", "path")) if center_ids else {}
    for a in active:
        if _holds(actor, a, paths):
            return a
    return None


async def _require_handler(actor: Actor, case: Case, what: str) -> Assignment | None:
    """The actor's assignment on the case; center staff of the owning subtree also qualify."""
    assignment = await _actor_assignment(actor, case)
    if assignment is None and not (actor.has(*CENTER_STAFF) and center_in_scope(actor, case.center_path)):
        raise Forbidden(f"{what} is for the unit the case is assigned to")
    return assignment


async def summoned_now(actor: Actor, case_id: int) -> bool:
    """Whether the actor's department has an open whistle (吹哨报到) on the case: it may note progress."""
    if actor.department_id is None:
        return False
    return await Whistle.filter(case_id=case_id, department_id=actor.department_id, answered_at=None).exists()


async def _save(case: Case, *fields_: str) -> None:
    await case.save(update_fields=[*fields_, "updated_at"])


# --- steps -----------------------------------------------------------------------------------


async def assess(
    actor: Actor,
    case_id: int,
    *,
    category: str | None = None,
    kind: str | None = None,
    severity: int | None = None,
    complexity: str | None = None,
    risk: Risk | None = None,
    note: str = "",
) -> Case:
    _require(actor, *CENTER_STAFF, what="assessment")
    limits.check_note(note, "note")
    if category is not None and category not in CATEGORIES:
        raise ValidationFailed(f"unknown category {category!r}", field="category")
    if kind is not None and kind not in KINDS:
        raise ValidationFailed(f"unknown kind {kind!r}", field="kind")
    if severity is not None and not 1 <= severity <= 4:
        raise ValidationFailed("severity is 1 to 4", field="severity")
    if complexity is not None and complexity not in COMPLEXITIES:
        raise ValidationFailed(f"complexity is one of {', '.join(COMPLEXITIES)}", field="complexity")
    async with change():
        case = await _load_for_change(actor, case_id, "assess")
        changes = {
            k: v
            for k, v in {
                "category": category,
                "kind": kind,
                "severity": severity,
                "complexity": complexity,
            }.items()
            if v is not None
        }
        if risk is not None:
            changes["risk"] = Risk(risk)
        for k, v in changes.items():
            setattr(case, k, v)
        case.status = CaseStatus.assessed
        await _save(case, "status", *changes)
        payload = {k: str(v) for k, v in changes.items()} | {"note": note}
        await record_event(case, "case.assessed", actor, payload)
    return case


async def reject(actor: Actor, case_id: int, reason: str) -> Case:
    _require(actor, *CENTER_STAFF, what="rejecting a case")
    if not reason or not reason.strip():
        raise ValidationFailed("a rejection needs a reason (不予受理理由)", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await _load_for_change(actor, case_id, "reject")
        case.status = CaseStatus.rejected
        case.reject_reason = reason.strip()
        case.concluded_at = now()
        await _save(case, "status", "reject_reason", "concluded_at")
        await record_event(case, "case.rejected", actor, {"reason": case.reject_reason})
    return case


@dataclass
class UnitInput:
    """One unit to assign: exactly one of a center, a department or a person."""

    center_id: int | None = None
    department_id: int | None = None
    user_id: int | None = None
    lead: bool = False


async def _resolve_units(actor: Actor, units: list[UnitInput], mode: AssignmentMode) -> list[dict]:
    if not units and mode != AssignmentMode.self_handle:
        raise ValidationFailed("name at least one unit to assign", field="units")
    if mode == AssignmentMode.joint and len(units) < 2:
        raise ValidationFailed("joint handling (联办) needs two or more units", field="units")
    resolved = []
    for i, u in enumerate(units):
        given = [x for x in (u.center_id, u.department_id, u.user_id) if x is not None]
        if len(given) != 1:
            raise ValidationFailed("give exactly one of centerId, departmentId, userId", field=f"units[{i}]")
        if u.center_id is not None:
            center = await resolve_ref(actor, Center, u.center_id, f"units[{i}].centerId")
            if not center_in_scope(actor, center.path):
                raise Forbidden("that center is outside your jurisdiction", field=f"units[{i}].centerId")
            resolved.append({"unit_kind": UnitKind.center, "center": center, "lead": u.lead})
        elif u.department_id is not None:
            dept = await resolve_ref(actor, Department, u.department_id, f"units[{i}].departmentId")
            resolved.append({"unit_kind": UnitKind.department, "department": dept, "lead": u.lead})
        else:
            user = await resolve_ref(actor, User, u.user_id, f"units[{i}].userId", active=True)
            if not actor.system:
                user_center = await user.center if user.center_id else None
                if user_center is None or not center_in_scope(actor, user_center.path):
                    raise Forbidden("that person works outside your jurisdiction", field=f"units[{i}].userId")
            resolved.append({"unit_kind": UnitKind.user, "user": user, "lead": u.lead})
    if resolved and not any(r["lead"] for r in resolved):
        resolved[0]["lead"] = True
    if sum(1 for r in resolved if r["lead"]) > 1:
        raise ValidationFailed("only one unit leads (牵头)", field="units")
    return resolved


def _unit_payload(a: Assignment) -> dict:
    return {
        "assignment_id": a.id,
        "unit_kind": str(a.unit_kind),
        "center_id": a.center_id,
        "department_id": a.department_id,
        "user_id": a.user_id,
        "mode": str(a.mode),
        "lead": a.lead,
    }


async def dispatch(
    actor: Actor,
    case_id: int,
    mode: AssignmentMode | str,
    units: list[UnitInput],
    *,
    due: datetime | None = None,
    note: str = "",
) -> Case:
    """分流转办: hand the case to units. A transfer to a center makes that center the owner."""
    _require(actor, *CENTER_STAFF, what="dispatch")
    limits.check_note(note, "note")
    limits.check_deadline(due, "due", now())
    mode = AssignmentMode(mode)
    resolved = await _resolve_units(actor, units, mode)
    async with change():
        case = await _load_for_change(actor, case_id, "dispatch")
        if not resolved:
            owner = await Center.get(id=case.center_id)
            resolved = [{"unit_kind": UnitKind.center, "center": owner, "lead": True}]
        created = []
        for r in resolved:
            created.append(await Assignment.create(case=case, mode=mode, due=due or case.resolve_by, **r))
            if mode == AssignmentMode.transfer and r["unit_kind"] == UnitKind.center:
                case.center_id = r["center"].id
                case.center_path = r["center"].path
        case.status = CaseStatus.dispatched
        await _save(case, "status", "center_id", "center_path")
        await record_event(
            case,
            "case.dispatched",
            actor,
            {"mode": mode.value, "units": [_unit_payload(a) for a in created], "note": note},
        )
    return case


async def add_assignment(
    actor: Actor,
    case_id: int,
    mode: AssignmentMode | str,
    unit: UnitInput,
    *,
    due: datetime | None = None,
) -> Case:
    """Add a unit to a case being handled: another department for 联办, or a 督办 unit.

    ``due`` is the unit's own deadline; without one it gets the case's.
    """
    _require(actor, *CENTER_STAFF, what="adding a unit")
    limits.check_deadline(due, "due", now())
    mode = AssignmentMode(mode)
    (resolved,) = await _resolve_units(actor, [unit], AssignmentMode.self_handle)
    resolved["lead"] = False
    async with change():
        case = await _load_for_change(actor, case_id, "add_assignment")
        a = await Assignment.create(case=case, mode=mode, due=due or case.resolve_by, **resolved)
        await _save(case)
        await record_event(case, "case.assigned", actor, _unit_payload(a))
    return case


async def accept(actor: Actor, case_id: int, note: str = "") -> Case:
    limits.check_note(note, "note")
    async with change():
        case = await _load_for_change(actor, case_id, "accept")
        assignment = await _actor_assignment(actor, case)
        if assignment is None:
            raise Forbidden("only the unit the case is assigned to can accept it")
        assignment.accepted_at = now()
        await assignment.save(update_fields=["accepted_at"])
        case.status = CaseStatus.handling
        case.accepted_at = case.accepted_at or assignment.accepted_at
        await _save(case, "status", "accepted_at")
        await record_event(case, "case.accepted", actor, {"assignment_id": assignment.id, "note": note})
    return case


async def return_case(actor: Actor, case_id: int, reason: str) -> Case:
    """退回: the assigned unit sends a mis-routed case back to the center for re-dispatch."""
    if not reason or not reason.strip():
        raise ValidationFailed("a return needs a reason (退回理由)", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await _load_for_change(actor, case_id, "return")
        assignment = await _actor_assignment(actor, case)
        if assignment is None:
            raise Forbidden("only the unit the case is assigned to can return it")
        assignment.returned_at = now()
        assignment.return_reason = reason.strip()
        await assignment.save(update_fields=["returned_at", "return_reason"])
        remaining = await _active_assignments(case)
        if not remaining:
            case.status = CaseStatus.assessed
        await _save(case, "status")
        await record_event(
            case,
            "case.returned",
            actor,
            {
                "assignment_id": assignment.id,
                "department_id": assignment.department_id,
                "reason": reason.strip(),
            },
        )
    return case


async def add_progress(actor: Actor, case_id: int, note: str) -> Case:
    if not note or not note.strip():
        raise ValidationFailed("a progress note cannot be empty", field="note")
    limits.check_note(note, "note")
    async with change():
        case = await _load_for_change(actor, case_id, "progress")
        if not await summoned_now(actor, case.id):
            await _require_handler(actor, case, "recording progress")
        await _save(case)
        await record_event(case, "case.progress", actor, {"note": note.strip()})
    return case


async def supervise(actor: Actor, case_id: int, note: str, level: str | None = None) -> Case:
    """督办: a center above the handler presses for progress; recorded on the timeline."""
    _require(actor, Role.leader, Role.staff, Role.admin, what="supervision (督办)")
    if not note or not note.strip():
        raise ValidationFailed("supervision needs a note saying what is expected", field="note")
    limits.check_note(note, "note")
    if level is not None and level not in {str(v) for v in CenterLevel}:
        raise ValidationFailed(f"level is one of {', '.join(str(v) for v in CenterLevel)}", field="level")
    async with change():
        case = await _load_for_change(actor, case_id, "supervise")
        await _save(case)
        await record_event(
            case, "case.supervised", actor, {"note": note.strip(), "level": level or actor.center_level}
        )
    return case


def _parse_amount(amount: str | float | Decimal | None) -> Decimal | None:
    if amount is None:
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValidationFailed("amount must be a number", field="amount") from None
    return limits.check_amount(value, "amount")


async def _conclude(actor: Actor, case: Case, status: CaseStatus) -> None:
    case.status = status
    case.concluded_at = now()
    for a in await _active_assignments(case):
        a.finished_at = case.concluded_at
        await a.save(update_fields=["finished_at"])


async def resolve(
    actor: Actor, case_id: int, outcome: str, agreement: str = "", amount: str | float | Decimal | None = None
) -> Case:
    """调处成功: mediation ended in agreement (调解协议), possibly an amount."""
    if not outcome or not outcome.strip():
        raise ValidationFailed("describe the outcome", field="outcome")
    limits.check_note(outcome, "outcome")
    limits.check_text(agreement, "agreement", limits.DESCRIPTION_MAX, multiline=True)
    value = _parse_amount(amount)
    async with change():
        case = await _load_for_change(actor, case_id, "resolve")
        await _require_handler(actor, case, "resolving")
        await _conclude(actor, case, CaseStatus.resolved)
        case.outcome, case.agreement, case.amount = outcome.strip(), agreement.strip(), value
        await _save(case, "status", "concluded_at", "outcome", "agreement", "amount")
        await record_event(
            case,
            "case.resolved",
            actor,
            {
                "outcome": case.outcome,
                "agreement": case.agreement,
                "amount": str(value) if value is not None else None,
            },
        )
    return case


NEXT_STEPS = ("arbitration", "litigation", "court_fast_track", "administrative", "other")


async def fail(actor: Actor, case_id: int, outcome: str, next_step: str = "other") -> Case:
    """调处失败: mediation failed; the parties are guided to arbitration, litigation or the court."""
    if not outcome or not outcome.strip():
        raise ValidationFailed("say why mediation failed", field="outcome")
    limits.check_note(outcome, "outcome")
    if next_step not in NEXT_STEPS:
        raise ValidationFailed(f"nextStep is one of {', '.join(NEXT_STEPS)}", field="nextStep")
    async with change():
        case = await _load_for_change(actor, case_id, "fail")
        await _require_handler(actor, case, "recording a failed mediation")
        await _conclude(actor, case, CaseStatus.failed)
        case.outcome = outcome.strip()
        await _save(case, "status", "concluded_at", "outcome")
        await record_event(case, "case.failed", actor, {"outcome": case.outcome, "next_step": next_step})
    return case


async def close(actor: Actor, case_id: int, note: str = "") -> Case:
    _require(actor, *CENTER_STAFF, what="closing (办结)")
    limits.check_note(note, "note")
    async with change():
        case = await _load_for_change(actor, case_id, "close")
        case.status = CaseStatus.closed
        case.closed_at = now()
        await _save(case, "status", "closed_at")
        await record_event(case, "case.closed", actor, {"note": note})
    return case


async def follow_up(
    actor: Actor,
    case_id: int,
    satisfaction: int,
    executed: bool,
    method: FollowUpMethod | str = FollowUpMethod.call,
    note: str = "",
) -> Case:
    """回访: a visit or call after closing, with a 1–5 rating and whether the agreement was carried out."""
    _require(actor, *CENTER_STAFF, Role.grid_worker, Role.mediator, what="follow-up (回访)")
    limits.check_note(note, "note")
    if not 1 <= satisfaction <= 5:
        raise ValidationFailed("satisfaction is 1 to 5", field="satisfaction")
    method = FollowUpMethod(method)
    async with change():
        case = await _load_for_change(actor, case_id, "follow_up")
        await FollowUp.create(
            case=case,
            method=method,
            satisfaction=satisfaction,
            executed=executed,
            note=note,
            by_id=actor.user_id,
        )
        case.status = CaseStatus.followed_up
        case.satisfaction, case.executed = satisfaction, executed
        await _save(case, "status", "satisfaction", "executed")
        await record_event(
            case,
            "case.followed_up",
            actor,
            {"satisfaction": satisfaction, "executed": executed, "method": method.value, "note": note},
        )
    return case


async def withdraw(actor: Actor, case_id: int, reason: str) -> Case:
    _require(actor, *CENTER_STAFF, what="withdrawal")
    if not reason or not reason.strip():
        raise ValidationFailed("a withdrawal needs a reason", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await _load_for_change(actor, case_id, "withdraw")
        case.status = CaseStatus.withdrawn
        case.concluded_at = now()
        for a in await _active_assignments(case):
            a.finished_at = case.concluded_at
            await a.save(update_fields=["finished_at"])
        await _save(case, "status", "concluded_at")
        await record_event(case, "case.withdrawn", actor, {"reason": reason.strip()})
    return case


async def reopen(actor: Actor, case_id: int, reason: str) -> Case:
    _require(actor, Role.leader, Role.staff, Role.admin, what="reopening")
    if not reason or not reason.strip():
        raise ValidationFailed("reopening needs a reason", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await _load_for_change(actor, case_id, "reopen")
        previous, old_deadline = case.status, case.resolve_by
        case.status = CaseStatus.received
        case.concluded_at = case.closed_at = None
        # The old deadline belonged to the first handling: kept, it would be overdue at once and
        # escalate the case. Cleared, the next assessment sets a new one (the core deadline rules).
        case.respond_by = case.resolve_by = case.warn_at = case.warned_at = case.overdue_at = None
        case.deadline_note = ""
        await _save(
            case,
            "status",
            "concluded_at",
            "closed_at",
            "respond_by",
            "resolve_by",
            "warn_at",
            "warned_at",
            "overdue_at",
            "deadline_note",
        )
        await record_event(
            case,
            "case.reopened",
            actor,
            {
                "reason": reason.strip(),
                "from": str(previous),
                "cleared_resolve_by": old_deadline.isoformat() if old_deadline else None,
            },
        )
    return case


async def note_event(actor: Actor, case_id: int, event_type: str, payload: dict) -> Case:
    """A plugin's own fact on the timeline (a court's answer, a request sent out); no status change."""
    from zongzhi.platform.base.event_types import EVENT_TYPES

    if event_type not in EVENT_TYPES:
        raise ValidationFailed(f"unknown event type {event_type!r}", field="type")
    async with change():
        case = await get_case(actor, case_id)
        await _save(case)
        await record_event(case, event_type, actor, payload)
    return case


# --- effects also used by rules ----------------------------------------------------------------


async def _move_to(case: Case, center: Center) -> dict:
    old = case.center_id
    case.center_id, case.center_path = center.id, center.path
    await _save(case, "center_id", "center_path")
    return {"from_center_id": old, "to_center_id": center.id, "to_center_code": center.code}


async def route(actor: Actor, case_id: int, center_id: int, reason: str = "") -> Case:
    """属地流转: give the case to the center whose territory holds it."""
    _require(actor, *CENTER_STAFF, what="routing")
    limits.check_note(reason, "reason")
    target = await resolve_ref(actor, Center, center_id, "centerId")
    async with change():
        case = await _load_for_change(actor, case_id, "route")
        if not actor.system and not center_in_scope(actor, target.path):
            raise Forbidden("that center is outside your jurisdiction", field="centerId")
        payload = await _move_to(case, target)
        await record_event(case, "case.routed", actor, payload | {"reason": reason})
    return case


async def escalate(actor: Actor, case_id: int, reason: str = "") -> Case:
    """上报: the case moves to the parent center (village → township → county)."""
    _require(actor, *CENTER_STAFF, what="escalation")
    limits.check_note(reason, "reason")
    async with change():
        case = await _load_for_change(actor, case_id, "escalate")
        owner = await Center.get(id=case.center_id)
        if owner.parent_id is None:
            raise ValidationFailed("the case is already at the top center", field="caseId")
        parent = await Center.get(id=owner.parent_id)
        payload = await _move_to(case, parent)
        await record_event(
            case, "case.escalated", actor, payload | {"reason": reason, "level": str(parent.level)}
        )
    return case


async def flag_risk(actor: Actor, case_id: int, level: Risk | str, reason: str) -> Case:
    _require(actor, *CENTER_STAFF, Role.mediator, what="flagging risk")
    level = Risk(level)
    if not reason or not reason.strip():
        raise ValidationFailed("a risk flag needs a reason", field="reason")
    limits.check_note(reason, "reason")
    async with change():
        case = await _load_for_change(actor, case_id, "flag_risk")
        previous = case.risk
        case.risk = level
        await _save(case, "risk")
        await record_event(
            case, "case.risk_flagged", actor, {"level": level.value, "from": str(previous), "reason": reason}
        )
    return case


async def tag(actor: Actor, case_id: int, add: list[str], remove: list[str] | None = None) -> Case:
    _require(actor, *CENTER_STAFF, Role.mediator, what="tagging")
    limits.check_tags(add, "add")
    limits.check_tags(remove or [], "remove")
    async with change():
        case = await _load_for_change(actor, case_id, "tag")
        tags = (set(case.tags) | {t.strip() for t in add}) - set(remove or [])
        case.tags = sorted(tags)
        await _save(case, "tags")
        await record_event(case, "case.tagged", actor, {"added": add, "removed": remove or []})
    return case


async def set_deadline(
    actor: Actor,
    case_id: int,
    *,
    respond_by: datetime | None = None,
    resolve_by: datetime | None = None,
    note: str = "",
) -> Case:
    _require(actor, *CENTER_STAFF, what="setting deadlines")
    if respond_by is None and resolve_by is None:
        raise ValidationFailed("give respondBy or resolveBy", field="resolveBy")
    respond_by = limits.check_deadline(respond_by, "respondBy", now())
    resolve_by = limits.check_deadline(resolve_by, "resolveBy", now())
    limits.check_note(note, "note")
    async with change():
        case = await _load_for_change(actor, case_id, "set_deadline")
        if respond_by is not None:
            case.respond_by = respond_by
        if resolve_by is not None:
            set_at = now()
            share = security.settings().deadline_warning_share
            case.resolve_by = resolve_by
            case.warn_at = set_at + (resolve_by - set_at) * share if resolve_by > set_at else resolve_by
            case.warned_at = case.overdue_at = None
        case.deadline_note = note[:200]
        await _save(case, "respond_by", "resolve_by", "warn_at", "warned_at", "overdue_at", "deadline_note")
        await record_event(
            case,
            "case.deadline_set",
            actor,
            {
                "respond_by": case.respond_by.isoformat() if case.respond_by else None,
                "resolve_by": case.resolve_by.isoformat() if case.resolve_by else None,
                "note": note,
            },
        )
    return case
