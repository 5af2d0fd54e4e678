"""The per-request GraphQL context: who is asking, and their loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info as _Info

from zongzhi.platform.base.errors import Unauthenticated
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import visible_ids
from zongzhi.platform.models import Person
from zongzhi.platform.schema.loaders import Loaders


@dataclass
class Context:
    settings: Settings
    actor: Actor | None
    request: Any = None
    response: Any = None
    loaders: Loaders = field(default_factory=Loaders)
    revealed_people: set[int] = field(default_factory=set)
    person_sight: DataLoader | None = None
    revealed_units: set[int] = field(default_factory=set)
    #: The platform serving this request (``app.state.platform``).
    platform: Any = None

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise Unauthenticated("a valid bearer token is required")
        return self.actor

    async def sees_person(self, person_id: int) -> bool:
        """Whether the asker may see this person (``jurisdiction.people_q``), batched per request."""
        if self.person_sight is None:
            actor = self.require_actor()

            async def load(ids: list[int]) -> list[bool]:
                seen = await visible_ids(actor, Person, list(set(ids)))
                return [i in seen for i in ids]

            # Batched, never cached: a subscription's context lives as long as its connection.
            self.person_sight = DataLoader(load_fn=load, cache=False)
        return await self.person_sight.load(person_id)


@dataclass
class WebSocketContext(Context):
    """A subscription connection's context: the actor comes from ``connectionParams``."""

    connection_params: dict[str, Any] | None = None


def token_of(params: dict[str, Any]) -> str | None:
    """``{"Authorization": "Bearer <token>"}`` (as HTTP) or ``{"token": "<token>"}``."""
    for key in ("Authorization", "authorization"):
        if isinstance(params.get(key), str):
            return params[key]
    token = params.get("token")
    return f"Bearer {token}" if isinstance(token, str) and token else None


Info = _Info[Context, None]


def actor_of(info: strawberry.Info) -> Actor:
    return info.context.require_actor()
