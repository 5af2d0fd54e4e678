"""The seeds' practices in ``Statistics``: sweep completion, the assessment ranking, mediators' figures."""

from __future__ import annotations

import strawberry

from zongzhi.platform.schema.assessment import AssessmentScore, _scores
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.schema.sweeps import SweepCompletion
from zongzhi.platform.stats import practices


@strawberry.type(description="A mediator's figures, counted from assignments and case events.")
class MediatorFigures:
    user_id: strawberry.ID = strawberry.field(description="The mediator's User ID")
    name: str = strawberry.field(description="Display name")
    load: int = strawberry.field(description="Cases held now")
    concluded: int = strawberry.field(description="Cases concluded (resolved or failed)")
    resolved: int = strawberry.field(description="Cases resolved")
    success_rate: float | None = strawberry.field(description="resolved / concluded")
    chosen: int = strawberry.field(description="Times chosen (点单)")
    accepted: int = strawberry.field(description="Choices accepted")
    declined: int = strawberry.field(description="Choices declined")


@strawberry.type(
    description="排查完成率, 积分排名 and 调解员 figures of the center's subtree for the period."
)
class PracticeFigures:
    sweep_tasks: int = strawberry.field(description="Sweep tasks whose period starts in the period")
    sweep_done: int = strawberry.field(description="Of them, recorded")
    sweep_completion: list[SweepCompletion] = strawberry.field(description="Per center and sweep period")
    top_people: list[AssessmentScore] = strawberry.field(description="The assessment's best ten people")
    top_units: list[AssessmentScore] = strawberry.field(description="The assessment's best ten units")
    mediators: list[MediatorFigures] = strawberry.field(description="Mediators of the subtree")

    @classmethod
    def of(cls, p: practices.PracticeFigures) -> PracticeFigures:
        return cls(
            sweep_tasks=p.sweep_tasks,
            sweep_done=p.sweep_done,
            sweep_completion=p.sweeps,
            top_people=_scores(p.people),
            top_units=_scores(p.units),
            mediators=[
                MediatorFigures(
                    user_id=strawberry.ID(to_global_id("User", m.user_id)),
                    name=m.name,
                    load=m.figures.load,
                    concluded=m.figures.concluded,
                    resolved=m.figures.resolved,
                    success_rate=m.figures.success_rate,
                    chosen=m.figures.requested,
                    accepted=m.figures.accepted,
                    declined=m.figures.declined,
                )
                for m in p.mediators
            ],
        )
