"""GraphQL enum values are UPPER_SNAKE_CASE (issue 14), while the codes behind them stay lower-case.

``zongzhi/platform/schema/enum_names.py`` names every enum's values, plugins' included; these tests
check the published SDL, the served schema, a plugin's own enum, and that the codes are unchanged.
"""

from __future__ import annotations

import enum
from pathlib import Path

import pytest
import strawberry
from graphql import GraphQLEnumType, GraphQLSchema, graphql_sync
from graphql import build_schema as parse_sdl

from tests.gql import GraphQLErrors, gql
from tests.security.schema_walk import served_schema
from zongzhi.platform.base import codes
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import Case
from zongzhi.platform.schema import build_schema
from zongzhi.platform.schema.enum_names import is_upper_snake, upper_snake
from zongzhi.platform.schema.ids import to_global_id

SDL_FILE = Path(__file__).parents[3] / "schema.graphql"


def not_upper_snake(schema: GraphQLSchema) -> list[str]:
    return [
        f"{name}.{value}"
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLEnumType) and not name.startswith("__")
        for value in t.values
        if not is_upper_snake(value)
    ]


def test_every_enum_value_in_schema_graphql_is_upper_snake_case():
    schema = parse_sdl(SDL_FILE.read_text(encoding="utf-8"))
    enums = [
        t for n, t in schema.type_map.items() if isinstance(t, GraphQLEnumType) and not n.startswith("__")
    ]
    assert len(enums) >= 14  # the check sees the enums at all
    assert not_upper_snake(schema) == []


def test_the_check_finds_a_lower_case_value():
    schema = parse_sdl("type Query { s: S }\nenum S { RECEIVED grid_worker Closed NEW_CASE }")
    assert not_upper_snake(schema) == ["S.grid_worker", "S.Closed"]


def test_the_served_schema_keeps_every_value_of_each_code_list():
    """Each code list's value is named by its code in upper case and still stands for that code."""
    schema = served_schema()
    assert not_upper_snake(schema) == []
    for code_list in (codes.CaseStatus, codes.Role, codes.AssignmentMode, codes.Risk, codes.Residence):
        values = schema.type_map[code_list.__name__].values
        assert {name: value.value for name, value in values.items()} == {
            member.value.upper(): member.value for member in code_list
        }, code_list
    # Named from the code, not the Python member: AssignmentMode.self_handle is `self`.
    assert schema.type_map["AssignmentMode"].values["SELF"].value == codes.AssignmentMode.self_handle


def test_the_sdl_tells_a_client_about_the_convention():
    described = served_schema().type_map
    assert "UPPER_SNAKE_CASE" in described["Role"].description
    assert "GRID_WORKER is `grid_worker`" in described["Role"].description
    assert "UPPER_SNAKE_CASE" in SDL_FILE.read_text(encoding="utf-8")
    # Enums that were UPPER_CASE already carry no history note.
    assert "UPPER_SNAKE_CASE" not in described["BoardEventKind"].description


@strawberry.enum(description="A plugin's own enum with lower-case codes.")
class Verdict(enum.Enum):
    upheld = "upheld"
    sent_back = "sent_back"


@strawberry.type(description="A plugin's query.")
class VerdictQuery:
    @strawberry.field(description="A verdict.")
    def verdict(self, given: Verdict = Verdict.sent_back) -> Verdict:
        return given


def test_a_plugins_enum_is_named_the_same_way():
    schema = build_schema(Settings.from_env({}, secret_key="enum"), extra_queries=(VerdictQuery,))
    assert list(schema._schema.type_map["Verdict"].values) == ["UPHELD", "SENT_BACK"]
    assert "verdict(given: Verdict! = SENT_BACK): Verdict!" in schema.as_str()
    answer = graphql_sync(schema._schema, "{ a: verdict b: verdict(given: UPHELD) }")
    assert answer.data == {"a": "SENT_BACK", "b": "UPHELD"}, answer.errors


@strawberry.enum(description="Two values that UPPER_CASE would make one.")
class Clash(enum.Enum):
    grid_worker = "grid_worker"
    GRID_WORKER = "GRID_WORKER"


@strawberry.type(description="A query answering a clashing enum.")
class ClashQuery:
    @strawberry.field(description="A clashing value.")
    def clash(self) -> Clash:
        return Clash.grid_worker


def test_two_values_with_one_upper_case_name_are_refused():
    with pytest.raises((TypeError, ValueError), match="would all be named GRID_WORKER"):
        build_schema(Settings.from_env({}, secret_key="enum"), extra_queries=(ClashQuery,))


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("received", "RECEIVED"),
        ("grid_worker", "GRID_WORKER"),
        ("NEW_CASE", "NEW_CASE"),
        ("newCase", "NEW_CASE"),
    ],
)
def test_upper_snake(code, name):
    assert upper_snake(code) == name and is_upper_snake(name)


async def test_over_http_the_values_are_upper_case_and_the_codes_are_not(client, world):
    """Sent and answered in UPPER_CASE; stored, and shown in timeline payloads, as the codes."""
    token = world.tokens["a1_grid"]
    created = await gql(
        client,
        token,
        "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { status risk "
        "parties { role } timeline { payload } } } }",
        {
            "i": {
                "title": "楼上漏水",
                "category": "neighbor",
                "channel": "grid",
                "gridId": to_global_id("Grid", world.grids["a1g1"].id),
                "parties": [{"role": "APPLICANT", "person": {"name": "张三"}}],
            }
        },
    )
    case = created["createCase"]["case"]
    assert (case["status"], case["risk"], case["parties"]) == ("RECEIVED", "NONE", [{"role": "APPLICANT"}])
    assert case["timeline"][0]["payload"]["parties"][0]["role"] == "applicant"
    assert await Case.filter(status="received", risk="none").count() == 1
    listed = "query($s: [CaseStatus!]) { cases(first: 5, filter: {status: $s}) { totalCount } }"
    assert (await gql(client, token, listed, {"s": ["RECEIVED"]}))["cases"]["totalCount"] == 1
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, token, listed, {"s": ["received"]})
    assert (refused.value.code, refused.value.field) == ("VALIDATION", "filter.status")
