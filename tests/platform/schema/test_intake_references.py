"""Intake resolves every reference through the filer's jurisdiction and reveals nothing it did not supply.

- a ``personId`` of another township is NOT_FOUND, and person IDs cannot list residents;
- an ID number already on record links that record (one resident, one record) *blind* when the filer
  could not see it: the reply and every later read show the filer no name, phone or address of it;
- a case's grid must lie in its receiving center's subtree.
"""

from __future__ import annotations

import pytest

from tests.casework import actor
from tests.gql import GraphQLErrors, gql
from zongzhi.platform.base.codes import PartyRole
from zongzhi.platform.models import AuditLog, Case, CaseParty, Person
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.people import PersonInput, phone_of

CREATE = """mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id number
  parties { person { id name idNumber phone address grid { code } } } } } }"""
PARTIES = "query($id: ID!) { case(id: $id) { parties { person { name idNumber phone address } } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Person { name phone address } } }"
B_PERSON = PersonInput("王秘密", "330110198002021237", "13955550123", "乙镇保密路88号")


async def _b_resident(world) -> Person:
    """A resident known only in township B: a party to a case B's staff filed."""
    data = svc.CaseInput(
        title="乙镇纠纷",
        category="neighbor",
        grid_id=world.grids["b1g1"].id,
        parties=[svc.PartyInput(role=PartyRole.applicant, person=B_PERSON)],
    )
    case, _ = await svc.intake(data, await actor(world, "b_staff"))
    return await Person.get(id=(await CaseParty.get(case_id=case.id)).person_id)


def _input(**overrides):
    return {"title": "邻里纠纷", "category": "neighbor", **overrides}


async def test_a_known_id_number_links_the_record_blind(client, world):
    resident = await _b_resident(world)
    supplied = {"name": "自称某人", "idNumber": B_PERSON.id_number}
    made = await gql(
        client,
        world.tokens["a_staff"],
        CREATE,
        {"i": _input(parties=[{"role": "APPLICANT", "person": supplied}])},
    )
    (party,) = made["createCase"]["case"]["parties"]
    person = party["person"]
    assert person["id"] == to_global_id("Person", resident.id), "one resident, one record"
    assert person["name"] == "***" and person["phone"] is None and person["address"] == ""
    assert person["grid"] is None
    assert person["idNumber"] != B_PERSON.id_number  # masked, though the filer typed it
    for text in (B_PERSON.name, B_PERSON.phone, B_PERSON.address, "0123"):
        assert text not in str(made)
    assert await CaseParty.filter(person_id=resident.id, blind=True).count() == 1
    again = await gql(client, world.tokens["a_staff"], PARTIES, {"id": made["createCase"]["case"]["id"]})
    assert B_PERSON.phone not in str(again) and B_PERSON.name not in str(again)
    assert (await gql(client, world.tokens["a_staff"], NODE, {"id": person["id"]}))["node"] is None
    found = await gql(
        client,
        world.tokens["a_staff"],
        "query($n: String) { people(idNumber: $n) { edges { node { name } } } }",
        {"n": B_PERSON.id_number},
    )
    assert found["people"]["edges"] == []
    # The record is unchanged, and township B still sees it whole (its link is not blind).
    resident = await Person.get(id=resident.id)
    assert (resident.name, phone_of(resident), resident.address) == (
        B_PERSON.name,
        B_PERSON.phone,
        B_PERSON.address,
    )
    seen = await gql(client, world.tokens["b_staff"], NODE, {"id": person["id"]})
    assert seen["node"]["phone"] == B_PERSON.phone
    assert not await AuditLog.filter(action="pii.read", actor_id=world.users["a_staff"].id).exists()


async def test_a_visible_person_is_linked_in_full(client, world):
    """The same ID number filed again by township B's own staff is not blind: they see their resident."""
    resident = await _b_resident(world)
    supplied = {"name": "王秘密", "idNumber": B_PERSON.id_number}
    made = await gql(
        client,
        world.tokens["b_staff"],
        CREATE,
        {"i": _input(parties=[{"role": "APPLICANT", "person": supplied}])},
    )
    person = made["createCase"]["case"]["parties"][0]["person"]
    assert person["phone"] == B_PERSON.phone and person["address"] == B_PERSON.address
    assert not await CaseParty.filter(person_id=resident.id, blind=True).exists()


async def test_person_ids_of_another_township_are_not_found(client, world):
    resident = await _b_resident(world)
    before = await Case.all().count()
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            world.tokens["a_staff"],
            CREATE,
            {"i": _input(parties=[{"role": "APPLICANT", "personId": to_global_id("Person", resident.id)}])},
        )
    assert (err.value.code, err.value.field) == ("NOT_FOUND", "parties[0].personId")
    assert "王" not in str(err.value.errors)
    assert await Case.all().count() == before
    # Walking the sequential IDs finds no one outside the jurisdiction.
    top = (await Person.all().order_by("-id").first()).id
    for pk in range(1, top + 3):
        node = await gql(client, world.tokens["a_staff"], NODE, {"id": to_global_id("Person", pk)})
        assert node["node"] is None


async def test_a_case_cannot_take_one_townships_center_and_anothers_grid(client, world):
    crossed = _input(
        centerId=to_global_id("Center", world.centers["ta"].id),
        gridId=to_global_id("Grid", world.grids["b1g1"].id),
    )
    with pytest.raises(GraphQLErrors) as err:  # the county sees both: the mismatch is bad input
        await gql(client, world.tokens["county_staff"], CREATE, {"i": crossed})
    assert (err.value.code, err.value.field) == ("VALIDATION", "gridId")
    with pytest.raises(GraphQLErrors) as err:  # township A does not see B's grid at all
        await gql(client, world.tokens["a_staff"], CREATE, {"i": crossed})
    assert (err.value.code, err.value.field) == ("NOT_FOUND", "gridId")
    assert await Case.all().count() == 0
    inside = _input(
        centerId=to_global_id("Center", world.centers["ta"].id),
        gridId=to_global_id("Grid", world.grids["a1g1"].id),
    )
    assert await gql(client, world.tokens["county_staff"], CREATE, {"i": inside})


async def test_a_new_persons_grid_resolves_through_the_jurisdiction(client, world):
    person = {"name": "某", "gridId": to_global_id("Grid", world.grids["b1g1"].id)}
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            world.tokens["a_staff"],
            CREATE,
            {"i": _input(parties=[{"role": "APPLICANT", "person": person}])},
        )
    assert (err.value.code, err.value.field) == ("NOT_FOUND", "parties[0].person.gridId")
    assert await Person.all().count() == 0 and await Case.all().count() == 0
