"""The registry over GraphQL: visible in your grids only, PII masked by role and every reveal audited."""

from __future__ import annotations

import pytest

from tests.casework import actor, new_case
from tests.gql import GraphQLErrors, gql
from zongzhi.platform.base.codes import PartyRole
from zongzhi.platform.base.registry_codes import uscc_check_char
from zongzhi.platform.models import AuditLog, CaseParty, House, HouseMember, OrgUnit
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import registry as svc
from zongzhi.platform.services.people import PersonInput, find_or_create_person

CREDIT = "91330110MA2B3C4D5" + uscc_check_char("91330110MA2B3C4D5")
ID_NUMBER = "110101199003074514"

HOUSE = """query($id: ID!) { house(id: $id) { code address members { role relation person { name idNumber phone
  keyGroups { code label } } } cases { number } } }"""
UNIT = """query($id: ID!) { orgUnit(id: $id) { name creditCode contactPhone cases { number } } }"""


async def registry(world):
    system = await actor(world, "admin")
    house = await svc.save_house(
        system, svc.HouseInput(code="H-A1-1", address="甲一村1号", grid_id=world.grids["a1g1"].id)
    )
    person, _ = await find_or_create_person(
        PersonInput(name="张老伯", id_number=ID_NUMBER, phone="13800138000", grid_id=world.grids["a1g1"].id),
        system,
    )
    await svc.link_person(system, house.id, person.id, "owner", "户主")
    await svc.tag_person(system, person.id, "elderly_alone")
    await svc.tag_person(system, person.id, "key_person", "社区矫正")
    unit = await svc.save_unit(
        system,
        svc.UnitInput(
            name="甲一商店",
            kind="shop",
            credit_code=CREDIT,
            grid_id=world.grids["a1g1"].id,
            contact_phone="13900139000",
        ),
    )
    return house, person, unit


async def test_house_page_masks_by_role_and_audits_reveals(client, world):
    house, person, unit = await registry(world)
    hid, uid = to_global_id("House", house.id), to_global_id("OrgUnit", unit.id)
    before = await AuditLog.filter(action="pii.read").count()
    seen = (await gql(client, world.tokens["a1_grid"], HOUSE, {"id": hid}))["house"]
    member = seen["members"][0]
    assert member["person"]["idNumber"] == "110101********4514" and member["person"]["phone"] == "138****8000"
    assert (member["role"], member["relation"]) == ("owner", "户主")
    assert {g["code"] for g in member["person"]["keyGroups"]} == {"elderly_alone", "key_person"}
    unit_seen = (await gql(client, world.tokens["a1_grid"], UNIT, {"id": uid}))["orgUnit"]
    assert unit_seen["contactPhone"] == "139****9000" and unit_seen["creditCode"] == CREDIT
    assert await AuditLog.filter(action="pii.read").count() == before  # nothing was revealed

    staff = (await gql(client, world.tokens["a_staff"], HOUSE, {"id": hid}))["house"]
    assert staff["members"][0]["person"]["idNumber"] == ID_NUMBER
    assert [g["code"] for g in staff["members"][0]["person"]["keyGroups"]] == [
        "elderly_alone"
    ]  # not 重点人员
    assert (await gql(client, world.tokens["a_staff"], UNIT, {"id": uid}))["orgUnit"][
        "contactPhone"
    ] == "13900139000"
    rows = await AuditLog.filter(action="pii.read").order_by("id")
    assert [(r.actor_id, r.target) for r in rows[-2:]] == [
        (world.users["a_staff"].id, "person"),
        (world.users["a_staff"].id, "org_unit"),
    ]
    assert rows[-2].details["people"] == [person.id] and rows[-1].details["units"] == [unit.id]


async def test_registry_is_visible_only_in_your_grids(client, world):
    house, _person, unit = await registry(world)
    for who in ["b_staff", "b1_grid", "housing_officer", "court_partner"]:
        data = await gql(
            client,
            world.tokens[who],
            "query($h: ID!, $u: ID!) { house(id: $h) { code } orgUnit(id: $u) { name } houses { code } orgUnits { name } }",
            {"h": to_global_id("House", house.id), "u": to_global_id("OrgUnit", unit.id)},
        )
        assert data == {"house": None, "orgUnit": None, "houses": [], "orgUnits": []}, who
    data = await gql(client, world.tokens["county_staff"], "{ houses { code } orgUnits { name } }")
    assert data == {"houses": [{"code": "H-A1-1"}], "orgUnits": [{"name": "甲一商店"}]}


