"""A user of one township must not read or change another township's case: by list, node or mutation."""

from __future__ import annotations

import pytest

from tests.casework import actor, new_case, take_to
from tests.gql import GraphQLErrors, gql
from zongzhi.platform.base.codes import AssignmentMode, CaseStatus
from zongzhi.platform.models import Case, CaseEvent
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc

LIST = "{ cases(first: 50) { totalCount edges { node { number } } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Case { number } } }"
CASE = "query($id: ID!) { case(id: $id) { number } }"


async def _numbers(client, token) -> set[str]:
    data = await gql(client, token, LIST)
    return {e["node"]["number"] for e in data["cases"]["edges"]}


async def test_lists_follow_the_center_tree(client, world):
    a_case = await new_case(world, grid="a1g1", filer="a1_grid")
    b_case = await new_case(world, grid="b1g1", filer="b1_grid")
    assert await _numbers(client, world.tokens["county_staff"]) == {a_case.number, b_case.number}
    assert await _numbers(client, world.tokens["a_staff"]) == {a_case.number}
    assert await _numbers(client, world.tokens["b_staff"]) == {b_case.number}
    assert await _numbers(client, world.tokens["a1_grid"]) == {a_case.number}
    assert await _numbers(client, world.tokens["housing_officer"]) == set()
    assert await _numbers(client, world.tokens["court_partner"]) == set()


async def test_node_and_case_lookups_are_scoped(client, world):
    a_case = await new_case(world)
    gid = to_global_id("Case", a_case.id)
    assert (await gql(client, world.tokens["a_staff"], NODE, {"id": gid}))["node"]["number"] == a_case.number
    assert (await gql(client, world.tokens["b_staff"], NODE, {"id": gid}))["node"] is None
    assert (await gql(client, world.tokens["b_staff"], CASE, {"id": gid}))["case"] is None
    by_number = await gql(
        client,
        world.tokens["b_staff"],
        "query($n: String!) { caseByNumber(number: $n) { id } }",
        {"n": a_case.number},
    )
    assert by_number["caseByNumber"] is None


MUTATIONS = [
    ("assessCase", "mutation($id: ID!) { assessCase(caseId: $id) { id } }"),
    ("rejectCase", 'mutation($id: ID!) { rejectCase(caseId: $id, reason: "x") { id } }'),
    ("withdrawCase", 'mutation($id: ID!) { withdrawCase(caseId: $id, reason: "x") { id } }'),
    ("escalateCase", "mutation($id: ID!) { escalateCase(caseId: $id) { id } }"),
    ("flagCaseRisk", 'mutation($id: ID!) { flagCaseRisk(caseId: $id, level: HIGH, reason: "x") { id } }'),
    ("tagCase", 'mutation($id: ID!) { tagCase(caseId: $id, add: ["x"]) { id } }'),
    ("superviseCase", 'mutation($id: ID!) { superviseCase(caseId: $id, note: "x") { id } }'),
]


@pytest.mark.parametrize(("name", "mutation"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
async def test_other_township_cannot_change_a_case(client, world, name, mutation):
    a_case = await new_case(world)
    events = await CaseEvent.filter(case_id=a_case.id).count()
    with pytest.raises(GraphQLErrors) as err:
        await gql(client, world.tokens["b_staff"], mutation, {"id": to_global_id("Case", a_case.id)})
    assert err.value.code == "NOT_FOUND"
    after = await Case.get(id=a_case.id)
    assert after.status == CaseStatus.received and after.tags == [] and after.center_id == a_case.center_id
    assert await CaseEvent.filter(case_id=a_case.id).count() == events


async def test_department_sees_cases_assigned_to_it_and_only_then(client, world):
    case = await take_to(world, await new_case(world), CaseStatus.assessed)
    assert await _numbers(client, world.tokens["housing_officer"]) == set()
    staff = await actor(world, "a_staff")
    await svc.dispatch(
        staff,
        case.id,
        AssignmentMode.transfer,
        [svc.UnitInput(department_id=world.departments["housing"].id)],
    )
    assert await _numbers(client, world.tokens["housing_officer"]) == {case.number}
    data = await gql(
        client,
        world.tokens["housing_officer"],
        "mutation($id: ID!) { acceptCase(caseId: $id) { status } }",
        {"id": to_global_id("Case", case.id)},
    )
    assert data["acceptCase"]["status"] == "HANDLING"


@pytest.mark.parametrize(("grid", "code"), [("b1g1", "NOT_FOUND"), ("a1g2", "FORBIDDEN")])
async def test_grid_worker_cannot_file_into_another_grid(client, world, grid, code):
    """Another township's grid is invisible; another grid of the worker's own village is refused."""
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            world.tokens["a1_grid"],
            "mutation($i: CreateCaseInput!) { createCase(input: $i) { created } }",
            {
                "i": {
                    "title": "x",
                    "category": "neighbor",
                    "gridId": to_global_id("Grid", world.grids[grid].id),
                }
            },
        )
    assert err.value.code == code
    assert await Case.all().count() == 0


async def test_statistics_free_roles_cannot_mutate(client, world):
    """A partner token cannot use the general mutations."""
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            world.tokens["court_partner"],
            "mutation($i: CreateCaseInput!) { createCase(input: $i) { created } }",
            {
                "i": {
                    "title": "x",
                    "category": "neighbor",
                    "centerId": to_global_id("Center", world.centers["ta"].id),
                }
            },
        )
    assert err.value.code == "FORBIDDEN"


async def test_date_filters_accept_china_time(client, world):
    """A bound given in +08:00 selects the same cases as in UTC (SQLite compares datetimes as text)."""
    case = await new_case(world)
    stamp = case.created_at
    q = "query($f: CaseFilter) { cases(filter: $f) { totalCount } }"
    china = stamp.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    for bound, expected in [
        (china - __import__("datetime").timedelta(minutes=1), 1),
        (china + __import__("datetime").timedelta(minutes=1), 0),
    ]:
        data = await gql(client, world.tokens["a_staff"], q, {"f": {"createdFrom": bound.isoformat()}})
        assert data["cases"]["totalCount"] == expected
