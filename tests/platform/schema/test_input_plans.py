"""Input objects built from their plans equal what Strawberry's own conversion builds."""

from __future__ import annotations

from contextlib import contextmanager

from graphql import GraphQLInputObjectType
from strawberry.types.arguments import convert_argument

from zongzhi.platform.schema import build_schema


@contextmanager
def _without_plan(definition):
    saved, definition.from_input = definition.from_input, None
    try:
        yield
    finally:
        definition.from_input = saved


def _both(schema, definition, value):
    def convert():
        return convert_argument(value, definition.origin, schema.schema_converter.scalar_registry, schema.config)

    planned = convert()
    with _without_plan(definition):
        plain = convert()
    return planned, plain


def test_a_case_with_parties_converts_as_strawberry_converts_it(unit_settings):
    schema = build_schema(unit_settings)
    definition = schema._schema.type_map["CreateCaseInput"].extensions["strawberry-definition"]
    assert definition.from_input is not None
    value = {
        "title": "楼上漏水",
        "category": "neighbor",
        "gridId": "R3JpZDox",
        "severity": 3,
        "location": {"lat": 30.05, "lng": None, "address": "一号楼"},
        "tags": ["a", "b"],
        "parties": [
            {"role": "applicant", "person": {"name": "张三", "idNumber": None, "gridId": "R3JpZDoy"}},
            {"role": "respondent", "personId": "UGVyc29uOjE="},
        ],
        "clientRequestId": None,
    }
    planned, plain = _both(schema, definition, value)
    assert planned == plain
    assert planned.parties[1].person is None and planned.location.lng is None
    assert type(planned.parties[0].role) is type(plain.parties[0].role)


def test_every_planned_input_fills_the_same_defaults(unit_settings):
    schema = build_schema(unit_settings)
    planned_types = 0
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLInputObjectType):
            continue
        definition = graphql_type.extensions["strawberry-definition"]
        if definition.from_input is None:
            continue
        planned_types += 1
        planned, plain = _both(schema, definition, {})
        assert planned == plain, graphql_type.name
    assert planned_types > 10
