"""GraphQL types generated from the platform's dataclasses, so a figure's fields are written once.

``dataclass_type(figures.Rate, ...)`` is a Strawberry type with the dataclass's fields in their
order (their Python types, nested dataclasses swapped for their GraphQL types through ``types``),
plus the properties named in ``properties``. The schema adds only what GraphQL says differently: a
description, a field shown otherwise (``replace``: a key as a global ID, a scope as its center) or
not at all (``hidden``), and resolvers after the fields (``extra``).

The answers are the dataclass instances themselves: Strawberry reads an object type's fields with
``getattr``, and these types implement no interface, so nothing needs to be copied into them.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types as pytypes
import typing
from collections.abc import Mapping
from typing import Any

import strawberry


def _swap(hint: Any, types: Mapping[type, type]) -> Any:
    """``hint`` with every dataclass in ``types`` replaced by its GraphQL type (in lists and unions)."""
    if hint in types:
        return types[hint]
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is list:
        return list[_swap(args[0], types)]
    if origin in (typing.Union, pytypes.UnionType):
        return functools.reduce(operator.or_, (_swap(a, types) for a in args))
    return hint


def dataclass_type(
    source: type,
    *,
    name: str,
    description: str | None = None,
    docs: Mapping[str, str] | None = None,
    types: Mapping[type, type] | None = None,
    properties: Mapping[str, Any] | None = None,
    replace: Mapping[str, Any] | None = None,
    hidden: tuple[str, ...] = (),
    extra: Mapping[str, Any] | None = None,
) -> type:
    """A Strawberry type named ``name`` over the dataclass ``source``.

    ``docs``: descriptions by field name; ``properties``: property name to its type, shown after
    the fields; ``replace``: field name to the ``strawberry.field`` with a resolver shown at its
    place instead (``name=`` renames it); ``extra``: resolvers (``strawberry.field``) shown last.
    """
    docs = docs or {}
    swap = types or {}
    hints = typing.get_type_hints(source)
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    shown = [(f.name, hints[f.name]) for f in dataclasses.fields(source) if f.name not in hidden]
    for field_name, hint in [*shown, *(properties or {}).items()]:
        if replace and field_name in replace:
            # Annotated with the resolver's type, so the field keeps its place (Strawberry puts
            # unannotated resolvers last).
            field = replace[field_name]
            annotations[field_name] = typing.get_type_hints(field.base_resolver.wrapped_func)["return"]
            namespace[field_name] = field
            continue
        annotations[field_name] = _swap(hint, swap)
        namespace[field_name] = strawberry.field(description=docs.get(field_name))
    namespace.update(extra or {})
    namespace["__annotations__"] = annotations
    return strawberry.type(type(name, (), namespace), name=name, description=description)
