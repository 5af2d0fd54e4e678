"""Which root fields of the served schema the jurisdiction matrix must cover, found by introspection.

A field is covered when it takes an ``ID`` anywhere in its arguments (nested input objects and lists
included) or when a type it returns reaches one of ``GUARDED_TYPES`` (a case, a person, evidence, a
decision, an audit row) through any chain of fields.
"""

from __future__ import annotations

from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)

from zongzhi.platform.base.settings import Settings
from zongzhi.platform.pipeline import plugin_host as plugins
from zongzhi.platform.wiring.app import build_app_schema

#: The object types whose rows jurisdiction guards; any type whose name says Audit is one too.
GUARDED_TYPES = frozenset({"Case", "CaseEvent", "Person", "Evidence", "EvidenceAccessEntry", "Decision"})


def served_schema() -> GraphQLSchema:
    """The schema as ``zongzhi serve`` builds it, with the built-in plugins' fields."""
    settings = Settings.from_env({}, secret_key="matrix")
    return build_app_schema(settings, plugins.load(settings, builtin_only=True))._schema


def _guarded(name: str) -> bool:
    return name in GUARDED_TYPES or "Audit" in name


def _input_takes_id(t, seen: set[str]) -> bool:
    named = get_named_type(t)
    if named.name == "ID":
        return True
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        seen.add(named.name)
        return any(_input_takes_id(f.type, seen) for f in named.fields.values())
    return False


def _reaches_guarded(t, schema: GraphQLSchema, seen: set[str]) -> bool:
    named = get_named_type(t)
    if named.name in seen:
        return False
    seen.add(named.name)
    if _guarded(named.name):
        return True
    if isinstance(named, GraphQLInterfaceType):
        return any(_reaches_guarded(o, schema, seen) for o in schema.get_possible_types(named))
    if isinstance(named, GraphQLUnionType):
        return any(_reaches_guarded(o, schema, seen) for o in named.types)
    if isinstance(named, GraphQLObjectType):
        return any(_reaches_guarded(f.type, schema, seen) for f in named.fields.values())
    return False


def takes_id(field) -> bool:
    return any(_input_takes_id(a.type, set()) for a in field.args.values())


def guarded_root_fields(schema: GraphQLSchema) -> set[str]:
    """``operation.field`` (``query.case``) of every root field the matrix must cover."""
    found: set[str] = set()
    for operation, root in (
        ("query", schema.query_type),
        ("mutation", schema.mutation_type),
        ("subscription", schema.subscription_type),
    ):
        if root is None:
            continue
        for name, field in root.fields.items():
            if takes_id(field) or _reaches_guarded(field.type, schema, set()):
                found.add(f"{operation}.{name}")
    return found


def all_root_fields(schema: GraphQLSchema) -> set[str]:
    """``operation.field`` of every root field."""
    out: set[str] = set()
    for operation, root in (
        ("query", schema.query_type),
        ("mutation", schema.mutation_type),
        ("subscription", schema.subscription_type),
    ):
        if root is not None:
            out.update(f"{operation}.{name}" for name in root.fields)
    return out
