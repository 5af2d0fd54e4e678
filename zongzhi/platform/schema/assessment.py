"""GraphQL for 积分制考核: rankings traced to events, the county's rules, the home unit's share."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import Forbidden
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.services import assessment as svc
from zongzhi.platform.stats.period import parse_period
from zongzhi.platform.stats.scope import scope_for

READ_ROLES = (Role.staff, Role.leader, Role.admin)
POINTS_HELP = "Points per rule: " + ", ".join(svc.DEFAULT_POINTS) + " (unnamed rules keep their defaults)"


@strawberry.type(description="One scored event: the rule, its points and the case event behind them.")
class ScoreLine:
    rule: str = strawberry.field(description="The scoring rule, e.g. concluded_on_time, overdue")
    points: float = strawberry.field(description="Points given (negative for deductions)")
    event_id: strawberry.ID = strawberry.field(description="The CaseEvent behind the points")
    case_id: strawberry.ID = strawberry.field(description="Its case")
    case_number: str = strawberry.field(description="The case number")


@strawberry.type(description="A person's or a unit's score for the period, with the lines behind it.")
class AssessmentScore:
    rank: int = strawberry.field(description="1 for the best in its list")
    kind: str = strawberry.field(description="person, department or center")
    id: strawberry.ID = strawberry.field(description="Global ID of the User, Department or Center")
    name: str = strawberry.field(description="Display name")
    center_score: float = strawberry.field(description="Sum of the lines (the center's assessment)")
    home_score: float | None = strawberry.field(description="The home unit's score (stationed staff)")
    weighted: float | None = strawberry.field(
        description="centerWeight × centerScore + homeWeight × homeScore (stationed staff with a home score)"
    )
    annual_share: float | None = strawberry.field(
        description="A center's score × townshipShare: its part in the annual 平安建设 assessment"
    )
    lines: list[ScoreLine] = strawberry.field(description="Every scored event")


@strawberry.type(description="积分制考核 of a center's subtree for a period.")
class Assessment:
    period: str = strawberry.field(description="The period label")
    weights: JSON = strawberry.field(description="centerWeight, homeWeight and townshipShare in force")
    people: list[AssessmentScore] = strawberry.field(description="People, best first")
    units: list[AssessmentScore] = strawberry.field(description="Departments and centers, best first")
    csv: str = strawberry.field(description="The ranking as CSV (UTF-8 with BOM)")


def _scores(items: list[svc.Score]) -> list[AssessmentScore]:
    type_name = {"person": "User", "department": "Department", "center": "Center"}
    return [
        AssessmentScore(
            rank=i,
            kind=s.kind,
            id=strawberry.ID(to_global_id(type_name[s.kind], s.key)),
            name=s.name,
            center_score=s.center_score,
            home_score=s.home_score,
            weighted=s.weighted,
            annual_share=s.annual_share,
            lines=[
                ScoreLine(
                    rule=line.rule,
                    points=line.points,
                    event_id=strawberry.ID(to_global_id("CaseEvent", line.event_id)),
                    case_id=strawberry.ID(to_global_id("Case", line.case_id)),
                    case_number=line.case_number,
                )
                for line in s.lines
            ],
        )
        for i, s in enumerate(items, 1)
    ]


@strawberry.type
class AssessmentQuery:
    @strawberry.field(description="Scores from the recorded events for a period (staff, leaders, admins).")
    async def assessment(
        self,
        info: Info,
        period: Annotated[
            str, strawberry.argument(description="A period: 2026, 2026-Q3, 2026-10, 2026-W41 or 2026-10-05")
        ],
        center_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="A center (global ID) in the asker's jurisdiction"),
        ] = None,
    ) -> Assessment:
        actor = actor_of(info)
        if not actor.has(*READ_ROLES):
            raise Forbidden("assessments are read by center staff and leaders")
        scope = await scope_for(actor, pk_of(center_id, "Center", "centerId") if center_id else None)
        result = await svc.compute(scope, parse_period(period))
        return Assessment(
            period=result.period.label,
            weights=result.weights,
            people=_scores(result.people),
            units=_scores(result.units),
            csv=svc.to_csv(result),
        )


@strawberry.type
class AssessmentMutation:
    @strawberry.mutation(description="Set a county's scoring points and weights (county leader or admin).")
    async def configure_assessment(
        self,
        info: Info,
        county_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The county center (global ID); default: the asker's"),
        ],
        points: Annotated[
            JSON,
            strawberry.argument(description=POINTS_HELP),
        ],
        center_weight: Annotated[
            float | None,
            strawberry.argument(description="Weight of the center's score for stationed staff (default 0.6)"),
        ] = None,
        home_weight: Annotated[
            float | None,
            strawberry.argument(
                description="Weight of the home unit's score (default 0.4); the two add up to 1"
            ),
        ] = None,
        township_share: Annotated[
            float | None,
            strawberry.argument(
                description="Share of a center's score in the township's annual assessment (default 0.3)"
            ),
        ] = None,
    ) -> JSON:
        row = await svc.configure(
            actor_of(info),
            pk_of(county_id, "Center", "countyId"),
            points if isinstance(points, dict) else {},
            center_weight,
            home_weight,
            township_share,
        )
        return {
            "points": svc.DEFAULT_POINTS | row.points,
            "centerWeight": row.center_weight,
            "homeWeight": row.home_weight,
            "townshipShare": row.township_share,
        }

    @strawberry.mutation(description="The home unit's score (0-100) of a stationed person, by its assessor.")
    async def enter_home_unit_score(
        self,
        info: Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The person (User global ID)")],
        period: Annotated[
            str, strawberry.argument(description="A period: 2026, 2026-Q3, 2026-10, 2026-W41 or 2026-10-05")
        ],
        score: Annotated[float, strawberry.argument(description="The home unit's score, 0 to 100")],
        note: Annotated[str, strawberry.argument(description="A note")] = "",
    ) -> float:
        row = await svc.enter_home_score(
            actor_of(info), pk_of(user_id, "User", "userId"), period, score, note
        )
        return row.score
