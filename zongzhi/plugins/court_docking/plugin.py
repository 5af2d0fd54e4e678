"""The court_docking plugin's hook implementations."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from starlette.routing import BaseRoute
from tortoise.expressions import Q, Subquery

from zongzhi.platform.plugin_api import (
    Case,
    CaseEvent,
    CodeContribution,
    DockingFigures,
    FactFieldSpec,
    PartnerRecord,
    deliver_case_event,
    hookimpl,
)
from zongzhi.plugins.court_docking import schema, webhooks

PLUGIN = "court_docking"

#: Case events that go back to the court, and what they are called there.
OUTBOUND = {
    "case.resolved": "mediation_succeeded",
    "case.failed": "returned_for_trial",
    "court.confirmation_requested": "confirmation_request",
}


@hookimpl
def zongzhi_codes() -> CodeContribution:
    return {
        "channels": {webhooks.CHANNEL: "诉调对接"},
        "event_types": {
            "court.confirmation_requested": "申请司法确认",
            "court.confirmed": "司法确认",
            "court.confirmation_rejected": "司法确认驳回",
        },
    }


@hookimpl
def zongzhi_fact_fields() -> dict[str, FactFieldSpec]:
    return {
        "payload.court": {"type": "string", "description": "`case.received` of a referral: the court"},
        "payload.case_number": {"type": "string", "description": "`case.received` of a referral: 案号"},
    }


@hookimpl
def zongzhi_rulesets() -> list[tuple[str, str]]:
    source = (
        resources.files("zongzhi.plugins.court_docking").joinpath("rules.yaml").read_text(encoding="utf-8")
    )
    return [("court_docking", source)]


@hookimpl
def zongzhi_routes() -> list[BaseRoute]:
    return webhooks.routes


@hookimpl
def zongzhi_graphql_queries() -> list[type]:
    return [schema.CourtQuery]


@hookimpl
def zongzhi_graphql_mutations() -> list[type]:
    return [schema.CourtMutation]


def _payload(kind: str, event: CaseEvent, case: Case, record: PartnerRecord) -> dict:
    base = {"case_number": record.data["case_number"], "zongzhi_number": case.number}
    if kind == "mediation_succeeded":
        return base | {
            "agreement": case.agreement,
            "amount": str(case.amount) if case.amount is not None else None,
            "resolved_at": event.at.isoformat(),
        }
    if kind == "returned_for_trial":
        # 速裁快审: the undisputed facts recorded by the mediator travel with the case.
        return base | {"undisputed_facts": case.outcome, "next_step": event.payload.get("next_step")}
    return base | {"agreement": case.agreement}


@hookimpl
async def zongzhi_case_event(event: CaseEvent, case: Case) -> None:
    await deliver_case_event(PLUGIN, webhooks.CHANNEL, OUTBOUND, event, case, _payload)


@hookimpl
def zongzhi_docking_figures() -> dict[str, DockingFigures]:
    return {"court_docking": figures}


async def figures(scope: Q | None, start: datetime, end: datetime) -> dict[str, int | float | None]:
    """诉调对接 figures for cases referred in [start, end)."""
    cases = Case.filter(channel="court", created_at__gte=start, created_at__lt=end)
    if scope is not None:
        cases = cases.filter(scope)
    referred = await cases.count()
    mediated = await cases.exclude(status__in=["rejected", "withdrawn"]).count()
    resolved = await cases.filter(status__in=["resolved", "closed", "followed_up"], outcome__not="").count()
    failed = await cases.filter(status="failed").count()
    ids = Subquery(cases.values("id"))
    confirmations = await CaseEvent.filter(type="court.confirmed", case_id__in=ids).count()
    followed = await cases.filter(executed__isnull=False).count()
    executed = await cases.filter(executed=True).count()
    return {
        "referred": referred,
        "diversion_rate": round(mediated / referred, 4) if referred else None,
        "mediation_success_rate": round(resolved / (resolved + failed), 4) if resolved + failed else None,
        "confirmations": confirmations,
        "execution_rate": round(executed / followed, 4) if followed else None,
    }
