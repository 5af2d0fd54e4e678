"""The registry in grids: houses with their owners and occupants, units, key-group tags, case links.

Changes are allowed in the grids the actor may write (``jurisdiction_registry``) and audited. A
unit's contact phone is personal data like a person's phone: encrypted, looked up by keyed hash.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from zongzhi.platform.base import pii
from zongzhi.platform.base.errors import Forbidden, NotFound, ValidationFailed
from zongzhi.platform.base.registry_codes import (
    HOUSE_ROLES,
    HOUSE_USES,
    KEY_GROUPS,
    UNIT_KINDS,
    credit_code_problem,
)
from zongzhi.platform.base.security import cipher
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import resolve_ref, scoped_cases
from zongzhi.platform.domain.jurisdiction_registry import grid_writable, visible_grids
from zongzhi.platform.models import Case, CaseLink, Grid, House, HouseMember, OrgUnit, Person, PersonTag
from zongzhi.platform.services.masterdata import record


@dataclass
class HouseInput:
    code: str
    address: str
    grid_id: int
    building: str = ""
    entrance: str = ""
    room: str = ""
    use: str = "residential"
    lat: float | None = None
    lng: float | None = None


@dataclass
class UnitInput:
    name: str
    kind: str
    credit_code: str
    grid_id: int
    address: str = ""
    contact_name: str = ""
    contact_phone: str | None = None


def house_problem(data: HouseInput) -> tuple[str, str] | None:
    """``(field, message)`` for the first thing wrong with a house, or ``None``."""
    if not data.code or len(data.code) > 60:
        return "code", "a house code of 1-60 characters is required"
    if not data.address or len(data.address) > 255:
        return "address", "an address of 1-255 characters is required"
    for name in ("building", "entrance", "room"):
        if len(getattr(data, name)) > 40:
            return name, "at most 40 characters"
    if data.use not in HOUSE_USES:
        return "use", f"one of {', '.join(HOUSE_USES)}"
    if (data.lat is None) != (data.lng is None):
        return "lat", "give both latitude and longitude, or neither"
    if data.lat is not None and not (-90 <= data.lat <= 90 and -180 <= data.lng <= 180):  # type: ignore[operator]
        return "lat", "not a latitude/longitude"
    return None


def unit_problem(data: UnitInput) -> tuple[str, str] | None:
    if not data.name or len(data.name) > 120:
        return "name", "a name of 1-120 characters is required"
    if data.kind not in UNIT_KINDS:
        return "kind", f"one of {', '.join(UNIT_KINDS)}"
    problem = credit_code_problem(data.credit_code or "")
    if problem:
        return "creditCode", problem
    if data.contact_phone and pii.phone_problem(data.contact_phone):
        return "contactPhone", "must be a mobile or landline number"
    if len(data.address) > 255 or len(data.contact_name) > 60:
        return "address", "too long"
    return None


async def _writable_grid(actor: Actor, grid_id: int, field: str = "gridId") -> Grid:
    grid = await resolve_ref(actor, Grid, grid_id, field)
    if not await grid_writable(actor, grid.id):
        raise Forbidden("that grid is outside your jurisdiction", field=field)
    return grid


async def registry_person(actor: Actor, person_id: int, field: str = "personId") -> Person:
    """A person registered in the actor's registry grids, else ``NOT_FOUND`` (as for no such person).

    The registry's reference to a person: its residents, not ``visible(actor, Person)``, which lets a
    county-wide admin see people only through cases.
    """
    grids = Subquery(visible_grids(actor).values("id"))
    person = await Person.filter(id=person_id, grid_id__in=grids).first()
    if person is None:
        raise NotFound(f"no person {person_id} in your grids", field=field)
    return person


async def save_house(actor: Actor, data: HouseInput) -> House:
    """Create the house with this code, or update it (the code is the county's house number)."""
    problem = house_problem(data)
    if problem:
        raise ValidationFailed(problem[1], field=problem[0])
    await _writable_grid(actor, data.grid_id)
    existing = await House.get_or_none(code=data.code)
    if existing is not None and not await grid_writable(actor, existing.grid_id):
        raise Forbidden("that house is outside your jurisdiction", field="code")
    values = {
        k: getattr(data, k)
        for k in ("address", "building", "entrance", "room", "grid_id", "use", "lat", "lng")
    }
    async with in_transaction():
        if existing is None:
            house = await House.create(code=data.code, **values)
            action = "house.create"
        else:
            await House.filter(id=existing.id).update(**values)
            house = await House.get(id=existing.id)
            action = "house.update"
        await record(actor, action, f"house:{house.id}", {"code": house.code})
    return house


async def link_person(
    actor: Actor, house_id: int, person_id: int, role: str | None, relation: str = ""
) -> None:
    """Link a person to a house as owner, occupant or tenant, with their relation; ``None`` unlinks."""
    house = await resolve_ref(actor, House, house_id, "houseId")
    await _writable_grid(actor, house.grid_id, "houseId")
    # Only someone already in your grids: linking would otherwise show a stranger's record on your house.
    await registry_person(actor, person_id)
    if role is not None and role not in HOUSE_ROLES:
        raise ValidationFailed(f"role is one of {', '.join(HOUSE_ROLES)}", field="role")
    if len(relation) > 20:
        raise ValidationFailed("at most 20 characters", field="relation")
    async with in_transaction():
        if role is None:
            await HouseMember.filter(house_id=house.id, person_id=person_id).delete()
        else:
            await HouseMember.update_or_create(
                house_id=house.id, person_id=person_id, defaults={"role": role, "relation": relation}
            )
        await record(actor, "house.member", f"house:{house.id}", {"person": person_id, "role": role})


async def save_unit(actor: Actor, data: UnitInput) -> OrgUnit:
    """Create the unit with this credit code, or update it."""
    problem = unit_problem(data)
    if problem:
        raise ValidationFailed(problem[1], field=problem[0])
    await _writable_grid(actor, data.grid_id)
    code = data.credit_code.strip().upper()
    existing = await OrgUnit.get_or_none(credit_code=code)
    if existing is not None and not await grid_writable(actor, existing.grid_id):
        raise Forbidden("that unit is outside your jurisdiction", field="creditCode")
    values = unit_values(data)
    async with in_transaction():
        if existing is None:
            unit = await OrgUnit.create(credit_code=code, **values)
            action = "unit.create"
        else:
            await OrgUnit.filter(id=existing.id).update(**values)
            unit = await OrgUnit.get(id=existing.id)
            action = "unit.update"
        await record(actor, action, f"unit:{unit.id}", {"creditCode": code})
    return unit


def unit_values(data: UnitInput) -> dict:
    phone = pii.normalise_phone(data.contact_phone) if data.contact_phone else None
    c = cipher()
    return {
        "name": data.name.strip(),
        "kind": data.kind,
        "address": data.address,
        "grid_id": data.grid_id,
        "contact_name": data.contact_name,
        "contact_phone_enc": c.encrypt(phone) if phone else None,
        "contact_phone_hash": c.lookup_hash(phone) if phone else None,
    }


def contact_phone_of(unit: OrgUnit) -> str | None:
    return cipher().decrypt(unit.contact_phone_enc) if unit.contact_phone_enc else None


async def tag_person(actor: Actor, person_id: int, tag: str, note: str = "", on: bool = True) -> None:
    """Put a person in a key group (独居老人, 重点人员, ...) or take them out.

    Needs a role that may see the tag.
    """
    from zongzhi.platform.base.registry_codes import may_see_tag

    if tag not in KEY_GROUPS:
        raise ValidationFailed(f"tag is one of {', '.join(KEY_GROUPS)}", field="tag")
    if not may_see_tag(actor.roles, tag, actor.system):
        raise Forbidden("your role may not see that key group", field="tag")
    person = await registry_person(actor, person_id)
    if person.grid_id is None or not await grid_writable(actor, person.grid_id):
        raise Forbidden("that person is outside the grids you keep", field="personId")
    async with in_transaction():
        if on:
            await PersonTag.update_or_create(
                person_id=person.id, tag=tag, defaults={"note": note[:255], "created_by_id": actor.user_id}
            )
        else:
            await PersonTag.filter(person_id=person.id, tag=tag).delete()
        await record(actor, "person.tag" if on else "person.untag", f"person:{person.id}", {"tag": tag})


async def link_case(
    actor: Actor, case_id: int, house_id: int | None = None, unit_id: int | None = None
) -> Case:
    """Link a case you may see to a house or a unit you may see."""
    case = await resolve_ref(actor, Case, case_id, "caseId")
    if (house_id is None) == (unit_id is None):
        raise ValidationFailed("give either houseId or unitId", field="houseId")
    if house_id is not None:
        await resolve_ref(actor, House, house_id, "houseId")
    if unit_id is not None:
        await resolve_ref(actor, OrgUnit, unit_id, "unitId")
    async with in_transaction():
        await CaseLink.get_or_create(case_id=case.id, house_id=house_id, org_unit_id=unit_id)
        await record(
            actor, "case.link", f"case:{case.id}", {"case": case.id, "house": house_id, "unit": unit_id}
        )
    return case


def cases_of_person(actor: Actor, person_id: int):
    return scoped_cases(actor).filter(parties__person_id=person_id).distinct().order_by("-created_at")


def cases_of_house(actor: Actor, house_id: int):
    return scoped_cases(actor).filter(registry_links__house_id=house_id).distinct().order_by("-created_at")


def cases_of_unit(actor: Actor, unit_id: int):
    return scoped_cases(actor).filter(registry_links__org_unit_id=unit_id).distinct().order_by("-created_at")
