"""The procuratorate's endpoint: ``POST /partners/procuratorate_docking/referrals``.

Signed like every partner request (``zongzhi.platform.partners``): 401 for a bad signature, a stale
timestamp or a foreign key, 422 with one ``{field, message}`` per problem, 201 for a new case and 200
with the same case when the same ``referral_id`` comes again.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from zongzhi.platform import partners
from zongzhi.platform.base.codes import CATEGORIES
from zongzhi.platform.base.errors import ServiceError
from zongzhi.platform.services import cases as svc

from .payloads import DEFAULT_CATEGORY, MATTERS, REFERRAL

PLUGIN = "procuratorate_docking"
CHANNEL = "procuratorate"


async def referral(request: Request) -> Response:
    verified = await partners.read_payload(request, PLUGIN, REFERRAL)
    if isinstance(verified, Response):
        return verified
    data = verified.json()
    credential = verified.credential
    category = data.get("category", DEFAULT_CATEGORY[data["matter"]])
    if category not in CATEGORIES:
        return partners.invalid([{"field": "category", "message": f"unknown category {category!r}"}])
    center = await partners.receiving_center(credential, data.get("area_code"))
    if center is None:
        return partners.invalid([{"field": "area_code", "message": "no center for this territory"}])
    label = MATTERS[data["matter"]]
    case_input = svc.CaseInput(
        title=f"检调对接（{label}）：{data['summary'][:60]}",
        description=data["summary"],
        category=category,
        center_id=center.id,
        parties=[partners.party_input(p) for p in data["parties"]],
        extra_payload={"procuratorate": data["procuratorate"], "matter": data["matter"]},
    )
    record = {
        "referral_id": data["referral_id"],
        "procuratorate": data["procuratorate"],
        "matter": data["matter"],
        "criminal_case_number": data.get("criminal_case_number"),
        "summary": data["summary"],
        "referral_date": data["referral_date"],
    }
    try:
        case, created = await partners.partner_case(
            credential, CHANNEL, data["referral_id"], case_input, record
        )
        if created:
            await svc.note_event(
                partners.partner_actor(credential),
                case.id,
                "procuratorate.referred",
                {"matter": data["matter"], "referral_id": data["referral_id"]},
            )
    except ServiceError as exc:
        return partners.invalid([{"field": exc.field or "(body)", "message": exc.message}])
    return partners.case_response(case, created)


routes = [Route(f"/partners/{PLUGIN}/referrals", referral, methods=["POST"])]
