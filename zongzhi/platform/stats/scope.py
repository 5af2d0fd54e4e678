"""Which cases a statistic counts: one center's subtree, inside the asker's jurisdiction.

Statistics are by center (a county sees its townships and villages). The scope is the list of the
subtree's center paths, so the case filter is ``center_path = ANY(paths)``: an equality that uses
the ``(center_path, created_at)`` index under any database collation, where ``LIKE 'prefix%'``
would need a C collation or a pattern-ops index on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope, resolve_ref
from zongzhi.platform.models import Center


@dataclass(frozen=True)
class Scope:
    center: Center
    centers: tuple[Center, ...]  # the center and everything below it

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.centers]

    @property
    def center_ids(self) -> list[int]:
        return [c.id for c in self.centers]

    def case_q(self) -> Q:
        """The same scope as a ``Q`` on ``Case``, for plugins' docking figures and ORM lists."""
        return Q(center_path__in=self.paths)


async def subtree(center: Center) -> tuple[Center, ...]:
    return tuple(await Center.filter(path__startswith=center.path).order_by("path"))


async def scope_for(actor: Actor, center_id: int | None = None, *, field: str = "centerId") -> Scope:
    """The subtree of ``center_id`` (default: the actor's own center), if the actor may see it."""
    if center_id is None:
        if actor.center_id is None:
            raise ValidationFailed("name the center whose statistics you want", field=field)
        center_id = actor.center_id
    center = await resolve_ref(actor, Center, center_id, field)
    if not center_in_scope(actor, center.path):
        raise Forbidden("that center is outside your jurisdiction", field=field)
    return Scope(center=center, centers=await subtree(center))


async def scope_of_center(center: Center) -> Scope:
    """A scope without an asker (the CLI, which runs with the operator's authority)."""
    return Scope(center=center, centers=await subtree(center))
