"""Row-level jurisdiction (DESIGN.md §9): which cases an actor may see and act on.

A user sees the cases owned by a center in their center's subtree, the cases assigned to their
department or to them, and — for grid workers — the cases in their grids and those they filed.
The same ``Q`` filters lists, node lookups, statistics and evidence, so no surface can leak what
another forbids.
"""

from __future__ import annotations

from tortoise.expressions import Q, Subquery

from zongzhi.platform.actor import Actor
from zongzhi.platform.models import Assignment, Case


def case_scope(actor: Actor) -> Q | None:
    """A filter on ``Case`` for what ``actor`` may see, or ``None`` when it may see everything."""
    if actor.system:
        return None
    parts: list[Q] = []
    if actor.center_path:
        parts.append(Q(center_path__startswith=actor.center_path))
    if actor.department_id:
        parts.append(
            Q(id__in=Subquery(Assignment.filter(department_id=actor.department_id).values("case_id")))
        )
    if actor.user_id:
        parts.append(Q(id__in=Subquery(Assignment.filter(user_id=actor.user_id).values("case_id"))))
        parts.append(Q(created_by_id=actor.user_id))
    if actor.grid_ids:
        parts.append(Q(grid_id__in=list(actor.grid_ids)))
    if not parts:
        return Q(id__in=[])
    return Q(*parts, join_type=Q.OR)


def scoped_cases(actor: Actor):
    q = case_scope(actor)
    return Case.all() if q is None else Case.filter(q)


def center_in_scope(actor: Actor, center_path: str) -> bool:
    return actor.system or bool(actor.center_path and center_path.startswith(actor.center_path))


async def can_see_case(actor: Actor, case_id: int) -> bool:
    return await scoped_cases(actor).filter(id=case_id).exists()
