"""People: residents who are parties to cases, with ID and phone numbers protected.

Which people an actor may see is ``jurisdiction.people_q`` (parties to the cases they can see, and
the residents of their territory's grids). Intake keeps one record per resident: a new party whose
ID number is already known is linked to that record. When the filer could not see the record, the
link is *blind* (``CaseParty.blind``): it counts for the rules (prior cases, repeated parties) but
gives the filer no sight of the record, whose name, phone and address stay masked to them, so
knowing someone's ID number is not a way to read their phone or address.
"""

from __future__ import annotations

from dataclasses import dataclass

from zongzhi.platform.base import limits, pii
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.base.security import cipher
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import may_see_person, resolve_ref
from zongzhi.platform.models import Grid, Person


@dataclass
class PersonInput:
    name: str
    id_number: str | None = None
    phone: str | None = None
    address: str = ""
    grid_id: int | None = None


def validate_person(data: PersonInput, field_prefix: str = "") -> None:
    limits.check_text(data.name, f"{field_prefix}name", limits.NAME_MAX, required=True)
    limits.check_text(data.address, f"{field_prefix}address", limits.ADDRESS_MAX)
    limits.check_text(data.id_number, f"{field_prefix}idNumber", 18 + 2)
    limits.check_text(data.phone, f"{field_prefix}phone", 20)
    if data.id_number:
        problem = pii.id_number_problem(data.id_number)
        if problem:
            raise ValidationFailed(f"ID number {problem}", field=f"{field_prefix}idNumber")
    if data.phone:
        problem = pii.phone_problem(data.phone)
        if problem:
            raise ValidationFailed(f"phone {problem}", field=f"{field_prefix}phone")


async def check_person_refs(data: PersonInput, actor: Actor, field_prefix: str = "") -> None:
    """The IDs inside a new person resolve through the actor's jurisdiction (NOT_FOUND otherwise)."""
    if data.grid_id is not None:
        await resolve_ref(actor, Grid, data.grid_id, f"{field_prefix}gridId")


async def find_or_create_person(
    data: PersonInput, actor: Actor, field_prefix: str = ""
) -> tuple[Person, bool]:
    """``(person, blind)``: the person with this ID number if one exists (one resident, one record),
    else a new one. ``blind`` is true when the record existed and ``actor`` could not see it."""
    person, blind = await new_person(data, actor, field_prefix)
    if person.id is None:
        await person.save()
    return person, blind


async def new_person(data: PersonInput, actor: Actor, field_prefix: str = "") -> tuple[Person, bool]:
    """``find_or_create_person`` without the write: a person not yet on record comes back unsaved
    (``id`` None) for its caller to insert."""
    validate_person(data, field_prefix)
    await check_person_refs(data, actor, field_prefix)
    c = cipher()
    id_hash = None
    if data.id_number:
        id_number = pii.normalise_id_number(data.id_number)
        id_hash = c.lookup_hash(id_number)
        existing = await Person.get_or_none(id_number_hash=id_hash)
        if existing is not None:
            return existing, not await may_see_person(actor, existing.id)
    phone = pii.normalise_phone(data.phone) if data.phone else None
    person = Person(
        name=data.name.strip(),
        id_number_enc=c.encrypt(pii.normalise_id_number(data.id_number)) if data.id_number else None,
        id_number_hash=id_hash,
        phone_enc=c.encrypt(phone) if phone else None,
        phone_hash=c.lookup_hash(phone) if phone else None,
        address=data.address,
        grid_id=data.grid_id,
    )
    return person, False


def id_number_of(person: Person) -> str | None:
    return cipher().decrypt(person.id_number_enc) if person.id_number_enc else None


def phone_of(person: Person) -> str | None:
    return cipher().decrypt(person.phone_enc) if person.phone_enc else None


def lookup_hash_for_id(id_number: str) -> str:
    return cipher().lookup_hash(pii.normalise_id_number(id_number))


def lookup_hash_for_phone(phone: str) -> str:
    return cipher().lookup_hash(pii.normalise_phone(phone))
