"""Which registry rows (houses, units, visits, key-group tags) an actor may see and change.

What an actor sees is ``jurisdiction.visible`` (the House, OrgUnit, Visit, PersonTag and
HouseMember kinds, built on ``jurisdiction.grid_scope``), so registry IDs resolve through
``resolve_ref`` like every other kind; this module keeps the registry's shorthands and the rule for
changing it (``grid_writable``).
"""

from __future__ import annotations

from zongzhi.platform.base.codes import Role
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import REGISTRY_ROLES, grid_scope, visible
from zongzhi.platform.models import Grid, House, OrgUnit, Visit

__all__ = ["REGISTRY_ROLES", "REGISTRY_WRITERS", "grid_scope", "grid_writable", "visible_grids"]

#: Roles that change it.
REGISTRY_WRITERS = (Role.staff, Role.admin, Role.grid_worker)


def visible_grids(actor: Actor):
    """The grids whose registry ``actor`` sees (not ``visible(actor, Grid)``: org data, wider)."""
    q = grid_scope(actor)
    return Grid.all() if q is None else Grid.filter(q)


def visible_houses(actor: Actor):
    return visible(actor, House)


def visible_units(actor: Actor):
    return visible(actor, OrgUnit)


def visible_visits(actor: Actor):
    return visible(actor, Visit)


async def grid_writable(actor: Actor, grid_id: int) -> bool:
    """Whether ``actor`` may change the registry of this grid (a grid worker: only their own grids)."""
    if actor.system:
        return True
    if not actor.has(*REGISTRY_WRITERS):
        return False
    if grid_id in actor.grid_ids:
        return True
    if actor.roles == {str(Role.grid_worker)}:
        return False
    return await visible_grids(actor).filter(id=grid_id).exists()
