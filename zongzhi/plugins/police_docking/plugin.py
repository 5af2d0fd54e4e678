"""The police_docking plugin's hook implementations."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from starlette.routing import BaseRoute
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from zongzhi.platform.plugin_api import (
    ActionSpec,
    Case,
    CaseEvent,
    CodeContribution,
    DockingFigures,
    FactFieldSpec,
    PartnerRecord,
    deliver_case_event,
    hookimpl,
)
from zongzhi.plugins.police_docking import actions, schema, webhooks

PLUGIN = "police_docking"

#: Case events that go back to the police station, and what they are called there.
OUTBOUND = {
    "police.station_notified": "risk_alert",
    "case.resolved": "mediation_succeeded",
    "case.failed": "mediation_failed",
    "case.rejected": "not_accepted",
}

RESOLVED = ["resolved", "closed", "followed_up"]


@hookimpl
def zongzhi_codes() -> CodeContribution:
    return {
        "channels": {webhooks.CHANNEL: "警调对接"},
        "event_types": {"police.station_notified": "通知派出所"},
    }


@hookimpl
def zongzhi_rule_actions() -> list[ActionSpec]:
    return actions.action_specs()


@hookimpl
def zongzhi_fact_fields() -> dict[str, FactFieldSpec]:
    received = "`case.received` of an incident: "
    return {
        "payload.incident_number": {"type": "string", "description": received + "警情编号"},
        "payload.police_station": {"type": "string", "description": received + "the station's code"},
        "payload.violence": {"type": "boolean", "description": received + "signs of violence"},
        "payload.address_calls_30d": {
            "type": "number",
            "description": received + "earlier calls from the same address in 30 days",
        },
        "payload.located_by": {"type": "string", "description": received + "how its place was found"},
    }


@hookimpl
def zongzhi_rulesets() -> list[tuple[str, str]]:
    source = (
        resources.files("zongzhi.plugins.police_docking").joinpath("rules.yaml").read_text(encoding="utf-8")
    )
    return [("police_docking", source)]


@hookimpl
def zongzhi_routes() -> list[BaseRoute]:
    return webhooks.routes


@hookimpl
def zongzhi_graphql_queries() -> list[type]:
    return [schema.PoliceQuery]


def _payload(kind: str, event: CaseEvent, case: Case, record: PartnerRecord) -> dict:
    base = {
        "incident_number": record.data["incident_number"],
        "police_station": record.data["police_station"]["code"],
        "zongzhi_number": case.number,
    }
    if kind == "risk_alert":
        return base | {"risk": str(case.risk), "message": event.payload.get("message", "")}
    if kind == "mediation_succeeded":
        return base | {
            "outcome": case.outcome,
            "agreement": case.agreement,
            "resolved_at": event.at.isoformat(),
        }
    if kind == "mediation_failed":
        return base | {"outcome": case.outcome, "next_step": event.payload.get("next_step")}
    return base | {"reason": case.reject_reason}


@hookimpl
async def zongzhi_case_event(event: CaseEvent, case: Case) -> None:
    await deliver_case_event(PLUGIN, webhooks.CHANNEL, OUTBOUND, event, case, _payload)


async def resolved_count(cases: QuerySet[Case]) -> int:
    """Cases now concluded whose last conclusion was an agreement (a closed case may have failed)."""
    concluded = Subquery(cases.filter(status__in=RESOLVED).values("id"))
    last: dict[int, str] = {}
    for case_id, kind in (
        await CaseEvent.filter(case_id__in=concluded, type__in=["case.resolved", "case.failed"])
        .order_by("id")
        .values_list("case_id", "type")
    ):
        last[case_id] = kind
    return sum(1 for kind in last.values() if kind == "case.resolved")


@hookimpl
def zongzhi_docking_figures() -> dict[str, DockingFigures]:
    return {"police_docking": figures}


async def figures(scope: Q | None, start: datetime, end: datetime) -> dict[str, int | float | None]:
    """警调对接 figures for incidents received in [start, end).

    ``pushed_to_centers``: incidents a center took on (dispatched to a handler, by the joint-handling
    rule or by the center's staff); ``resolved``: mediated to agreement; ``resolution_rate``:
    resolved / pushed.
    """
    cases = Case.filter(channel=webhooks.CHANNEL, created_at__gte=start, created_at__lt=end)
    if scope is not None:
        cases = cases.filter(scope)
    received = await cases.count()
    ids = Subquery(cases.values("id"))
    pushed = (
        await CaseEvent.filter(type="case.dispatched", case_id__in=ids)
        .distinct()
        .values_list("case_id", flat=True)
    )
    resolved = await resolved_count(cases)
    pushed_count = len(set(pushed))
    return {
        "incidents_received": received,
        "pushed_to_centers": pushed_count,
        "resolved": resolved,
        "resolution_rate": round(resolved / pushed_count, 4) if pushed_count else None,
    }
