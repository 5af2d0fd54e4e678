"""The procuratorate's endpoint: ``POST /partners/procuratorate_docking/referrals``.

Signed like every partner request (``plugin_api.read_payload``): 401 for a bad signature, a stale
timestamp or a foreign key, 422 with one ``{field, message}`` per problem, 201 for a new case and 200
with the same case when the same ``referral_id`` comes again.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from zongzhi.platform.plugin_api import (
    CATEGORIES,
    CaseInput,
    ServiceError,
    case_response,
    invalid,
    partner_case,
    party_input,
    read_payload,
    receiving_center,
)

from .payloads import DEFAULT_CATEGORY, MATTERS, REFERRAL

PLUGIN = "procuratorate_docking"
CHANNEL = "procuratorate"


async def referral(request: Request) -> Response:
    verified = await read_payload(request, PLUGIN, REFERRAL)
    if isinstance(verified, Response):
        return verified
    data = verified.json()
    credential = verified.credential
    category = data.get("category", DEFAULT_CATEGORY[data["matter"]])
    if category not in CATEGORIES:
        return invalid([{"field": "category", "message": f"unknown category {category!r}"}])
    center = await receiving_center(credential, data.get("area_code"))
    if center is None:
        return invalid([{"field": "area_code", "message": "no center for this territory"}])
    label = MATTERS[data["matter"]]
    case_input = CaseInput(
        title=f"检调对接（{label}）：{data['summary'][:60]}",
        description=data["summary"],
        category=category,
        center_id=center.id,
        parties=[party_input(p) for p in data["parties"]],
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
    # The case, the plugin's record and its procuratorate.referred event: one transaction.
    referred = ("procuratorate.referred", {"matter": data["matter"], "referral_id": data["referral_id"]})
    try:
        case, created = await partner_case(
            credential, CHANNEL, data["referral_id"], case_input, record, events=[referred]
        )
    except ServiceError as exc:
        return invalid([{"field": exc.field or "(body)", "message": exc.message}])
    return case_response(case, created)


routes = [Route(f"/partners/{PLUGIN}/referrals", referral, methods=["POST"])]
