"""GraphQL for 访调对接: the petition item behind a case, and its one 30-day extension."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from zongzhi.platform.base.codes import CaseStatus, Role
from zongzhi.platform.base.errors import Forbidden, InvalidTransition, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import scoped_cases
from zongzhi.platform.models import Case, CaseEvent, PartnerRecord
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.outbox import change
from zongzhi.plugins.petition_docking.payloads import ITEM_TYPES

PLUGIN = "petition_docking"
EXTENDED = "petition.deadline_extended"
#: 《信访工作条例》: handling may be extended once, by at most 30 days, with a reason.
EXTENSION = timedelta(days=30)


@strawberry.type(
    description="信访件: what the petition office sent, whether it was taken, and its deadlines."
)
class PetitionItem:
    item_number: str = strawberry.field(description="信访件编号")
    item_type: str = strawberry.field(description="claim | suggestion | accusation | other")
    item_type_label: str
    petitioner: str = strawberry.field(description="The petitioner's name")
    matter: str
    office: str
    office_area_code: str
    received_date: str
    taken: bool = strawberry.field(description="Taken for mediation (only 申诉求决类 items are)")
    refusal_reason: str
    accept_by: datetime | None = strawberry.field(description="受理告知 deadline (15 days)")
    handle_by: datetime | None = strawberry.field(description="办理 deadline (60 days, +30 if extended)")
    extended: bool
    extension_reason: str


async def _item(case: Case) -> PetitionItem | None:
    record = await PartnerRecord.get_or_none(case_id=case.id, plugin=PLUGIN)
    if record is None:
        return None
    extension = await CaseEvent.filter(case_id=case.id, type=EXTENDED).order_by("id").first()
    d = record.data
    return PetitionItem(
        item_number=d["item_number"],
        item_type=d["item_type"],
        item_type_label=ITEM_TYPES.get(d["item_type"], d["item_type"]),
        petitioner=d["petitioner"],
        matter=d["matter"],
        office=d["office"]["name"],
        office_area_code=d["office"]["area_code"],
        received_date=d["received_date"],
        taken=d["item_type"] == "claim" and case.status != CaseStatus.rejected,
        refusal_reason=case.reject_reason if case.status == CaseStatus.rejected else "",
        accept_by=case.respond_by,
        handle_by=case.resolve_by,
        extended=extension is not None,
        extension_reason=extension.payload.get("reason", "") if extension else "",
    )


@strawberry.type
class PetitionQuery:
    @strawberry.field(description="访调对接: the petition item behind a case, if a petition office sent it.")
    async def petition_item(self, info: Info, case_id: strawberry.ID) -> PetitionItem | None:
        pk = pk_of(case_id, "Case", "caseId")
        case = await scoped_cases(actor_of(info)).get_or_none(id=pk)
        return await _item(case) if case else None


async def extend_deadline(actor: Actor, case_id: int, reason: str) -> Case:
    """Move the handling deadline 30 days on, once, with a reason; recorded as its own event."""
    if not actor.has(Role.staff, Role.leader, Role.admin):
        raise Forbidden("extending a petition's deadline needs center staff or a leader")
    if not reason or not reason.strip():
        raise ValidationFailed("an extension needs a reason (延期理由)", field="reason")
    case = await svc.get_case(actor, case_id)
    if case.channel != "petition" or not await PartnerRecord.exists(case_id=case.id, plugin=PLUGIN):
        raise ValidationFailed("only a petition item's deadline is extended this way", field="caseId")
    async with change():
        case = await Case.filter(id=case.id).select_for_update().get()
        if await CaseEvent.exists(case_id=case.id, type=EXTENDED):
            raise InvalidTransition("a petition's handling deadline is extended only once")
        if case.resolve_by is None:
            raise InvalidTransition("the item has no handling deadline to extend")
        new = case.resolve_by + EXTENSION
        await svc.set_deadline(actor, case.id, resolve_by=new, note=f"延期30日：{reason.strip()}")
        await svc.note_event(
            actor,
            case.id,
            EXTENDED,
            {"reason": reason.strip(), "from": case.resolve_by.isoformat(), "to": new.isoformat()},
        )
    return await Case.get(id=case.id)


@strawberry.type
class PetitionMutation:
    @strawberry.mutation(
        description="延期办理: extend a petition item's handling deadline once by 30 days, with a reason."
    )
    async def extend_petition_deadline(self, info: Info, case_id: strawberry.ID, reason: str) -> PetitionItem:
        case = await extend_deadline(actor_of(info), pk_of(case_id, "Case", "caseId"), reason)
        item = await _item(case)
        if item is None:  # extend_deadline found the record; it cannot vanish but say so if it did
            raise ValidationFailed("the case has no petition item", field="caseId")
        return item
