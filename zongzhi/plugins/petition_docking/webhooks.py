"""The petition office's endpoint: petition items in (claim-type taken, the others refused)."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise.exceptions import BaseORMException

from zongzhi.platform import partners
from zongzhi.platform.base.codes import CATEGORIES, CaseStatus
from zongzhi.platform.base.errors import ServiceError
from zongzhi.platform.models import Case
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.outbox import change
from zongzhi.plugins.petition_docking.payloads import ITEM, ITEM_TYPES

PLUGIN = "petition_docking"
CHANNEL = "petition"


def refusal_reason(item_type: str) -> str:
    return (
        f"该信访件为{ITEM_TYPES[item_type]}事项，不属于申诉求决类，不纳入访调对接调解；"
        "请信访部门依《信访工作条例》按程序分类处理"
    )


def _response(case: Case, created: bool) -> JSONResponse:
    refused = case.status == CaseStatus.rejected
    body = {
        "case_id": to_global_id("Case", case.id),
        "number": case.number,
        "status": str(case.status),
        "created": created,
        "refused": refused,
        "reason": case.reject_reason if refused else "",
    }
    return JSONResponse(body, status_code=201 if created else 200)


async def item(request: Request) -> Response:
    verified = await partners.read_payload(request, PLUGIN, ITEM)
    if isinstance(verified, Response):
        return verified
    data = verified.json()
    credential = verified.credential
    try:
        date.fromisoformat(data["received_date"])
    except ValueError:
        return partners.invalid([{"field": "received_date", "message": "not a valid date"}])
    category = data.get("category", "other")
    if category not in CATEGORIES:
        return partners.invalid([{"field": "category", "message": f"unknown category {category!r}"}])
    office = data["office"]
    center = await partners.receiving_center(credential, office["area_code"])
    if center is None:
        return partners.invalid([{"field": "office.area_code", "message": "no center for this office"}])
    parties = [partners.party_input(data["petitioner"], "applicant")]
    if data.get("respondent"):
        parties.append(partners.party_input(data["respondent"], "respondent"))
    case_input = svc.CaseInput(
        title=f"访调对接：{data['matter'][:60]}",
        description=data["matter"],
        category=category,
        center_id=center.id,
        address=data.get("address", ""),
        parties=parties,
        extra_payload={
            "item_number": data["item_number"],
            "item_type": data["item_type"],
            "office": office["name"],
        },
    )
    record = {
        "item_number": data["item_number"],
        "item_type": data["item_type"],
        "petitioner": data["petitioner"]["name"],
        "matter": data["matter"],
        "office": office,
        "received_date": data["received_date"],
    }
    try:
        # One transaction: the case, the plugin's record and (for an item not taken) its refusal
        # commit together, so the rules and deliveries after it see all three.
        async with change():
            case, created = await partners.partner_case(
                credential, CHANNEL, data["item_number"], case_input, record
            )
            if created and data["item_type"] != "claim":
                case = await svc.reject(
                    partners.partner_actor(credential), case.id, refusal_reason(data["item_type"])
                )
    except ServiceError as exc:
        return partners.invalid([{"field": exc.field or "(body)", "message": exc.message}])
    except BaseORMException:
        # The same item delivered twice at once: the loser's transaction failed on the unique key.
        case = await partners.own_case(credential, CHANNEL, data["item_number"])
        if case is None:
            raise
        created = False
    return _response(case, created)


routes = [Route(f"/partners/{PLUGIN}/items", item, methods=["POST"])]
