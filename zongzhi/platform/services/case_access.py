"""Loading a case to act on, and the actor's standing on it, for the lifecycle table to judge.

Every step loads its case here: through the actor's jurisdiction, with the row locked for the
transaction, then ``require_step`` asks the lifecycle table whether this actor may take the step
on the case in its status (roles, and the scope: assignee, handler or summoned department).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import Forbidden, NotFound
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope, scoped_cases
from zongzhi.platform.models import Assignment, Case, Center, Whistle
from zongzhi.platform.services import lifecycle
from zongzhi.platform.services.lifecycle import CENTER_STAFF, Scope, Standing


def now() -> datetime:
    return datetime.now(UTC)


async def get_case(actor: Actor, case_id: int) -> Case:
    """The case, if it lies in the actor's jurisdiction; ``NOT_FOUND`` otherwise."""
    case = await scoped_cases(actor).get_or_none(id=case_id)
    if case is None:
        raise NotFound(f"no case {case_id} in your jurisdiction", field="caseId")
    return case


# Rule actions lock their case on every step, two or three times per event in a worker: for the
# system actor, whose scope is every case, a fixed statement instead of a query the ORM builds anew.
_LOCK_ANY_CASE_PG = 'SELECT * FROM "case" WHERE id = $1 FOR UPDATE'


async def lock_case(actor: Actor, case_id: int) -> Case:
    """The case in the actor's jurisdiction, its row locked until the transaction ends."""
    conn = Tortoise.get_connection("default")
    if actor.system and conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(_LOCK_ANY_CASE_PG, [case_id])
        case = Case._init_from_db(**rows[0]) if rows else None
    else:
        case = await scoped_cases(actor).filter(id=case_id).select_for_update().first()
    if case is None:
        raise NotFound(f"no case {case_id} in your jurisdiction", field="caseId")
    return case


async def update_for_step(actor: Actor, case_id: int, step: str, values: dict[str, Any]) -> Case | None:
    """The system actor's step that only sets columns, in one statement on PostgreSQL: the row is
    locked, the status checked against the step's and the columns set by one ``UPDATE``, where
    ``load_for_step`` and ``save_case`` take two round trips (the deadline every new case gets from
    the rules is the hottest). ``None`` when it does not apply (another actor, step scope or
    database, or the update found no case in a status the step leaves): the caller takes the
    ordinary path, which raises the refusal there is to raise."""
    conn = Tortoise.get_connection("default")
    if not actor.system or conn.capabilities.dialect != "postgres":
        return None
    spec = lifecycle.STEPS[step]
    if spec.scope is not Scope.JURISDICTION:
        return None
    lifecycle.require_roles(actor, step)
    columns = (*values, "updated_at")
    fields_map = Case._meta.fields_map
    params = [fields_map[c].to_db_value(v, None) for c, v in values.items()]
    rows = await conn.execute_query_dict(
        _update_sql(columns), [case_id, *params, now(), [status.value for status in spec.sources]]
    )
    return Case._init_from_db(**rows[0]) if rows else None


@functools.lru_cache(maxsize=32)
def _update_sql(columns: tuple[str, ...]) -> str:
    sets = ", ".join(f'"{column}" = ${n}' for n, column in enumerate(columns, start=2))
    statuses = len(columns) + 2
    return f'UPDATE "case" SET {sets} WHERE id = $1 AND status = ANY(${statuses}::text[]) RETURNING *'


async def load_for_step(actor: Actor, case_id: int, step: str) -> Case:
    """Lock the case and check the actor may take ``step`` on it now (``require_step``)."""
    case = await lock_case(actor, case_id)
    await require_step(actor, step, case)
    return case


async def save_case(case: Case, *fields_: str) -> None:
    """Save the named fields and ``updated_at`` (a step with no field of its own still touches the case)."""
    await case.save(update_fields=[*fields_, "updated_at"])


# --- the actor's standing on a case -------------------------------------------------------------


async def active_assignments(case: Case) -> list[Assignment]:
    return await Assignment.filter(case_id=case.id, returned_at=None, finished_at=None)


def holds(actor: Actor, assignment: Assignment, center_paths: dict[int, str]) -> bool:
    """Whether the actor is the unit an assignment names (a center's staff and mediators hold its
    assignments for the whole subtree); ``center_paths`` maps the assigned centers' IDs to paths."""
    if actor.system:
        return True
    if assignment.user_id is not None:
        return assignment.user_id == actor.user_id
    if assignment.department_id is not None:
        return assignment.department_id == actor.department_id
    if assignment.center_id is not None:
        path = center_paths.get(assignment.center_id, "")
        return actor.has(*CENTER_STAFF, Role.mediator) and bool(
            actor.center_path and path.startswith(actor.center_path)
        )
    return False


async def center_paths(assignments: list[Assignment]) -> dict[int, str]:
    ids = [a.center_id for a in assignments if a.center_id]
    return dict(await Center.filter(id__in=ids).values_list("id", "path")) if ids else {}


async def summoned_now(actor: Actor, case_id: int) -> bool:
    """Whether the actor's department has an open whistle (吹哨报到) on the case: it may note progress."""
    if actor.department_id is None:
        return False
    return await Whistle.filter(case_id=case_id, department_id=actor.department_id, answered_at=None).exists()


def standing_from(
    actor: Actor, case: Case, active: list[Assignment], paths: dict[int, str], summoned: bool
) -> Standing:
    """The standing from what is already loaded (the GraphQL field loads it for a whole page)."""
    return Standing(
        holding=any(holds(actor, a, paths) for a in active),
        staff_here=actor.has(*CENTER_STAFF) and center_in_scope(actor, case.center_path),
        summoned=summoned,
    )


async def standing(actor: Actor, case: Case) -> Standing:
    active = await active_assignments(case)
    return standing_from(actor, case, active, await center_paths(active), await summoned_now(actor, case.id))


async def require_step(actor: Actor, step: str, case: Case) -> Assignment | None:
    """Raise the lifecycle table's refusal unless the actor may take ``step`` on ``case`` now.

    Returns the active assignment the actor holds on the case, when the step's scope asked for
    one (``None`` for the steps that only need roles, or for center staff acting as handler).
    """
    lifecycle.check(step, case.status)
    lifecycle.require_roles(actor, step)
    scope = lifecycle.STEPS[step].scope
    if scope is Scope.JURISDICTION:
        return None
    active = await active_assignments(case)
    paths = await center_paths(active)
    assignment = next((a for a in active if holds(actor, a, paths)), None)
    summoned = (
        scope is Scope.HANDLER_OR_SUMMONED and assignment is None and await summoned_now(actor, case.id)
    )
    refused = lifecycle.refusal(step, actor, case.status, standing_from(actor, case, active, paths, summoned))
    if refused is not None:
        raise refused.error
    return assignment


async def require_assignee(actor: Actor, step: str, case: Case) -> Assignment:
    """``require_step`` for a step the unit takes on its own assignment (accept, return): that assignment."""
    assignment = await require_step(actor, step, case)
    if assignment is None:
        raise Forbidden(f"{lifecycle.STEPS[step].doing} needs an assignment of yours on the case")
    return assignment
