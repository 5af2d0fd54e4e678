"""GraphQL for staff reviewing citizens' reports (held before they become cases)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from zongzhi.platform import models
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.schema.nodes import ModelNode, copy_of
from zongzhi.platform.services import citizens as svc


@strawberry.type(description="A citizen's report (群众上报), held for review before it becomes a case.")
class CitizenReport(ModelNode):
    model = models.CitizenReport
    tracking: str = strawberry.field(description="The tracking number the citizen holds")
    center_id: strawberry.ID = strawberry.field(description="The center it was sent to")
    category: str = strawberry.field(description="Category code")
    description: str = strawberry.field(description="What the citizen wrote")
    address: str = strawberry.field(description="Where")
    lat: float | None = strawberry.field(description="Latitude")
    lng: float | None = strawberry.field(description="Longitude")
    photos: int = strawberry.field(
        description="Photos attached (added to the case as evidence on acceptance)"
    )
    status: str = strawberry.field(description="held, accepted or rejected")
    reject_reason: str = strawberry.field(description="Why it was not accepted")
    case_id: strawberry.ID | None = strawberry.field(description="The case it became")
    rating: int | None = strawberry.field(description="The citizen's stars (评价)")
    created_at: datetime = strawberry.field(description="When it was filed")

    @classmethod
    def of(cls, m: models.CitizenReport) -> CitizenReport:
        return copy_of(
            cls,
            m,
            center_id=strawberry.ID(to_global_id("Center", m.center_id)),
            photos=len(m.photos),
            case_id=strawberry.ID(to_global_id("Case", m.case_id)) if m.case_id else None,
        )


@strawberry.type
class CitizensQuery:
    @strawberry.field(
        description="Citizens' reports sent to the asker's center subtree (staff, leaders, admins)."
    )
    async def citizen_reports(
        self,
        info: Info,
        status: Annotated[str, strawberry.argument(description="held, accepted or rejected")] = "held",
        first: Annotated[int, strawberry.argument(description="At most 200")] = 50,
    ) -> list[CitizenReport]:
        rows = (
            await svc.reviewable(actor_of(info))
            .filter(status=status)
            .order_by("created_at")
            .limit(max(1, min(first, 200)))
        )
        return [CitizenReport.of(r) for r in rows]


@strawberry.type
class CitizensMutation:
    @strawberry.mutation(
        description="Accept a held report into a case (through intake) or reject it with a reason."
    )
    async def review_citizen_report(
        self,
        info: Info,
        report_id: Annotated[
            strawberry.ID, strawberry.argument(description="The report (CitizenReport global ID)")
        ],
        accept: Annotated[bool, strawberry.argument(description="True to accept, false to decline")],
        reason: Annotated[str, strawberry.argument(description="Why (required to decline or reject)")] = "",
        title: Annotated[
            str | None, strawberry.argument(description="Case title; default: the first line")
        ] = None,
    ) -> CitizenReport:
        report = await svc.review(
            actor_of(info),
            pk_of(report_id, "CitizenReport", "reportId"),
            accept,
            reason,
            title=title,
            store=info.context.request.app.state.store,
        )
        return CitizenReport.of(report)
