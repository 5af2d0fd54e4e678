"""The visit log (民情日记) over GraphQL: record a visit, turn its finding into a case, coverage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from zongzhi.platform import models
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.schema import types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.evidence import require_preflight, service
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.schema.nodes import ModelNode
from zongzhi.platform.schema.stats import period_of, scope_of
from zongzhi.platform.services import visits as svc
from zongzhi.platform.services.evidence import HEAD_BYTES, INLINE_MAX_BYTES
from zongzhi.storage import check_declared

MAX_PHOTOS = 6


@strawberry.type(description="民情日记: a grid worker's visit and what they found.")
class Visit(ModelNode):
    model = models.Visit
    at: datetime = strawberry.field(description="When the visit was made.")
    findings: str = strawberry.field(description="What was found.")
    m: strawberry.Private[models.Visit]

    @strawberry.field(description="Who made the visit.")
    async def worker(self, info: Info) -> types.User:
        return types.User.of(await info.context.loaders.user.load(self.m.worker_id))

    @strawberry.field(description="The grid visited.")
    async def grid(self, info: Info) -> types.Grid:
        return types.Grid.of(await info.context.loaders.grid.load(self.m.grid_id))

    @strawberry.field(description="The person visited, if one (masked and audited as everywhere).")
    async def person(self) -> types.Person | None:
        row = await models.Person.get_or_none(id=self.m.person_id) if self.m.person_id else None
        return types.Person.of(row) if row else None

    @strawberry.field(description="The case the finding became, if you may see it.")
    async def case(self, info: Info) -> types.Case | None:
        from zongzhi.platform.domain.jurisdiction import scoped_cases

        if self.m.case_id is None:
            return None
        row = await scoped_cases(actor_of(info)).get_or_none(id=self.m.case_id)
        return types.Case.of(row) if row else None


@strawberry.type(description="Visit coverage of one grid in a period (走访覆盖率).")
class VisitCoverage:
    grid: types.Grid = strawberry.field(description="The grid.")
    houses: int = strawberry.field(description="Houses registered in the grid.")
    visited_houses: int = strawberry.field(description="Houses visited at least once in the period.")
    visits: int = strawberry.field(description="Visits in the period.")
    cases: int = strawberry.field(description="Visits whose finding became a case.")
    rate: float | None = strawberry.field(description="visitedHouses / houses (null without houses).")


@strawberry.type
class VisitsQuery:
    @strawberry.field(description="Visits in your grids, newest first; optionally one grid's.")
    async def visits(
        self,
        info: Info,
        grid_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this grid's.")] = None,
        first: Annotated[int, strawberry.argument(description="At most this many (1-100).")] = 50,
    ) -> list[Visit]:
        from zongzhi.platform.domain.jurisdiction import resolve_ref
        from zongzhi.platform.domain.jurisdiction_registry import visible_visits

        query = visible_visits(actor_of(info))
        if grid_id:
            grid = await resolve_ref(actor_of(info), models.Grid, pk_of(grid_id, "Grid", "gridId"), "gridId")
            query = query.filter(grid_id=grid.id)
        return [Visit.of(v) for v in await query.order_by("-at", "-id").limit(max(1, min(first, 100)))]

    @strawberry.field(
        description="Visit coverage per grid of a center's subtree (default: yours) for a period."
    )
    async def visit_coverage(
        self,
        info: Info,
        center_id: Annotated[strawberry.ID | None, strawberry.argument(description="The center.")] = None,
        period: Annotated[str | None, strawberry.argument(description="2026, 2026-Q3, 2026-10, ...")] = None,
        from_: Annotated[
            date | None, strawberry.argument(name="from", description="First day (with to).")
        ] = None,
        to: Annotated[date | None, strawberry.argument(description="Last day (with from).")] = None,
    ) -> list[VisitCoverage]:
        scope = await scope_of(info, center_id)
        rows = await svc.coverage(actor_of(info), scope, period_of(period, from_, to))
        return [
            VisitCoverage(
                grid=types.Grid.of(g),
                houses=c.houses,
                visited_houses=c.visited_houses,
                visits=c.visits,
                cases=c.cases,
                rate=c.rate,
            )
            for g, c in rows
        ]


@strawberry.type
class VisitsMutation:
    @strawberry.mutation(description="Log a visit in a grid you keep (民情日记).")
    async def record_visit(
        self,
        info: Info,
        grid_id: Annotated[strawberry.ID, strawberry.argument(description="The grid visited.")],
        findings: Annotated[str, strawberry.argument(description="What was found.")],
        at: Annotated[datetime | None, strawberry.argument(description="When (default: now).")] = None,
        house_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The house visited.")
        ] = None,
        person_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The person visited.")
        ] = None,
    ) -> Visit:
        visit = await svc.record_visit(
            actor_of(info),
            pk_of(grid_id, "Grid", "gridId"),
            findings,
            at=at,
            house_id=pk_of(house_id, "House", "houseId") if house_id else None,
            person_id=pk_of(person_id, "Person", "personId") if person_id else None,
        )
        return Visit.of(visit)

    @strawberry.mutation(
        description="Turn a visit's finding into a case in one step (channel grid; its grid, house and "
        "person come along). Retrying returns the same case."
    )
    async def visit_to_case(
        self,
        info: Info,
        visit_id: Annotated[strawberry.ID, strawberry.argument(description="The visit.")],
        title: Annotated[str, strawberry.argument(description="The case's title.")],
        category: Annotated[str, strawberry.argument(description="A category code.")],
        kind: Annotated[
            str, strawberry.argument(description="dispute, hazard, service or opinion.")
        ] = "dispute",
        severity: Annotated[int, strawberry.argument(description="1 to 4.")] = 2,
        photos: Annotated[
            list[Upload] | None,
            strawberry.argument(
                description=f"Photos of the finding (GraphQL multipart, at most {MAX_PHOTOS}, each at "
                f"most {INLINE_MAX_BYTES // (1024 * 1024)} MB), stored in the evidence store as the case's "
                "evidence."
            ),
        ] = None,
    ) -> types.Case:
        actor = actor_of(info)
        files = await _read_photos(info, photos or [])
        case = await svc.visit_to_case(
            actor,
            pk_of(visit_id, "Visit", "visitId"),
            svc.FindingCase(title=title, category=category, kind=kind, severity=severity),
        )
        evidence = service(info)
        for name, content_type, data in files:
            await evidence.add_evidence_bytes(actor, case.id, name, content_type, data)
        return types.Case.of(case)


async def _read_photos(info: Info, photos: list[Upload]) -> list[tuple[str, str, bytes]]:
    """Every photo read and checked (size, declared image type against its bytes) before anything is
    written."""
    if not photos:
        return []
    require_preflight(info)
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"at most {MAX_PHOTOS} photos", field="photos")
    files = []
    for i, photo in enumerate(photos):
        data = await photo.read(INLINE_MAX_BYTES + 1)
        content_type = photo.content_type or ""
        if len(data) > INLINE_MAX_BYTES:
            raise ValidationFailed(f"a photo is at most {INLINE_MAX_BYTES} bytes", field=f"photos[{i}]")
        if not content_type.startswith("image/"):
            raise ValidationFailed("a photo is an image (image/jpeg, image/png, ...)", field=f"photos[{i}]")
        reason = check_declared(content_type, data[:HEAD_BYTES])
        if reason is not None:
            raise ValidationFailed(reason, field=f"photos[{i}]")
        files.append((photo.filename or f"photo-{i + 1}", content_type, data))
    return files
