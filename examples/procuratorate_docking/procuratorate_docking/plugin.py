"""The procuratorate_docking plugin's hook implementations (the ``zongzhi.plugins`` entry point)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from zongzhi.platform import partners
from zongzhi.platform.hookspecs import hookimpl
from zongzhi.platform.models import Case, CaseEvent, PartnerCredential, PartnerRecord

from . import schema, webhooks
from .payloads import MATTERS

PLUGIN = "procuratorate_docking"

#: Case events the procuratorate is told about, and what they are called in the delivery.
OUTBOUND = {"case.resolved": "mediation_succeeded", "case.failed": "mediation_failed"}


@hookimpl
def zongzhi_codes() -> dict[str, dict[str, str]]:
    return {
        "channels": {"procuratorate": "检调对接"},
        "event_types": {"procuratorate.referred": "检察院委托调解"},
    }


@hookimpl
def zongzhi_fact_fields() -> dict[str, dict[str, Any]]:
    return {
        "payload.procuratorate": {"type": "string", "description": "the referring procuratorate"},
        "payload.matter": {"type": "string", "description": "委托事项", "values": list(MATTERS)},
        "payload.referral_id": {"type": "string", "description": "the procuratorate's referral id"},
    }


@hookimpl
def zongzhi_rulesets() -> list[tuple[str, str]]:
    source = resources.files(__package__).joinpath("rules.yaml").read_text(encoding="utf-8")
    return [("procuratorate_docking", source)]


@hookimpl
def zongzhi_routes() -> list[Any]:
    return webhooks.routes


@hookimpl
def zongzhi_graphql_queries() -> list[type]:
    return [schema.ProcuratorateQuery]


@hookimpl
async def zongzhi_case_event(event: CaseEvent, case: Case) -> None:
    kind = OUTBOUND.get(event.type)
    if kind is None or case.channel != webhooks.CHANNEL:
        return
    record = await PartnerRecord.get_or_none(case_id=case.id, plugin=PLUGIN)
    if record is None or record.credential_id is None:
        return
    credential = await PartnerCredential.get(id=record.credential_id)
    payload = {
        "referral_id": record.data["referral_id"],
        "zongzhi_number": case.number,
        "outcome": case.outcome,
        "agreement": case.agreement,
        "at": event.at.isoformat(),
    }
    await partners.queue_delivery(PLUGIN, credential, kind, payload, case=case, event=event)
