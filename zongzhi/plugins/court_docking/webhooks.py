"""The court's endpoints: referrals in, judicial-confirmation answers in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zongzhi.platform import partners
from zongzhi.platform.base.codes import CATEGORIES
from zongzhi.platform.base.errors import ServiceError
from zongzhi.platform.services import cases as svc
from zongzhi.plugins.court_docking.payloads import CONFIRMATION, REFERRAL

PLUGIN = "court_docking"
CHANNEL = "court"


async def referral(request: Request) -> Response:
    verified = await partners.read_payload(request, PLUGIN, REFERRAL)
    if isinstance(verified, Response):
        return verified
    data = verified.json()
    credential = verified.credential
    category = data.get("category", "contract")
    if category not in CATEGORIES:
        return partners.invalid([{"field": "category", "message": f"unknown category {category!r}"}])
    center = await partners.receiving_center(credential, data.get("area_code"))
    if center is None:
        return partners.invalid([{"field": "area_code", "message": "no center for this territory or court"}])
    case_input = svc.CaseInput(
        title=f"诉前调解：{data['claim'][:60]}",
        description=data["claim"],
        category=category,
        center_id=center.id,
        parties=[partners.party_input(p) for p in data["parties"]],
        extra_payload={"court": data["court"], "case_number": data["case_number"]},
    )
    record = {
        "case_number": data["case_number"],
        "court": data["court"],
        "claim": data["claim"],
        "amount": str(data["amount"]) if "amount" in data else None,
        "referral_date": data["referral_date"],
    }
    try:
        case, created = await partners.partner_case(
            credential, CHANNEL, data["case_number"], case_input, record
        )
    except ServiceError as exc:
        return partners.invalid([{"field": exc.field or "(body)", "message": exc.message}])
    return partners.case_response(case, created)


async def confirmation(request: Request) -> Response:
    verified = await partners.read_payload(request, PLUGIN, CONFIRMATION)
    if isinstance(verified, Response):
        return verified
    data = verified.json()
    # Only this credential's own referral: another court's case number finds nothing.
    case = await partners.own_case(verified.credential, CHANNEL, data["case_number"])
    if case is None:
        return partners.invalid([{"field": "case_number", "message": "no referral with this case number"}])
    event_type = "court.confirmed" if data["result"] == "confirmed" else "court.confirmation_rejected"
    await svc.note_event(
        partners.partner_actor(verified.credential),
        case.id,
        event_type,
        {"result": data["result"], "reason": data.get("reason", ""), "decided_at": data.get("decided_at")},
    )
    return JSONResponse({"case_number": data["case_number"], "recorded": event_type})


routes = [
    Route(f"/partners/{PLUGIN}/referrals", referral, methods=["POST"]),
    Route(f"/partners/{PLUGIN}/confirmations", confirmation, methods=["POST"]),
]
