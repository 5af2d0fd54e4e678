"""Input objects built from a plan made once per input type, instead of Strawberry working it out
for every field of every argument of every request.

Strawberry converts an input value field by field, and for each field resolves its type annotation
and converts its name again: about a third of the GraphQL layer's CPU for ``createCase`` (32 calls
per request for one case with one party). Strawberry lets a type build its own instances from the
input value (``StrawberryObjectDefinition.from_input``); ``plan_inputs`` gives every input type of
the schema one that does what Strawberry does, with the names and types looked up once. Fields of
the plain scalar types (strings, numbers, booleans, IDs: values graphql-core already coerced, which
Strawberry passes through unchanged) are copied as they are; every other field goes through
Strawberry's own conversion (``InputContext.convert``), so enums, lists, global IDs and nested
inputs convert exactly as before. Types with a ``Maybe`` field are left to Strawberry, which
validates their nulls only when a type has no ``from_input``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from graphql import GraphQLInputObjectType, GraphQLSchema
from strawberry.types.arguments import InputContext
from strawberry.types.base import StrawberryMaybe, StrawberryObjectDefinition, StrawberryOptional

#: Scalars whose input value graphql-core has already coerced and Strawberry returns unchanged.
_AS_IS = frozenset({str, int, float, bool, strawberry.ID})


def _as_is(type_: Any) -> bool:
    if isinstance(type_, StrawberryMaybe):
        return False
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    return type_ in _AS_IS


FromInput = Callable[[type, Mapping[str, Any], InputContext], Any]


def _builder(definition: StrawberryObjectDefinition) -> FromInput:
    plan: list[tuple[str, str, Any, bool]] | None = None
    required = {
        f.python_name: None
        for f in definition.fields
        if f.default_value is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }

    def from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        nonlocal plan
        if plan is None:
            names = context.config.name_converter
            plan = []
            for f in definition.fields:
                type_ = f.resolve_type(type_definition=definition)
                plan.append((f.python_name, names.from_field(f), type_, _as_is(type_)))
        kwargs = dict(required)
        for python_name, graphql_name, type_, as_is in plan:
            if graphql_name in value:
                item = value[graphql_name]
                kwargs[python_name] = item if as_is else context.convert(item, type_, graphql_name)
        return cls(**kwargs)

    return from_input


def plan_inputs(schema: GraphQLSchema) -> None:
    """Give every input type of ``schema`` without a ``from_input`` or a ``Maybe`` field its plan."""
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLInputObjectType):
            continue
        definition = (graphql_type.extensions or {}).get("strawberry-definition")
        if not isinstance(definition, StrawberryObjectDefinition) or definition.from_input is not None:
            continue
        if definition.type_var_map or any(isinstance(f.type, StrawberryMaybe) for f in definition.fields):
            continue
        definition.from_input = _builder(definition)
