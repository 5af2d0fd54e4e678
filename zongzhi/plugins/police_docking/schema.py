"""GraphQL for 警调对接: the 110 incident behind a case."""

from __future__ import annotations

import strawberry

from zongzhi.platform.domain.jurisdiction import scoped_cases
from zongzhi.platform.models import PartnerRecord
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of


@strawberry.type(description="110警情: what the police station sent, and how the plugin placed it.")
class PoliceIncident:
    incident_number: str = strawberry.field(description="警情编号")
    reported_at: str = strawberry.field(description="接警时间 as the station sent it (ISO 8601)")
    incident_type: str
    address: str
    lat: float | None
    lng: float | None
    located_by: str = strawberry.field(
        description="How the center was found: polygon | grid_code | area_code | station"
    )
    violence: bool
    officer_note: str = strawberry.field(description="民警处置意见")
    station_code: str = strawberry.field(description="The police station's department code")
    station_name: str
    address_calls_30d: int = strawberry.field(
        description="Earlier incidents from the same address in the 30 days before this one"
    )


def _incident(record: PartnerRecord) -> PoliceIncident:
    d = record.data
    location = d.get("location", {})
    return PoliceIncident(
        incident_number=d["incident_number"],
        reported_at=d["reported_at"],
        incident_type=d["incident_type"],
        address=location.get("address", ""),
        lat=location.get("lat"),
        lng=location.get("lng"),
        located_by=d["located_by"],
        violence=d.get("violence", False),
        officer_note=d.get("officer_note", ""),
        station_code=d["police_station"]["code"],
        station_name=d["police_station"]["name"],
        address_calls_30d=d.get("address_calls_30d", 0),
    )


@strawberry.type
class PoliceQuery:
    @strawberry.field(description="警调对接: the 110 incident behind a case, if a police station sent it.")
    async def police_incident(self, info: Info, case_id: strawberry.ID) -> PoliceIncident | None:
        pk = pk_of(case_id, "Case", "caseId")
        if not await scoped_cases(actor_of(info)).filter(id=pk).exists():
            return None
        record = await PartnerRecord.get_or_none(case_id=pk, plugin="police_docking")
        return _incident(record) if record else None
