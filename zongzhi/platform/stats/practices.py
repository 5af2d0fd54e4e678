"""The seeds' practices in the statistics: sweep completion, the assessment ranking, mediators' figures."""

from __future__ import annotations

from dataclasses import dataclass, field

from zongzhi.platform.base.codes import Role
from zongzhi.platform.models import User
from zongzhi.platform.services import assessment, mediators, sweeps
from zongzhi.platform.stats.period import Period
from zongzhi.platform.stats.scope import Scope

TOP = 10


@dataclass(frozen=True)
class MediatorLine:
    user_id: int
    name: str
    figures: mediators.Figures


@dataclass
class PracticeFigures:
    sweeps: list[sweeps.Completion] = field(default_factory=list)
    people: list[assessment.Score] = field(default_factory=list)
    units: list[assessment.Score] = field(default_factory=list)
    mediators: list[MediatorLine] = field(default_factory=list)

    @property
    def sweep_tasks(self) -> int:
        return sum(c.tasks for c in self.sweeps)

    @property
    def sweep_done(self) -> int:
        return sum(c.done for c in self.sweeps)


async def practice_figures(scope: Scope, period: Period) -> PracticeFigures:
    """Sweeps whose period starts in ``period``; scores and mediators' figures of the scope."""
    result = await assessment.compute(scope, period)
    users = await User.filter(center_id__in=scope.center_ids, active=True).order_by("id")
    found = [u for u in users if str(Role.mediator) in u.roles]
    figs = await mediators.figures([u.id for u in found])
    return PracticeFigures(
        sweeps=await sweeps.completion(scope.paths, period.start, period.end),
        people=result.people[:TOP],
        units=result.units[:TOP],
        mediators=[MediatorLine(u.id, u.display_name, figs[u.id]) for u in found],
    )
