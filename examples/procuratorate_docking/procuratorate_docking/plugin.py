"""The procuratorate_docking plugin's hook implementations (the ``zongzhi.plugins`` entry point)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from starlette.routing import BaseRoute
from zongzhi.platform.plugin_api import (
    Case,
    CaseEvent,
    CodeContribution,
    FactFieldSpec,
    PartnerRecord,
    deliver_case_event,
    hookimpl,
)

from . import schema, webhooks
from .payloads import MATTERS

PLUGIN = "procuratorate_docking"

#: Case events the procuratorate is told about, and what they are called in the delivery.
OUTBOUND = {"case.resolved": "mediation_succeeded", "case.failed": "mediation_failed"}


@hookimpl
def zongzhi_codes() -> CodeContribution:
    return {
        "channels": {webhooks.CHANNEL: "检调对接"},
        "event_types": {"procuratorate.referred": "检察院委托调解"},
    }


@hookimpl
def zongzhi_fact_fields() -> dict[str, FactFieldSpec]:
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
def zongzhi_routes() -> list[BaseRoute]:
    return webhooks.routes


@hookimpl
def zongzhi_graphql_queries() -> list[type]:
    return [schema.ProcuratorateQuery]


def _payload(kind: str, event: CaseEvent, case: Case, record: PartnerRecord) -> dict[str, Any]:
    return {
        "referral_id": record.data["referral_id"],
        "zongzhi_number": case.number,
        "outcome": case.outcome,
        "agreement": case.agreement,
        "at": event.at.isoformat(),
    }


@hookimpl
async def zongzhi_case_event(event: CaseEvent, case: Case) -> None:
    await deliver_case_event(PLUGIN, webhooks.CHANNEL, OUTBOUND, event, case, _payload)
