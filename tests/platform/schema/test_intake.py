"""Intake over GraphQL: a phone that retries gets one case; bad input names its field and writes nothing."""

from __future__ import annotations

import pytest

from tests.gql import GraphQLErrors, gql
from zongzhi.platform.models import Case, CaseEvent, Person
from zongzhi.platform.schema.ids import to_global_id

CREATE = """mutation($i: CreateCaseInput!) { createCase(input: $i) { created case { id number status
  channel { code label } category { code label } center { code } grid { code } } } }"""


def _input(world, **overrides):
    base = {
        "title": "楼道堆放杂物引发争吵",
        "category": "neighbor",
        "channel": "grid",
        "gridId": to_global_id("Grid", world.grids["a1g1"].id),
        "parties": [
            {
                "role": "APPLICANT",
                "person": {"name": "李四", "idNumber": "11010519491231002X", "phone": "13800138000"},
            }
        ],
        "location": {"lat": 30.05, "lng": 120.05, "address": "甲一村3组"},
    }
    base.update(overrides)
    return base


async def test_same_client_request_id_gives_one_case(client, world):
    t = world.tokens["a1_grid"]
    first = await gql(client, t, CREATE, {"i": _input(world, clientRequestId="phone-42")})
    again = await gql(client, t, CREATE, {"i": _input(world, clientRequestId="phone-42")})
    assert first["createCase"]["created"] is True and again["createCase"]["created"] is False
    assert first["createCase"]["case"]["id"] == again["createCase"]["case"]["id"]
    assert await Case.all().count() == 1
    case = first["createCase"]["case"]
    assert case["center"]["code"] == world.centers["va1"].code, "a grid report goes to the grid's village"
    assert case["channel"] == {"code": "grid", "label": "网格上报"}
    assert case["number"].startswith("ZZ-330110-")
    assert await CaseEvent.filter(type="case.received").count() == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"title": " "}, "title"),
        ({"category": "gossip"}, "category"),
        ({"channel": "court"}, "channel"),
        ({"severity": 9}, "severity"),
        ({"location": {"lat": 200.0}}, "location.lat"),
        (
            {
                "parties": [
                    {"role": "APPLICANT", "person": {"name": "王五", "idNumber": "110105194912310021"}}
                ]
            },
            "parties[0].person.idNumber",
        ),
        (
            {"parties": [{"role": "APPLICANT", "person": {"name": "王五", "phone": "12"}}]},
            "parties[0].person.phone",
        ),
        ({"parties": [{"role": "APPLICANT"}]}, "parties[0]"),
        ({"gridId": "bm9wZQ"}, "gridId"),
    ],
)
async def test_bad_input_names_the_field_and_changes_nothing(client, world, override, field):
    with pytest.raises(GraphQLErrors) as err:
        await gql(client, world.tokens["a1_grid"], CREATE, {"i": _input(world, **override)})
    assert err.value.code == "VALIDATION"
    assert err.value.field == field
    assert await Case.all().count() == 0
    assert await Person.all().count() == 0


async def test_parties_are_one_person_per_id_number(client, world):
    t = world.tokens["a_staff"]
    await gql(client, t, CREATE, {"i": _input(world, clientRequestId="a")})
    await gql(client, t, CREATE, {"i": _input(world, clientRequestId="b", title="又一次争吵")})
    assert await Person.all().count() == 1


async def test_a_person_named_twice_in_one_role_is_one_party(client, world):
    li_si = {"name": "李四", "idNumber": "11010519491231002X"}
    parties = [
        {"role": "APPLICANT", "person": li_si},
        {"role": "APPLICANT", "person": li_si},
        {"role": "RESPONDENT", "person": li_si},
    ]
    await gql(client, world.tokens["a_staff"], CREATE, {"i": _input(world, parties=parties)})
    case = await Case.get()
    assert sorted(await case.parties.all().values_list("role", flat=True)) == ["applicant", "respondent"]
    received = await CaseEvent.get(case_id=case.id, type="case.received")
    assert [p["role"] for p in received.payload["parties"]] == ["applicant", "respondent"]
