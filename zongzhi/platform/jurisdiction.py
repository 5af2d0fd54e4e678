"""Row-level jurisdiction (DESIGN.md §9): which cases an actor may see and act on.

A user sees the cases owned by a center in their center's subtree, the cases assigned to their
department or to them, and — for grid workers — the cases in their grids and those they filed.
The same ``Q`` filters lists, node lookups, statistics and evidence, so no surface can leak what
another forbids.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q, Subquery

from zongzhi.platform.actor import Actor
from zongzhi.platform.models import Assignment, Case, Center


@dataclass(frozen=True)
class ScopePart:
    """One alternative of the jurisdiction rule: the cases it lets the actor see, and all others."""

    within: Q
    outside: Q  # the negation of ``within``, true where ``within``'s column is NULL


def _parts(actor: Actor, center: ScopePart | None) -> list[ScopePart]:
    """The alternatives of the rule, ``center`` standing for the actor's center subtree."""
    parts: list[ScopePart] = []
    if actor.center_path and center is not None:
        parts.append(center)
    if actor.department_id:
        assigned = Subquery(Assignment.filter(department_id=actor.department_id).values("case_id"))
        parts.append(ScopePart(Q(id__in=assigned), Q(id__not_in=assigned)))
    if actor.user_id:
        assigned = Subquery(Assignment.filter(user_id=actor.user_id).values("case_id"))
        parts.append(ScopePart(Q(id__in=assigned), Q(id__not_in=assigned)))
        parts.append(ScopePart(Q(created_by_id=actor.user_id), Q(created_by_id__not=actor.user_id)))
    if actor.grid_ids:
        grids = list(actor.grid_ids)
        parts.append(ScopePart(Q(grid_id__in=grids), Q(grid_id__not_in=grids)))
    return parts


def case_scope(actor: Actor) -> Q | None:
    """A filter on ``Case`` for what ``actor`` may see, or ``None`` when it may see everything."""
    if actor.system:
        return None
    prefix = actor.center_path or ""
    center = ScopePart(Q(center_path__startswith=prefix), ~Q(center_path__startswith=prefix))
    parts = [p.within for p in _parts(actor, center)]
    if not parts:
        return Q(id__in=[])
    return Q(*parts, join_type=Q.OR)


async def subtree_paths(path: str) -> list[str]:
    """The paths of the center at ``path`` and of every center below it."""
    return list(await Center.filter(path__startswith=path).values_list("path", flat=True))


async def case_scope_parts(actor: Actor) -> list[ScopePart] | None:
    """``case_scope`` as its alternatives (their OR), or ``None`` when the actor sees everything.

    For lists on a large table: an OR of them cannot use an index on PostgreSQL, each one alone
    can, so a list reads each part on its own and merges. The center part is ``center_path IN``
    the paths of the actor's subtree, an equality that uses the ``center_path`` indexes under any
    collation, where ``LIKE 'prefix%'`` cannot. It selects the same cases as the prefix: a case's
    ``center_path`` is its center's path, and a center's path never changes.
    """
    if actor.system:
        return None
    center = None
    if actor.center_path:
        paths = await subtree_paths(actor.center_path)
        center = ScopePart(Q(center_path__in=paths), Q(center_path__not_in=paths))
    return _parts(actor, center)


def scoped_cases(actor: Actor):
    q = case_scope(actor)
    return Case.all() if q is None else Case.filter(q)


def center_in_scope(actor: Actor, center_path: str) -> bool:
    return actor.system or bool(actor.center_path and center_path.startswith(actor.center_path))


async def can_see_case(actor: Actor, case_id: int) -> bool:
    return await scoped_cases(actor).filter(id=case_id).exists()
