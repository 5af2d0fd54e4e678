"""The petition office's endpoint: petition items in (claim-type taken, the others refused)."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zongzhi.platform.plugin_api import (
    CATEGORIES,
    Case,
    CaseInput,
    CaseStatus,
    ServiceError,
    case_response,
    invalid,
    partner_case,
    party_input,
    read_payload,
    receiving_center,
)
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
    return case_response(case, created, {"refused": refused, "reason": case.reject_reason if refused else ""})


async def item(request: Request) -> Response:
    verified = await read_payload(request, PLUGIN, ITEM)
    if isinstance(verified, Response):
        return verified
    data = verified.json()
    credential = verified.credential
    try:
        date.fromisoformat(data["received_date"])
    except ValueError:
        return invalid([{"field": "received_date", "message": "not a valid date"}])
    category = data.get("category", "other")
    if category not in CATEGORIES:
        return invalid([{"field": "category", "message": f"unknown category {category!r}"}])
    office = data["office"]
    center = await receiving_center(credential, office["area_code"])
    if center is None:
        return invalid([{"field": "office.area_code", "message": "no center for this office"}])
    parties = [party_input(data["petitioner"], "applicant")]
    if data.get("respondent"):
        parties.append(party_input(data["respondent"], "respondent"))
    case_input = CaseInput(
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
    refusal = refusal_reason(data["item_type"]) if data["item_type"] != "claim" else None
    try:
        # The case, the plugin's record and (for an item not taken) its refusal commit together, so
        # the rules and deliveries after it see all three.
        case, created = await partner_case(
            credential, CHANNEL, data["item_number"], case_input, record, refusal=refusal
        )
    except ServiceError as exc:
        return invalid([{"field": exc.field or "(body)", "message": exc.message}])
    return _response(case, created)


routes = [Route(f"/partners/{PLUGIN}/items", item, methods=["POST"])]
