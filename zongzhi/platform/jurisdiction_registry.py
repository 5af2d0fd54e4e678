"""Which registry rows (houses, units, visits, key-group tags) an actor may see and change.

The registry lives in grids, so its visibility is the actor's grids: every grid under their
center's subtree, plus the grids they cover as a grid worker. Department and partner accounts see
no registry rows (they see the cases given to them, not the population). This is the registry's
part of the one jurisdiction definition, built on ``actor.center_path`` / ``actor.grid_ids`` like
``jurisdiction.case_scope``; ``visible(actor, Model)`` folds it in as the House, OrgUnit and Visit
kinds.
"""

from __future__ import annotations

from tortoise.expressions import Q, Subquery

from zongzhi.platform.actor import Actor
from zongzhi.platform.codes import Role
from zongzhi.platform.models import Grid, House, OrgUnit, Visit

#: Roles that read and keep the registry (department and partner accounts do not).
REGISTRY_ROLES = (Role.staff, Role.leader, Role.admin, Role.grid_worker, Role.mediator)
#: Roles that change it.
REGISTRY_WRITERS = (Role.staff, Role.admin, Role.grid_worker)


def grid_scope(actor: Actor) -> Q | None:
    """A filter on ``Grid`` for the grids whose registry ``actor`` sees; ``None``: all of them."""
    if actor.system:
        return None
    if not actor.has(*REGISTRY_ROLES):
        return Q(id__in=[])
    parts = []
    if actor.center_path:
        parts.append(Q(center__path__startswith=actor.center_path))
    if actor.grid_ids:
        parts.append(Q(id__in=list(actor.grid_ids)))
    if not parts:
        return Q(id__in=[]) if not actor.has(Role.admin) else None
    return Q(*parts, join_type=Q.OR)


def visible_grids(actor: Actor):
    q = grid_scope(actor)
    return Grid.all() if q is None else Grid.filter(q)


def _in_grids(actor: Actor, model):
    q = grid_scope(actor)
    if q is None:
        return model.all()
    return model.filter(grid_id__in=Subquery(Grid.filter(q).values("id")))


def visible_houses(actor: Actor):
    return _in_grids(actor, House)


def visible_units(actor: Actor):
    return _in_grids(actor, OrgUnit)


def visible_visits(actor: Actor):
    return _in_grids(actor, Visit)


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
