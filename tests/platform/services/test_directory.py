"""Directory queries, each within the asker's tree."""

from __future__ import annotations

from tests.casework import new_case
from tests.gql import gql
from zongzhi.platform.base.codes import AssignmentMode, UnitKind
from zongzhi.platform.models import Assignment
from zongzhi.platform.schema.ids import to_global_id


async def test_users_by_role_center_and_specialty_within_your_tree(client, world):
    q = "query($r: Role, $s: String, $c: ID) { directory(role: $r, specialty: $s, centerId: $c) { username } }"
    names = lambda d: [u["username"] for u in d["directory"]]  # noqa: E731
    assert names(await gql(client, world.tokens["a_staff"], q, {"r": "MEDIATOR"})) == ["a_mediator"]
    assert names(await gql(client, world.tokens["b_staff"], q, {"r": "MEDIATOR"})) == []
    assert names(await gql(client, world.tokens["county_staff"], q, {"s": "neighbor"})) == ["a_mediator"]
    assert names(await gql(client, world.tokens["county_staff"], q, {"s": "labor"})) == []
    va1 = to_global_id("Center", world.centers["va1"].id)
    assert names(await gql(client, world.tokens["a_staff"], q, {"c": va1})) == ["a1_grid", "a1_staff"]
    everyone = names(await gql(client, world.tokens["a_staff"], q, {}))
    assert "b_staff" not in everyone and "county_staff" not in everyone and "admin" not in everyone


async def test_mediators_with_load_and_results(client, world):
    case = await new_case(world)
    await Assignment.create(
        case=case, unit_kind=UnitKind.user, user=world.users["a_mediator"], mode=AssignmentMode.self_handle
    )
    data = await gql(
        client,
        world.tokens["a_staff"],
        "{ mediators { user { username specialties } openCases resolved failed } }",
    )
    assert data["mediators"] == [
        {
            "user": {"username": "a_mediator", "specialties": ["neighbor", "marriage_family"]},
            "openCases": 1,
            "resolved": 0,
            "failed": 0,
        }
    ]


async def test_departments_with_where_they_are_stationed(client, world):
    q = "{ departmentDirectory { department { code } stationed { center { code } residence } } }"
    seen = (await gql(client, world.tokens["a_staff"], q))["departmentDirectory"]
    assert seen == [
        {
            "department": {"code": "ga-a"},
            "stationed": [{"center": {"code": "330110001000"}, "residence": "RESIDENT"}],
        },
        {
            "department": {"code": "zj"},
            "stationed": [{"center": {"code": "330110000000"}, "residence": "ROTATING"}],
        },
    ]
    seen = (await gql(client, world.tokens["b_staff"], q))["departmentDirectory"]
    assert [d["department"]["code"] for d in seen] == ["zj"]  # the county's, not the other township's police
