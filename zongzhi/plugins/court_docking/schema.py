"""GraphQL for 诉调对接: the case's court referral, and asking the court for judicial confirmation."""

from __future__ import annotations

import strawberry

from zongzhi.platform.base.codes import CaseStatus, Role
from zongzhi.platform.base.errors import Forbidden, InvalidTransition, ValidationFailed
from zongzhi.platform.domain.jurisdiction import scoped_cases
from zongzhi.platform.models import CaseEvent, PartnerRecord
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.services import cases as svc

CONFIRMABLE = {CaseStatus.resolved, CaseStatus.closed, CaseStatus.followed_up}


@strawberry.type(description="诉前调解委派: what the court sent, and its answer on judicial confirmation.")
class CourtReferral:
    case_number: str = strawberry.field(description="案号")
    court: str
    claim: str
    amount: str | None
    referral_date: str
    confirmation: str = strawberry.field(description="none | requested | confirmed | rejected")
    confirmation_reason: str


async def _referral(case_id: int) -> CourtReferral | None:
    record = await PartnerRecord.get_or_none(case_id=case_id, plugin="court_docking")
    if record is None:
        return None
    last = (
        await CaseEvent.filter(
            case_id=case_id,
            type__in=["court.confirmation_requested", "court.confirmed", "court.confirmation_rejected"],
        )
        .order_by("-id")
        .first()
    )
    state = {
        None: "none",
        "court.confirmation_requested": "requested",
        "court.confirmed": "confirmed",
        "court.confirmation_rejected": "rejected",
    }[last.type if last else None]
    d = record.data
    return CourtReferral(
        case_number=d["case_number"],
        court=d["court"],
        claim=d["claim"],
        amount=d.get("amount"),
        referral_date=d["referral_date"],
        confirmation=state,
        confirmation_reason=(last.payload.get("reason", "") if last else ""),
    )


@strawberry.type
class CourtQuery:
    @strawberry.field(description="诉调对接: the court referral behind a case, if it came from a court.")
    async def court_referral(self, info: Info, case_id: strawberry.ID) -> CourtReferral | None:
        pk = pk_of(case_id, "Case", "caseId")
        if not await scoped_cases(actor_of(info)).filter(id=pk).exists():
            return None
        return await _referral(pk)


@strawberry.type
class CourtMutation:
    @strawberry.mutation(
        description="司法确认: send the mediation agreement to the court for judicial confirmation."
    )
    async def request_judicial_confirmation(self, info: Info, case_id: strawberry.ID) -> CourtReferral:
        actor = actor_of(info)
        if not actor.has(Role.staff, Role.leader, Role.mediator):
            raise Forbidden("requesting judicial confirmation needs center staff or the mediator")
        pk = pk_of(case_id, "Case", "caseId")
        case = await svc.get_case(actor, pk)
        if case.channel != "court":
            raise ValidationFailed(
                "only a court referral can go back for judicial confirmation", field="caseId"
            )
        if case.status not in CONFIRMABLE or not case.agreement:
            raise InvalidTransition("judicial confirmation needs a resolved case with an agreement")
        await svc.note_event(actor, pk, "court.confirmation_requested", {"agreement": case.agreement})
        return await _referral(pk)
