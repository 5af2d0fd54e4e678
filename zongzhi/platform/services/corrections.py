"""Corrections after intake (更正): a case's own fields and its parties, each a timeline event.

Every change records what it was before and after (``case.updated``, ``case.party_added``,
``case.party_removed``). A reason is required where the practice asks for one: a new category or
kind (it moves the case in the statistics and its deadline rules), removing a party, and any
correction to a concluded case.
"""

from __future__ import annotations

from dataclasses import dataclass

from zongzhi.platform.base import limits
from zongzhi.platform.base.codes import CATEGORIES, KINDS, PartyRole
from zongzhi.platform.base.errors import NotFound, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import resolve_ref
from zongzhi.platform.models import Case, CaseParty, Person
from zongzhi.platform.services.case_access import load_for_step, save_case
from zongzhi.platform.services.lifecycle import CONCLUDED, require_roles
from zongzhi.platform.services.outbox import change, record_event
from zongzhi.platform.services.people import PersonInput, find_or_create_person

#: Fields whose change needs a reason.
REASON_NEEDED = frozenset({"category", "kind"})


@dataclass
class CaseChanges:
    """The fields to correct; ``None`` leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    category: str | None = None
    kind: str | None = None
    lat: float | None = None
    lng: float | None = None
    address: str | None = None
    tags: list[str] | None = None
    reason: str = ""


def _validate(c: CaseChanges) -> None:
    if c.title is not None:
        limits.check_text(c.title, "title", limits.TITLE_MAX, required=True)
    if c.description is not None:
        limits.check_text(c.description, "description", limits.DESCRIPTION_MAX, multiline=True)
    if c.address is not None:
        limits.check_text(c.address, "location.address", limits.ADDRESS_MAX)
    if c.category is not None and c.category not in CATEGORIES:
        raise ValidationFailed(f"unknown category {c.category!r}", field="category")
    if c.kind is not None and c.kind not in KINDS:
        raise ValidationFailed(f"unknown kind {c.kind!r}", field="kind")
    if c.tags is not None:
        limits.check_tags(c.tags, "tags")
    if c.lat is not None and not -90 <= c.lat <= 90:
        raise ValidationFailed("latitude is -90 to 90", field="location.lat")
    if c.lng is not None and not -180 <= c.lng <= 180:
        raise ValidationFailed("longitude is -180 to 180", field="location.lng")
    limits.check_note(c.reason, "reason")


def _need_reason(reason: str, concluded: bool, why: str) -> None:
    if not reason.strip():
        when = "a concluded case" if concluded else why
        raise ValidationFailed(f"correcting {when} needs a reason (更正理由)", field="reason")


async def update_case(actor: Actor, case_id: int, changes: CaseChanges) -> Case:
    """更正: correct the case's own fields; one ``case.updated`` event with each field's before and after."""
    require_roles(actor, "update")
    _validate(changes)
    async with change():
        case = await load_for_step(actor, case_id, "update")
        diff: dict[str, dict] = {}
        new = {
            "title": changes.title.strip() if changes.title is not None else None,
            "description": changes.description,
            "category": changes.category,
            "kind": changes.kind,
            "lat": changes.lat,
            "lng": changes.lng,
            "address": changes.address,
            "tags": sorted({t.strip() for t in changes.tags}) if changes.tags is not None else None,
        }
        for name, value in new.items():
            if value is None or getattr(case, name) == value:
                continue
            diff[name] = {"before": getattr(case, name), "after": value}
            setattr(case, name, value)
        if not diff:
            raise ValidationFailed(
                "nothing to change: every given field has that value already", field="input"
            )
        concluded = case.status in CONCLUDED or case.concluded_at is not None
        if concluded or REASON_NEEDED & set(diff):
            _need_reason(changes.reason, concluded, "the category or kind")
        await save_case(case, *diff)
        await record_event(case, "case.updated", actor, {"changes": diff, "reason": changes.reason.strip()})
    return case


async def add_party(
    actor: Actor,
    case_id: int,
    role: PartyRole | str,
    *,
    person_id: int | None = None,
    person: PersonInput | None = None,
    reason: str = "",
) -> Case:
    """Add a party (an existing person by ID, or a new one by name and ID number, as at intake)."""
    require_roles(actor, "change_party")
    role = PartyRole(role)
    limits.check_note(reason, "reason")
    if (person_id is None) == (person is None):
        raise ValidationFailed("give exactly one of personId and person", field="personId")
    if person_id is not None:
        await resolve_ref(actor, Person, person_id, "personId")
    async with change():
        case = await load_for_step(actor, case_id, "change_party")
        if case.status in CONCLUDED or case.concluded_at is not None:
            _need_reason(reason, True, "")
        blind = False
        if person is not None:
            found, blind = await find_or_create_person(person, actor, "person.")
            person_id = found.id
        if await CaseParty.filter(case_id=case.id, person_id=person_id, role=role).exists():
            raise ValidationFailed("that person is already a party in that role", field="personId")
        await CaseParty.create(case=case, person_id=person_id, role=role, blind=blind)
        await save_case(case)
        await record_event(
            case,
            "case.party_added",
            actor,
            {"person_id": person_id, "role": role.value, "blind": blind, "reason": reason.strip()},
        )
    return case


async def remove_party(
    actor: Actor, case_id: int, person_id: int, role: PartyRole | str, reason: str
) -> Case:
    """Remove a party entered by mistake; always with a reason, and the record of who it was stays."""
    require_roles(actor, "change_party")
    role = PartyRole(role)
    limits.check_note(reason, "reason")
    if not reason or not reason.strip():
        raise ValidationFailed("removing a party needs a reason (更正理由)", field="reason")
    async with change():
        case = await load_for_step(actor, case_id, "change_party")
        party = await CaseParty.get_or_none(case_id=case.id, person_id=person_id, role=role)
        if party is None:
            raise NotFound("that person is not a party to this case in that role", field="personId")
        await party.delete()
        await save_case(case)
        await record_event(
            case,
            "case.party_removed",
            actor,
            {"person_id": person_id, "role": role.value, "blind": party.blind, "reason": reason.strip()},
        )
    return case
