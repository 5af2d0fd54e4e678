"""The per-request GraphQL context: who is asking, and their loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.types import Info as _Info

from zongzhi.platform.actor import Actor
from zongzhi.platform.errors import Unauthenticated
from zongzhi.platform.schema.loaders import Loaders
from zongzhi.platform.settings import Settings


@dataclass
class Context:
    settings: Settings
    actor: Actor | None
    request: Any = None
    response: Any = None
    loaders: Loaders = field(default_factory=Loaders)
    revealed_people: set[int] = field(default_factory=set)
    revealed_units: set[int] = field(default_factory=set)

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise Unauthenticated("a valid bearer token is required")
        return self.actor


Info = _Info[Context, None]


def actor_of(info: strawberry.Info) -> Actor:
    return info.context.require_actor()
