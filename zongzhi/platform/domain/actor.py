"""Who is acting: a user with their scope loaded once per request, or the rules engine.

Every service takes an ``Actor`` so role checks and jurisdiction filters hold whether the change
comes from GraphQL, a partner webhook or a rule action.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zongzhi.platform.base.codes import Role
from zongzhi.platform.models import Center, User, UserGrid

#: Roles that may see full ID and phone numbers of the parties to cases they can see.
PII_ROLES = frozenset({Role.staff, Role.mediator, Role.leader, Role.admin})


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: frozenset[str]
    center_id: int | None = None
    center_path: str | None = None
    center_level: str | None = None
    department_id: int | None = None
    grid_ids: frozenset[int] = frozenset()
    plugin: str | None = None
    system: bool = False
    label: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    def has(self, *roles: Role | str) -> bool:
        return self.system or any(str(r) in self.roles for r in roles)

    @property
    def sees_pii(self) -> bool:
        return self.system or any(str(r) in self.roles for r in PII_ROLES)

    @property
    def display(self) -> str:
        return self.label or self.username

    @classmethod
    def system_actor(cls, label: str, *, plugin: str | None = None) -> Actor:
        """The rules engine or a plugin acting on its own authority (``label`` names the rule)."""
        return cls(
            user_id=None, username="system", roles=frozenset(), system=True, label=label, plugin=plugin
        )


async def actor_for_user(user: User) -> Actor:
    center: Center | None = await user.center if user.center_id else None
    grid_ids = frozenset(await UserGrid.filter(user_id=user.id).values_list("grid_id", flat=True))
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset(user.roles),
        center_id=user.center_id,
        center_path=center.path if center else None,
        center_level=str(center.level) if center else None,
        department_id=user.department_id,
        grid_ids=grid_ids,
        plugin=user.plugin,
        label=user.display_name,
    )
