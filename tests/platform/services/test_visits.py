"""The visit log (民情日记): grid workers log visits in their grids, a finding becomes a case, coverage."""

from __future__ import annotations

import json

import pytest

from tests.casework import actor
from tests.gql import GraphQLErrors, gql
from tests.storage.storage_samples import JPEG, png
from zongzhi.platform.models import AuditLog, Case, CaseLink, CaseParty, Visit
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import registry
from zongzhi.platform.services.people import PersonInput, find_or_create_person

RECORD = """mutation($g: ID!, $h: ID, $p: ID) { recordVisit(gridId: $g, findings: "楼道堆放杂物，存在消防隐患", houseId: $h, personId: $p)
  { id worker { username } grid { code } } }"""
TO_CASE = """mutation($v: ID!) { visitToCase(visitId: $v, title: "楼道杂物隐患", category: "safety_hazard", kind: "hazard")
  { number channel { code } grid { code } center { code } parties { person { name } } houses { code } } }"""


async def setting(world):
    a1 = await actor(world, "a1_staff")
    house = await registry.save_house(
        a1,
        registry.HouseInput(
            code="H1", address="甲一村1号", grid_id=world.grids["a1g1"].id, lat=30.05, lng=120.05
        ),
    )
    await registry.save_house(
        a1, registry.HouseInput(code="H2", address="甲一村2号", grid_id=world.grids["a1g1"].id)
    )
    person, _ = await find_or_create_person(PersonInput(name="张老伯", grid_id=world.grids["a1g1"].id), a1)
    return house, person


async def test_a_finding_becomes_a_case_in_one_step_and_a_retry_returns_it(client, world):
    house, person = await setting(world)
    g = to_global_id("Grid", world.grids["a1g1"].id)
    visit = (
        await gql(
            client,
            world.tokens["a1_grid"],
            RECORD,
            {"g": g, "h": to_global_id("House", house.id), "p": to_global_id("Person", person.id)},
        )
    )["recordVisit"]
    assert visit["worker"]["username"] == "a1_grid" and visit["grid"]["code"] == "A1-G1"
    case = (await gql(client, world.tokens["a1_grid"], TO_CASE, {"v": visit["id"]}))["visitToCase"]
    assert (
        case["channel"]["code"] == "grid"
        and case["grid"]["code"] == "A1-G1"
        and case["center"]["code"] == "330110001001"
    )
    assert case["parties"] == [{"person": {"name": "张老伯"}}]
    assert case["houses"] == [{"code": "H1"}]
    again = (await gql(client, world.tokens["a1_grid"], TO_CASE, {"v": visit["id"]}))["visitToCase"]
    assert again["number"] == case["number"]
    assert (
        await Case.all().count() == 1
        and await CaseLink.all().count() == 1
        and await CaseParty.all().count() == 1
    )
    row = await Case.get(number=case["number"])
    assert row.description == "楼道堆放杂物，存在消防隐患"
    assert (await Visit.get()).case_id == row.id
    assert {"visit.record", "visit.to_case"} <= set(await AuditLog.all().values_list("action", flat=True))


async def test_a_grid_worker_logs_visits_only_in_their_grids(client, world):
    await setting(world)
    # A grid of their village they do not keep: FORBIDDEN; another township's: as if it did not exist.
    for grid, code in [("a1g2", "FORBIDDEN"), ("b1g1", "NOT_FOUND")]:
        with pytest.raises(GraphQLErrors) as refused:
            await gql(
                client, world.tokens["a1_grid"], RECORD, {"g": to_global_id("Grid", world.grids[grid].id)}
            )
        assert refused.value.code == code
    visit = (
        await gql(
            client, world.tokens["a1_grid"], RECORD, {"g": to_global_id("Grid", world.grids["a1g1"].id)}
        )
    )["recordVisit"]
    with pytest.raises(GraphQLErrors) as refused:  # another township's grid worker cannot turn it into a case
        await gql(client, world.tokens["b1_grid"], TO_CASE, {"v": visit["id"]})
    assert refused.value.code == "NOT_FOUND"
    assert (await gql(client, world.tokens["b_staff"], "{ visits { id } }"))["visits"] == []
    assert len((await gql(client, world.tokens["a_staff"], "{ visits { id } }"))["visits"]) == 1


async def test_visit_coverage_per_grid(client, world):
    house, _person = await setting(world)
    g = to_global_id("Grid", world.grids["a1g1"].id)
    h = to_global_id("House", house.id)
    for _ in range(2):
        await gql(client, world.tokens["a1_grid"], RECORD, {"g": g, "h": h})
    from datetime import date

    year = str(date.today().year)
    data = await gql(
        client,
        world.tokens["a_staff"],
        "query($p: String!) { visitCoverage(period: $p) { grid { code } houses visitedHouses visits cases rate } }",
        {"p": year},
    )
    rows = {r["grid"]["code"]: r for r in data["visitCoverage"]}
    assert rows["A1-G1"] == {
        "grid": {"code": "A1-G1"},
        "houses": 2,
        "visitedHouses": 1,
        "visits": 2,
        "cases": 0,
        "rate": 0.5,
    }
    assert rows["A2-G1"]["visits"] == 0 and rows["A2-G1"]["rate"] is None
    assert "B1-G1" not in rows


PHOTO_TO_CASE = """mutation($v: ID!, $photos: [Upload!]) { visitToCase(visitId: $v, title: "楼道杂物隐患",
  category: "safety_hazard", kind: "hazard", photos: $photos) { number evidence { filename contentType status } } }"""


def _multipart(visit_id: str, files: list[tuple[str, bytes, str]]) -> dict:
    operations = {"query": PHOTO_TO_CASE, "variables": {"v": visit_id, "photos": [None] * len(files)}}
    mapping = {str(i): [f"variables.photos.{i}"] for i in range(len(files))}
    return {
        "data": {"operations": json.dumps(operations), "map": json.dumps(mapping)},
        "files": {str(i): f for i, f in enumerate(files)},
    }


async def test_photos_of_a_finding_go_to_the_evidence_store_with_its_case(client, world):
    await setting(world)
    g = to_global_id("Grid", world.grids["a1g1"].id)
    visit = (await gql(client, world.tokens["a1_grid"], RECORD, {"g": g}))["recordVisit"]
    headers = {"Authorization": f"Bearer {world.tokens['a1_grid']}", "x-apollo-operation-name": "VisitToCase"}
    fake = await client.post(
        "/graphql", headers=headers, **_multipart(visit["id"], [("x.jpg", b"not an image", "image/jpeg")])
    )
    assert fake.json()["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert fake.json()["errors"][0]["extensions"]["field"] == "photos[0]"
    assert await Case.all().count() == 0  # nothing written
    response = await client.post(
        "/graphql",
        headers=headers,
        **_multipart(visit["id"], [("楼道.png", png(), "image/png"), ("门口.jpg", JPEG, "image/jpeg")]),
    )
    case = response.json()["data"]["visitToCase"]
    assert sorted((e["filename"], e["contentType"], e["status"]) for e in case["evidence"]) == [
        ("楼道.png", "image/png", "stored"),
        ("门口.jpg", "image/jpeg", "stored"),
    ]
