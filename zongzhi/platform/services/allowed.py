"""Which lifecycle steps a user may take on a case now, and why the others are unavailable.

Every answer comes from the lifecycle table (``lifecycle.refusal``), the same table and the same
standing (``case_access``) the services check, so a front end can show the buttons without
hard-coding the state machine, and a button it shows is a step the service accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Assignment, Case
from zongzhi.platform.services import case_access
from zongzhi.platform.services.lifecycle import STEPS, refusal

#: The Chinese label of each step.
LABELS = {name: step.label for name, step in STEPS.items()}
#: The GraphQL mutation that takes each step.
MUTATIONS = {name: step.mutation for name, step in STEPS.items()}


@dataclass(frozen=True)
class Allowed:
    step: str
    allowed: bool
    reason: str | None  # why not, when not


async def allowed_actions(actor: Actor, case: Case) -> list[Allowed]:
    """Every step of the lifecycle table, in its order, for ``actor`` on ``case`` now."""
    active = await case_access.active_assignments(case)
    paths = await case_access.center_paths(active)
    return decide(actor, case, active, paths, await case_access.summoned_now(actor, case.id))


def decide(
    actor: Actor, case: Case, active: list[Assignment], center_paths: dict[int, str], summoned: bool
) -> list[Allowed]:
    """``allowed_actions`` from what is already loaded: the case's active assignments, the paths of
    the centers they name and whether the actor's department has an open whistle on the case (the
    GraphQL field loads these in batches for a whole page)."""
    standing = case_access.standing_from(actor, case, active, center_paths, summoned)
    out = []
    for name in STEPS:
        refused = refusal(name, actor, case.status, standing)
        out.append(Allowed(step=name, allowed=refused is None, reason=refused.reason if refused else None))
    return out