async def test_another_townships_staff_cannot_write_the_registry(client, world):
    save = """mutation($i: HouseInput!) { saveHouse(input: $i) { code } }"""
    variables = {"i": {"code": "H-X", "address": "x", "gridId": to_global_id("Grid", world.grids["a1g1"].id)}}
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, world.tokens["b_staff"], save, variables)
    assert refused.value.code == "NOT_FOUND"  # another township's grid: as if it did not exist
    with pytest.raises(GraphQLErrors) as refused:  # a grid worker writes only their own grids
        await gql(
            client,
            world.tokens["a1_grid"],
            save,
            {"i": {**variables["i"], "gridId": to_global_id("Grid", world.grids["a1g2"].id)}},
        )
    assert refused.value.code == "FORBIDDEN"
    assert (await gql(client, world.tokens["a1_grid"], save, variables))["saveHouse"]["code"] == "H-X"
    assert not await House.filter(code="H-X").exclude(grid_id=world.grids["a1g1"].id).exists()


async def test_unit_credit_codes_and_house_uses_are_validated(client, world):
    save = """mutation($i: OrgUnitInput!) { saveOrgUnit(input: $i) { name } }"""
    grid = to_global_id("Grid", world.grids["a1g1"].id)
    for code in ["91330110MA2B3C4D5" + ("0" if CREDIT[-1] != "0" else "1"), "9133011", "91330110MA2B3C4D5I"]:
        with pytest.raises(GraphQLErrors) as refused:
            await gql(
                client,
                world.tokens["a_staff"],
                save,
                {"i": {"name": "x", "kind": "shop", "creditCode": code, "gridId": grid}},
            )
        assert (refused.value.code, refused.value.field) == ("VALIDATION", "creditCode")
    with pytest.raises(GraphQLErrors) as refused:
        await gql(
            client,
            world.tokens["a_staff"],
            "mutation($i: HouseInput!) { saveHouse(input: $i) { code } }",
            {"i": {"code": "H", "address": "x", "gridId": grid, "use": "palace"}},
        )
    assert (refused.value.code, refused.value.field) == ("VALIDATION", "use")
    assert not await OrgUnit.exists()


async def test_a_persons_and_a_houses_cases_are_those_in_your_jurisdiction(client, world):
    house, person, _unit = await registry(world)
    in_a = await new_case(world, "a1g1", "a1_grid")
    in_b = await new_case(world, "b1g1", "b1_grid")
    for case in (in_a, in_b):
        await CaseParty.create(case=case, person=person, role=PartyRole.other)
        await svc.link_case(await actor(world, "county_staff"), case.id, house_id=house.id)
    query = """query($p: ID!, $h: ID!) { node(id: $p) { ... on Person { cases { number } houses { code } } }
      house(id: $h) { cases { number } } }"""
    variables = {"p": to_global_id("Person", person.id), "h": to_global_id("House", house.id)}
    data = await gql(client, world.tokens["a_staff"], query, variables)
    assert data["node"]["cases"] == [{"number": in_a.number}]
    assert data["node"]["houses"] == [{"code": "H-A1-1"}]
    assert data["house"]["cases"] == [{"number": in_a.number}]
    data = await gql(client, world.tokens["county_staff"], query, variables)
    assert {c["number"] for c in data["house"]["cases"]} == {in_a.number, in_b.number}
    case_query = "query($c: ID!) { node(id: $c) { ... on Case { houses { code } } } }"
    data = await gql(client, world.tokens["b_staff"], case_query, {"c": to_global_id("Case", in_b.id)})
    assert data["node"]["houses"] == []  # the case is theirs, the house is not


async def test_key_group_people_follow_the_tags_roles(client, world):
    await registry(world)
    query = "query($t: String!) { keyGroupPeople(tag: $t) { name } }"
    assert (await gql(client, world.tokens["a1_grid"], query, {"t": "key_person"}))["keyGroupPeople"] == [
        {"name": "张老伯"}
    ]
    assert (await gql(client, world.tokens["a_staff"], query, {"t": "key_person"}))["keyGroupPeople"] == []
    assert (await gql(client, world.tokens["a_staff"], query, {"t": "elderly_alone"}))["keyGroupPeople"] == [
        {"name": "张老伯"}
    ]
    assert (await gql(client, world.tokens["b_staff"], query, {"t": "elderly_alone"}))["keyGroupPeople"] == []


async def test_a_person_from_outside_your_grids_cannot_be_linked_to_your_house(client, world):
    house, _person, _unit = await registry(world)
    stranger, _ = await find_or_create_person(
        PersonInput(name="乙村村民", id_number="11010119900101001" + "5", grid_id=world.grids["b1g1"].id),
        await actor(world, "admin"),
    )
    link = """mutation($h: ID!, $p: ID!) { linkHouseMember(houseId: $h, personId: $p, role: "occupant") { code } }"""
    variables = {"h": to_global_id("House", house.id), "p": to_global_id("Person", stranger.id)}
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, world.tokens["a1_staff"], link, variables)
    assert (refused.value.code, refused.value.field) == ("NOT_FOUND", "personId")
    assert not await HouseMember.filter(person_id=stranger.id).exists()
