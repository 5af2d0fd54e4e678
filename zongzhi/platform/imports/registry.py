"""``zongzhi import residents residents.csv`` and ``zongzhi import units units.csv``.

residents.csv, one row per person in a house: ``house_code, address, grid`` and optionally
``building, entrance`` (单元), ``room, use``; then the person: ``name, id_number`` (the key: one
resident, one record), optionally ``phone, role`` (owner / occupant / tenant, default occupant),
``relation`` (户主, 配偶, 子女, ...) and ``tags`` (key groups by code or label: 独居老人|重点人员).
A house is keyed by its code; rows of the same house must agree on the house's columns.

units.csv: ``credit_code`` (统一社会信用代码, check character verified), ``name, kind`` (enterprise,
shop, school, organisation, other), ``grid`` and optionally ``address, contact_name, contact_phone``.

ID and phone numbers are encrypted as they are written; the report never prints them.
"""

from __future__ import annotations

from pathlib import Path

from tortoise.transactions import in_transaction

from zongzhi.platform.base import pii
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.base.registry_codes import HOUSE_ROLES, key_group
from zongzhi.platform.base.security import cipher
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction_registry import visible_grids
from zongzhi.platform.imports.common import ImportReport, Problem, read_csv, record, refuse_if_bad, split_list
from zongzhi.platform.models import Grid, House, HouseMember, OrgUnit, Person, PersonTag
from zongzhi.platform.services.people import PersonInput, validate_person
from zongzhi.platform.services.registry import HouseInput, UnitInput, house_problem, unit_problem, unit_values

_HOUSE_COLUMNS = ("address", "building", "entrance", "room", "grid_id", "use")
_ROLE_LABELS = {label: code for code, label in HOUSE_ROLES.items()} | {c: c for c in HOUSE_ROLES}


async def _grids(actor: Actor) -> tuple[dict[str, Grid], set[int]]:
    grids = {g.code: g for g in await Grid.all()}
    writable = set(await visible_grids(actor).values_list("id", flat=True))
    return grids, writable


