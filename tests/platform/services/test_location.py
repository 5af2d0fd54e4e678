"""A case with coordinates and no grid is placed by point-in-polygon at intake."""

from __future__ import annotations

import pytest

from tests.gql import GraphQLErrors, gql
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services.masterdata import create_grid, set_center_active

CREATE = (
    """mutation($i: CreateCaseInput!) { createCase(input: $i) { case { center { code } grid { code } } } }"""
)


def case_at(lat: float, lng: float, **extra) -> dict:
    return {
        "i": {
            "title": "路灯不亮",
            "category": "public_opinion",
            "kind": "opinion",
            "location": {"lat": lat, "lng": lng},
            **extra,
        }
    }


async def test_a_coordinates_only_case_lands_in_the_innermost_grid_and_its_center(client, world):
    data = await gql(client, world.tokens["county_staff"], CREATE, case_at(30.05, 120.05))
    assert data["createCase"]["case"] == {"center": {"code": "330110001001"}, "grid": {"code": "A1-G1"}}
    square = {
        "type": "Polygon",
        "coordinates": [[[120.0, 30.0], [120.02, 30.0], [120.02, 30.02], [120.0, 30.02], [120.0, 30.0]]],
    }
    await create_grid(
        Actor.system_actor("test"),
        "A1-G1-1",
        "子网格",
        world.centers["va1"].id,
        world.grids["a1g1"].id,
        square,
    )
    data = await gql(client, world.tokens["county_staff"], CREATE, case_at(30.01, 120.01))
    assert data["createCase"]["case"]["grid"] == {"code": "A1-G1-1"}


async def test_a_place_in_no_grid_or_outside_your_jurisdiction_leaves_the_case_where_it_was(client, world):
    data = await gql(client, world.tokens["a_staff"], CREATE, case_at(31.5, 121.5))
    assert data["createCase"]["case"] == {"center": {"code": "330110001000"}, "grid": None}
    data = await gql(client, world.tokens["b_staff"], CREATE, case_at(30.05, 120.05))
    assert data["createCase"]["case"] == {"center": {"code": "330110002000"}, "grid": None}


async def test_a_given_center_keeps_the_case_and_takes_the_grid_only_under_it(client, world):
    ta = to_global_id("Center", world.centers["ta"].id)
    data = await gql(client, world.tokens["county_staff"], CREATE, case_at(30.05, 120.05, centerId=ta))
    assert data["createCase"]["case"] == {"center": {"code": "330110001000"}, "grid": {"code": "A1-G1"}}
    tb = to_global_id("Center", world.centers["tb"].id)
    data = await gql(client, world.tokens["county_staff"], CREATE, case_at(30.05, 120.05, centerId=tb))
    assert data["createCase"]["case"] == {"center": {"code": "330110002000"}, "grid": None}


async def test_a_deactivated_center_receives_no_new_cases(client, world):
    await set_center_active(Actor.system_actor("test"), world.centers["va1"].id, False)
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, world.tokens["county_staff"], CREATE, case_at(30.05, 120.05))
    assert (refused.value.code, refused.value.field) == ("VALIDATION", "centerId")
