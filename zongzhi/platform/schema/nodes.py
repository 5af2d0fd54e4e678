"""Relay nodes over model rows: one base for every type with a global ID, and one ``of()``.

Every GraphQL type with a global ID subclasses ``ModelNode`` (Strawberry's ``relay.Node``), names
its model, and is then fetched by ``node(id:)`` through ``resolve_nodes``: the rows of that model
the asker may see (``jurisdiction.visible``), so an ID outside the jurisdiction is ``null``, as if
it did not exist.

The global ID keeps this API's spelling, ``base64url("Case:42")`` without padding (``schema.ids``),
where Relay's ``GlobalID`` prints standard base64 with ``=`` padding: the ``id`` field is ours, so
the IDs clients stored keep working. ``node_name`` is the type name inside the ID when it differs
from the GraphQL name (``EvidenceFile`` ids say ``Evidence``).

``of(row)`` copies the row's same-named attributes into the type's fields (``m``: the row itself,
``pk``: its primary key), so each field is written once, in the type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar, Self

import strawberry
from strawberry import relay
from tortoise.models import Model

from zongzhi.platform.domain.jurisdiction import visible
from zongzhi.platform.schema.ids import to_global_id


def copy_of(cls: type, source: Any, /, **given: Any) -> Any:
    """An instance of the Strawberry type ``cls`` filled from ``source``'s same-named attributes.

    ``given`` wins over ``source``; ``m`` is ``source`` itself and ``pk`` its ``id``; a field that
    ``source`` lacks keeps its default (a field without one is an error, as in a constructor call).
    """
    values = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name in given:
            values[f.name] = given[f.name]
        elif f.name == "m":
            values["m"] = source
        elif f.name == "pk":
            values["pk"] = source.id
        elif hasattr(source, f.name):
            values[f.name] = getattr(source, f.name)
    return cls(**values)


@strawberry.type
class ModelNode(relay.Node):
    """Base of the types over one model's rows (not itself in the schema)."""

    pk: relay.NodeID[int]

    #: The model whose rows the type shows; ``node(id:)`` reads it through ``jurisdiction.visible``.
    model: ClassVar[type[Model]]
    #: The type name inside the global ID, when it is not the GraphQL type's name.
    node_name: ClassVar[str | None] = None

    @strawberry.field(name="id")
    @classmethod
    def _id(cls, root: ModelNode, info: strawberry.Info) -> strawberry.ID:
        return strawberry.ID(to_global_id(cls.id_name(), root.pk))

    @classmethod
    def id_name(cls) -> str:
        return cls.node_name or cls.__strawberry_definition__.name

    @classmethod
    def of(cls, m: Any) -> Self:
        return copy_of(cls, m)

    @classmethod
    async def from_visible(cls, m: Any, info: strawberry.Info) -> Self:
        """The object for a row read through the asker's jurisdiction (``Person`` marks it seen)."""
        return cls.of(m)

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        pks = [int(i) for i in node_ids]
        actor = info.context.require_actor()
        rows = {r.id: r for r in await visible(actor, cls.model).filter(id__in=pks)}
        return [await cls.from_visible(rows[pk], info) if pk in rows else None for pk in pks]


def node_type(info: strawberry.Info, id_name: str) -> type[ModelNode] | None:
    """The schema's node type whose global IDs carry ``id_name``, if there is one."""
    definition = info.schema.get_type_by_name(id_name)
    origin = getattr(definition, "origin", None)
    if isinstance(origin, type) and issubclass(origin, ModelNode) and origin.id_name() == id_name:
        return origin
    for definition in info.schema.schema_converter.type_map.values():
        origin = getattr(definition.definition, "origin", None)
        if isinstance(origin, type) and issubclass(origin, ModelNode) and origin.node_name == id_name:
            return origin
    return None