async def import_residents(actor: Actor, path: Path | str) -> ImportReport:
    report = ImportReport("residents")
    rows = read_csv(path, ["house_code", "address", "grid", "name", "id_number"])
    report.rows = len(rows)
    grids, writable = await _grids(actor)
    houses: dict[str, HouseInput] = {}
    people: dict[str, tuple] = {}
    c = cipher()
    for where, row in rows:

        def bad(field: str, message: str, where: str = where) -> None:
            report.problems.append(Problem(where, field, message))

        grid = grids.get(row["grid"])
        if grid is None:
            bad("grid", f"no grid {row['grid']}")
            continue
        if grid.id not in writable:
            bad("grid", "outside your jurisdiction")
            continue
        house = HouseInput(
            code=row["house_code"],
            address=row["address"],
            grid_id=grid.id,
            building=row.get("building", ""),
            entrance=row.get("entrance", ""),
            room=row.get("room", ""),
            use=row.get("use", "") or "residential",
        )
        problem = house_problem(house)
        if problem:
            bad("house_code" if problem[0] == "code" else problem[0], problem[1])
            continue
        if house.code in houses and houses[house.code] != house:
            bad("house_code", f"house {house.code} is described differently on an earlier row")
            continue
        houses[house.code] = house
        person = PersonInput(name=row["name"], id_number=row["id_number"], phone=row.get("phone") or None)
        try:
            validate_person(person)
        except ValidationFailed as exc:
            bad({"idNumber": "id_number"}.get(exc.field or "name", exc.field or "name"), exc.message)
            continue
        if not row["id_number"]:
            bad("id_number", "required: it is how a resident is recognised on the next import")
            continue
        role = _ROLE_LABELS.get(row.get("role", "") or "occupant")
        if role is None:
            bad("role", f"one of {', '.join(HOUSE_ROLES)}")
            continue
        tags = []
        for t in split_list(row.get("tags", "")):
            code = key_group(t)
            if code is None:
                bad("tags", f"unknown key group {t}")
                break
            tags.append(code)
        else:
            id_hash = c.lookup_hash(pii.normalise_id_number(row["id_number"]))
            key = (id_hash, house.code)
            if key in people:
                bad("id_number", "the same person twice in the same house")
                continue
            people[key] = (person, role, row.get("relation", "")[:20], tags)
    refuse_if_bad(report)

    async with in_transaction():
        by_code = {h.code: h for h in await House.filter(code__in=list(houses))}
        for code, data in houses.items():
            values = {k: getattr(data, k) for k in _HOUSE_COLUMNS}
            old = by_code.get(code)
            if old is None:
                by_code[code] = await House.create(code=code, **values)
                report.created.append(f"house {code}")
            elif any(getattr(old, k) != v for k, v in values.items()):
                await House.filter(id=old.id).update(**values)
                report.updated.append(f"house {code}")
            else:
                report.unchanged += 1
        for (id_hash, house_code), (data, role, relation, tags) in people.items():
            house = by_code[house_code]
            label = f"person on {house_code}"
            person = await Person.get_or_none(id_number_hash=id_hash)
            phone = pii.normalise_phone(data.phone) if data.phone else None
            changed = False
            if person is None:
                person = await Person.create(
                    name=data.name.strip(),
                    id_number_enc=c.encrypt(pii.normalise_id_number(data.id_number or "")),
                    id_number_hash=id_hash,
                    phone_enc=c.encrypt(phone) if phone else None,
                    phone_hash=c.lookup_hash(phone) if phone else None,
                    address=house.address,
                    grid_id=house.grid_id,
                )
                report.created.append(label)
                changed = None
            else:
                updates = {}
                if person.name != data.name.strip():
                    updates["name"] = data.name.strip()
                if phone and person.phone_hash != c.lookup_hash(phone):
                    updates.update(phone_enc=c.encrypt(phone), phone_hash=c.lookup_hash(phone))
                if person.grid_id != house.grid_id or person.address != house.address:
                    updates.update(grid_id=house.grid_id, address=house.address)
                if updates:
                    await Person.filter(id=person.id).update(**updates)
                    changed = True
            link = await HouseMember.get_or_none(house_id=house.id, person_id=person.id)
            if link is None:
                await HouseMember.create(house_id=house.id, person_id=person.id, role=role, relation=relation)
                changed = changed if changed is None else True
            elif (link.role, link.relation) != (role, relation):
                await HouseMember.filter(id=link.id).update(role=role, relation=relation)
                changed = changed if changed is None else True
            have = set(await PersonTag.filter(person_id=person.id).values_list("tag", flat=True))
            for tag in set(tags) - have:
                await PersonTag.create(person_id=person.id, tag=tag, created_by_id=actor.user_id)
                changed = changed if changed is None else True
            if changed:
                report.updated.append(label)
            elif changed is False:
                report.unchanged += 1
        await record(actor, report, Path(path).name)
    return report


async def import_units(actor: Actor, path: Path | str) -> ImportReport:
    report = ImportReport("units")
    rows = read_csv(path, ["credit_code", "name", "kind", "grid"])
    report.rows = len(rows)
    grids, writable = await _grids(actor)
    good: dict[str, UnitInput] = {}
    for where, row in rows:
        grid = grids.get(row["grid"])
        if grid is None or grid.id not in writable:
            report.problems.append(Problem(where, "grid", f"no grid {row['grid']} in your jurisdiction"))
            continue
        data = UnitInput(
            name=row["name"],
            kind=row["kind"],
            credit_code=row["credit_code"].upper(),
            grid_id=grid.id,
            address=row.get("address", ""),
            contact_name=row.get("contact_name", ""),
            contact_phone=row.get("contact_phone") or None,
        )
        problem = unit_problem(data)
        if problem:
            field = {"creditCode": "credit_code", "contactPhone": "contact_phone"}.get(problem[0], problem[0])
            report.problems.append(Problem(where, field, problem[1]))
            continue
        if data.credit_code in good:
            report.problems.append(Problem(where, "credit_code", "appears twice in the file"))
            continue
        good[data.credit_code] = data
    refuse_if_bad(report)
    async with in_transaction():
        existing = {u.credit_code: u for u in await OrgUnit.filter(credit_code__in=list(good))}
        for code, data in good.items():
            values = unit_values(data)
            old = existing.get(code)
            if old is None:
                await OrgUnit.create(credit_code=code, **values)
                report.created.append(code)
                continue
            same_phone = old.contact_phone_hash == values["contact_phone_hash"]
            plain = {k: v for k, v in values.items() if not k.startswith("contact_phone")}
            if same_phone and all(getattr(old, k) == v for k, v in plain.items()):
                report.unchanged += 1
                continue
            if same_phone:
                values = plain
            await OrgUnit.filter(id=old.id).update(**values)
            report.updated.append(code)
        await record(actor, report, Path(path).name)
    return report
