"""The police station's endpoint: dispute-type 110 incidents in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.exceptions import BaseORMException

from zongzhi.platform import partners
from zongzhi.platform.base.errors import ServiceError
from zongzhi.platform.domain.geo import grid_at
from zongzhi.platform.models import Case, Center, Department, Grid, PartnerCredential
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.outbox import change
from zongzhi.plugins.police_docking.payloads import INCIDENT, INCIDENT_TYPES

PLUGIN = "police_docking"
CHANNEL = "police"

#: How far back earlier calls from the same place count towards "a third call" (民转刑 warning).
REPEAT_WINDOW = timedelta(days=30)
#: Coordinates this close (degrees, about 50 m) count as the same place when there is no address.
SAME_PLACE_DEGREES = 0.0005

INCIDENT_LABELS = {
    "family": "家庭纠纷",
    "neighbor": "邻里纠纷",
    "economic": "经济纠纷",
    "labor": "劳资纠纷",
    "property": "物业纠纷",
    "land": "土地山林纠纷",
    "traffic": "交通纠纷",
    "consumer": "消费纠纷",
    "damages": "损害赔偿纠纷",
    "other": "其他纠纷",
}


async def locate(location: dict, credential: PartnerCredential) -> tuple[Center | None, Grid | None, str]:
    """Where the incident happened: ``(center taking it in, grid, how it was found)``.

    Coordinates in a grid polygon, else the grid code, else the area code, else the station's center.
    """
    grid = None
    if "lat" in location:
        grid = await grid_at(location["lat"], location["lng"])
        if grid is not None:
            return await Center.get(id=grid.center_id), grid, "polygon"
    if location.get("grid_code"):
        grid = await Grid.get_or_none(code=location["grid_code"])
        if grid is not None:
            return await Center.get(id=grid.center_id), grid, "grid_code"
    if location.get("area_code"):
        center = await Center.get_or_none(code=location["area_code"])
        if center is not None:
            return center, None, "area_code"
    center = await Center.get_or_none(id=credential.center_id) if credential.center_id else None
    return center, None, "station"


async def earlier_calls(location: dict, now: datetime) -> int:
    """Police cases from the same address (or, without one, the same spot) in the last 30 days."""
    recent = Case.filter(channel=CHANNEL, created_at__gte=now - REPEAT_WINDOW)
    address = location.get("address", "").strip()
    if address:
        return await recent.filter(address=address).count()
    if "lat" in location:
        lat, lng = location["lat"], location["lng"]
        return await recent.filter(
            lat__gte=lat - SAME_PLACE_DEGREES,
            lat__lte=lat + SAME_PLACE_DEGREES,
            lng__gte=lng - SAME_PLACE_DEGREES,
            lng__lte=lng + SAME_PLACE_DEGREES,
        ).count()
    return 0


async def incident(request: Request) -> Response:
    verified = await partners.read_payload(request, PLUGIN, INCIDENT)
    if isinstance(verified, Response):
        return verified
    data = verified.json()
    credential = verified.credential
    try:
        datetime.fromisoformat(data["reported_at"].replace("Z", "+00:00"))
    except ValueError:
        return partners.invalid([{"field": "reported_at", "message": "not a valid date and time"}])
    station = data["police_station"]
    if not await Department.exists(code=station["code"]):
        return partners.invalid(
            [{"field": "police_station.code", "message": f"no department {station['code']!r} is registered"}]
        )
    location = data["location"]
    center, grid, located_by = await locate(location, credential)
    if center is None:
        return partners.invalid([{"field": "location", "message": "no center for this place or station"}])
    calls = await earlier_calls(location, datetime.now(UTC))
    label = INCIDENT_LABELS[data["incident_type"]]
    address = location.get("address", "").strip()
    violence = bool(data.get("violence", False))
    case_input = svc.CaseInput(
        title=f"110警情：{label}{('（' + address[:40] + '）') if address else ''}",
        description=data.get("officer_note", ""),
        category=INCIDENT_TYPES[data["incident_type"]],
        center_id=center.id,
        grid_id=grid.id if grid else None,
        lat=location.get("lat"),
        lng=location.get("lng"),
        address=address,
        tags=["110警情", *(["暴力苗头"] if violence else [])],
        parties=[partners.party_input(p) for p in data["persons"]],
        extra_payload={
            "incident_number": data["incident_number"],
            "police_station": station["code"],
            "violence": violence,
            "address_calls_30d": calls,
            "located_by": located_by,
        },
    )
    record = {
        "incident_number": data["incident_number"],
        "reported_at": data["reported_at"],
        "incident_type": data["incident_type"],
        "location": location,
        "located_by": located_by,
        "violence": violence,
        "officer_note": data.get("officer_note", ""),
        "police_station": station,
        "address_calls_30d": calls,
    }
    try:
        # One transaction for the case and the plugin's record, so the rules on case.received (and
        # the deliveries they cause) already find the station the incident came from.
        async with change():
            case, created = await partners.partner_case(
                credential, CHANNEL, data["incident_number"], case_input, record
            )
    except ServiceError as exc:
        return partners.invalid([{"field": exc.field or "(body)", "message": exc.message}])
    except BaseORMException:
        # The same incident delivered twice at once: the loser's transaction failed on the unique key.
        case = await partners.own_case(credential, CHANNEL, data["incident_number"])
        if case is None:
            raise
        created = False
    return partners.case_response(case, created)


routes = [Route(f"/partners/{PLUGIN}/incidents", incident, methods=["POST"])]
