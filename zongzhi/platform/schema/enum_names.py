"""GraphQL enum values in UPPER_SNAKE_CASE, whatever the Python enum behind them.

The code lists keep their lower-case codes (``grid_worker``, ``received``): the database, the rule
language, webhook payloads, board event JSON and the REST ``/public`` endpoints use them. Only
their GraphQL names follow the GraphQL convention. One name converter in the schema's config does
this for every enum, those of plugins included, so no enum has to be written twice. Since issue 14;
before it, the values built from the code lists were the codes themselves.
"""

from __future__ import annotations

import re

from graphql import GraphQLEnumType, GraphQLSchema
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.enum import EnumValue, StrawberryEnumDefinition

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


def upper_snake(name: str) -> str:
    """``grid_worker`` → ``GRID_WORKER``, ``newCase`` → ``NEW_CASE``, ``NEW_CASE`` unchanged."""
    return _WORD_BOUNDARY.sub("_", name).replace("-", "_").upper()


def is_upper_snake(name: str) -> bool:
    return bool(_UPPER_SNAKE.match(name))


class UpperCaseEnumValues(NameConverter):
    """Strawberry's name converter with every enum value named in UPPER_SNAKE_CASE."""

    def from_enum_value(self, enum: StrawberryEnumDefinition, enum_value: EnumValue) -> str:
        name = upper_snake(super().from_enum_value(enum, enum_value))
        # Strawberry keys an enum's values by name: two values with one name would lose one silently.
        clashing = [v.name for v in enum.values if upper_snake(v.name) == name]
        if len(clashing) > 1:
            raise ValueError(f"enum {enum.name}: values {clashing} would all be named {name}")
        return name


def _renamed(enum: GraphQLEnumType) -> tuple[str, str] | None:
    """A value the converter renamed, with its code: the enum was lower-case before the convention."""
    renamed = []
    for name, value in enum.values.items():
        definition = value.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if isinstance(definition, EnumValue) and definition.name != name:
            renamed.append((name, str(getattr(value.value, "value", value.value))))
    # An example with an underscore shows the rule best (GRID_WORKER is `grid_worker`).
    return next((pair for pair in renamed if "_" in pair[0]), renamed[0] if renamed else None)


def note_convention(schema: GraphQLSchema) -> None:
    """Say the convention in each renamed enum's description, for readers of the SDL."""
    for type_name, t in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(t, GraphQLEnumType):
            continue
        renamed = _renamed(t)
        if renamed is None:
            continue
        name, code = renamed
        note = (
            "Values are UPPER_SNAKE_CASE, the GraphQL convention (earlier versions sent the lower-case"
            " codes). Outside GraphQL (timeline payloads, webhooks, rules, /public) a value is still its"
            f" code: {name} is `{code}`."
        )
        t.description = f"{t.description} {note}" if t.description else note
