"""Every type, field, argument, input field and enum value of the served schema has a description.

Our own rule over the introspected schema (core and built-in plugins), so a new field cannot skip
it: write the description at the field, or, for a name that means the same everywhere, in
``zongzhi/platform/schema/glossary.py``.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_introspection_query,
    graphql_sync,
)

from tests.security.schema_walk import served_schema

BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed(schema) -> list[str]:
    missing = []
    for name, t in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not (t.description or "").strip():
            missing.append(f"type {name}")
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, f in t.fields.items():
                if not (f.description or "").strip():
                    missing.append(f"field {name}.{field_name}")
                for arg_name, a in getattr(f, "args", {}).items():
                    if not (a.description or "").strip():
                        missing.append(f"argument {name}.{field_name}({arg_name})")
        elif isinstance(t, GraphQLEnumType):
            for value_name, v in t.values.items():
                if not (v.description or "").strip():
                    missing.append(f"enum value {name}.{value_name}")
        elif not isinstance(t, GraphQLScalarType | GraphQLUnionType):
            raise AssertionError(f"unexpected kind of type {name}")
    return missing


def test_every_part_of_the_schema_has_a_description():
    schema = served_schema()
    missing = undescribed(schema)
    assert missing == [], f"{len(missing)} without a description: {missing[:40]}"
    # The descriptions reach clients: introspection answers them.
    result = graphql_sync(schema, get_introspection_query(descriptions=True))
    assert not result.errors
    types = {t["name"]: t for t in result.data["__schema"]["types"]}
    assert types["Case"]["fields"][0]["description"]


def test_the_rule_finds_a_missing_description():
    from graphql import build_schema

    probe = build_schema('"A type." type Query { "Described." a(x: Int): Int b: Int }')
    assert undescribed(probe) == ["argument Query.a(x)", "field Query.b"]
