"""Grid workers' visit log (民情日记): visits, a finding turned into a case in one step, coverage.

A finding becomes a case through the ordinary intake (channel ``grid``), so the case has its
timeline, rules and deadlines like any other; the finding's photos go to the evidence store as
that case's evidence (``visitToCase`` takes them in the same request). The intake's client
request id is the visit's, so a retried conversion returns the same case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from zongzhi.platform.base.codes import PartyRole
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import resolve_ref
from zongzhi.platform.domain.jurisdiction_registry import grid_writable, visible_grids
from zongzhi.platform.models import CaseLink, Grid, House, Visit
from zongzhi.platform.services import cases as case_svc
from zongzhi.platform.services.masterdata import record
from zongzhi.platform.services.registry import registry_person
from zongzhi.platform.stats.period import Period
from zongzhi.platform.stats.scope import Scope


async def record_visit(
    actor: Actor,
    grid_id: int,
    findings: str,
    *,
    at: datetime | None = None,
    house_id: int | None = None,
    person_id: int | None = None,
) -> Visit:
    """Log a visit in a grid the actor keeps (a grid worker: their own grids)."""
    if actor.user_id is None:
        raise Forbidden("a visit is made by a person with an account")
    await resolve_ref(actor, Grid, grid_id, "gridId")
    if not await grid_writable(actor, grid_id):
        raise Forbidden("you do not keep that grid", field="gridId")
    if len(findings) > 4000:
        raise ValidationFailed("findings are at most 4000 characters", field="findings")
    if at is not None and at.tzinfo is None:
        raise ValidationFailed("give a time zone (e.g. +08:00)", field="at")
    if at is not None and at > datetime.now(UTC):
        raise ValidationFailed("a visit cannot be in the future", field="at")
    # Resolved first: an ID outside the jurisdiction is NOT_FOUND, not "in another grid".
    if house_id is not None and (await resolve_ref(actor, House, house_id, "houseId")).grid_id != grid_id:
        raise ValidationFailed("that house is not in this grid", field="houseId")
    if person_id is not None and (await registry_person(actor, person_id)).grid_id != grid_id:
        raise ValidationFailed("that person is not registered in this grid", field="personId")
    async with in_transaction():
        visit = await Visit.create(
            worker_id=actor.user_id,
            grid_id=grid_id,
            at=at or datetime.now(UTC),
            house_id=house_id,
            person_id=person_id,
            findings=findings.strip(),
        )
        await record(actor, "visit.record", f"visit:{visit.id}", {"grid": grid_id, "person": person_id})
    return visit


async def get_visit(actor: Actor, visit_id: int) -> Visit:
    return await resolve_ref(actor, Visit, visit_id, "visitId")


@dataclass
class FindingCase:
    title: str
    category: str
    kind: str = "dispute"
    severity: int = 2


async def visit_to_case(actor: Actor, visit_id: int, data: FindingCase):
    """Turn a visit's finding into a case: its grid, place, person and house come with it."""
    visit = await get_visit(actor, visit_id)
    if visit.case_id is not None:
        return await case_svc.get_case(actor, visit.case_id)
    house = await House.get(id=visit.house_id) if visit.house_id else None
    parties = (
        [case_svc.PartyInput(role=PartyRole.applicant, person_id=visit.person_id)] if visit.person_id else []
    )
    case, _ = await case_svc.intake(
        case_svc.CaseInput(
            title=data.title,
            category=data.category,
            kind=data.kind,
            severity=data.severity,
            channel="grid",
            description=visit.findings,
            grid_id=visit.grid_id,
            lat=house.lat if house else None,
            lng=house.lng if house else None,
            address=house.address if house else "",
            parties=parties,
            client_request_id=f"visit-{visit.id}",
            extra_payload={"visit": visit.id},
        ),
        actor,
    )
    async with in_transaction():
        if house is not None:
            await CaseLink.get_or_create(case_id=case.id, house_id=house.id, org_unit_id=None)
        await Visit.filter(id=visit.id).update(case_id=case.id)
        await record(actor, "visit.to_case", f"visit:{visit.id}", {"case": case.id})
    return case


@dataclass(frozen=True)
class Coverage:
    grid_id: int
    houses: int
    visited_houses: int
    visits: int
    cases: int

    @property
    def rate(self) -> float | None:
        return self.visited_houses / self.houses if self.houses else None


async def coverage(actor: Actor, scope: Scope, period: Period) -> list[tuple[object, Coverage]]:
    """Per grid of the scope (that the actor sees): houses, houses visited, visits and cases from visits."""
    grids = await visible_grids(actor).filter(center_id__in=scope.center_ids).order_by("code")
    ids = [g.id for g in grids]
    houses: dict[int, int] = {}
    for gid in await House.filter(grid_id__in=ids).values_list("grid_id", flat=True):
        houses[gid] = houses.get(gid, 0) + 1
    visits = await Visit.filter(grid_id__in=ids, at__gte=period.start_at, at__lt=period.end_at).values(
        "grid_id", "house_id", "case_id"
    )
    out = []
    for g in grids:
        mine = [v for v in visits if v["grid_id"] == g.id]
        out.append(
            (
                g,
                Coverage(
                    grid_id=g.id,
                    houses=houses.get(g.id, 0),
                    visited_houses=len({v["house_id"] for v in mine if v["house_id"]}),
                    visits=len(mine),
                    cases=sum(1 for v in mine if v["case_id"]),
                ),
            )
        )
    return out
