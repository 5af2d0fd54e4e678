"""The petition_docking plugin's hook implementations."""

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
from zongzhi.plugins.petition_docking import schema, webhooks
from zongzhi.plugins.petition_docking.payloads import ITEM_TYPES

PLUGIN = "petition_docking"

#: Case events that go back to the petition office, and what they are called there.
OUTBOUND = {
    "case.accepted": "accepted",
    "case.rejected": "refused",
    "petition.deadline_extended": "extended",
    "case.resolved": "result",
    "case.failed": "result",
    "case.followed_up": "satisfaction",
}

CONCLUDED = ["resolved", "failed", "closed", "followed_up"]


@hookimpl
def zongzhi_codes() -> CodeContribution:
    return {
        "channels": {webhooks.CHANNEL: "访调对接"},
        "event_types": {"petition.deadline_extended": "信访事项延期办理"},
    }


@hookimpl
def zongzhi_fact_fields() -> dict[str, FactFieldSpec]:
    return {
        "payload.item_number": {"type": "string", "description": "`case.received` of an item: 信访件编号"},
        "payload.item_type": {
            "type": "string",
            "description": "`case.received` of an item: its type",
            "values": list(ITEM_TYPES),
        },
        "payload.office": {"type": "string", "description": "`case.received` of an item: 信访部门"},
    }


@hookimpl
def zongzhi_rulesets() -> list[tuple[str, str]]:
    source = (
        resources.files("zongzhi.plugins.petition_docking").joinpath("rules.yaml").read_text(encoding="utf-8")
    )
    return [("petition_docking", source)]


@hookimpl
def zongzhi_routes() -> list[BaseRoute]:
    return webhooks.routes


@hookimpl
def zongzhi_graphql_queries() -> list[type]:
    return [schema.PetitionQuery]


@hookimpl
def zongzhi_graphql_mutations() -> list[type]:
    return [schema.PetitionMutation]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _payload(kind: str, event: CaseEvent, case: Case, record: PartnerRecord) -> dict:
    base = {"item_number": record.data["item_number"], "zongzhi_number": case.number}
    if kind == "accepted":
        return base | {"accepted_at": event.at.isoformat(), "handle_by": _iso(case.resolve_by)}
    if kind == "refused":
        return base | {"reason": event.payload.get("reason", case.reject_reason)}
    if kind == "extended":
        return base | {"reason": event.payload["reason"], "handle_by": event.payload["to"]}
    if kind == "result":
        if event.type == "case.resolved":
            return base | {"result": "mediated", "outcome": case.outcome, "agreement": case.agreement}
        return base | {
            "result": "not_mediated",
            "outcome": case.outcome,
            "next_step": event.payload.get("next_step"),
        }
    return base | {
        "satisfaction": event.payload["satisfaction"],
        "executed": event.payload["executed"],
        "method": event.payload.get("method"),
    }


@hookimpl
async def zongzhi_case_event(event: CaseEvent, case: Case) -> None:
    await deliver_case_event(PLUGIN, webhooks.CHANNEL, OUTBOUND, event, case, _payload)


@hookimpl
def zongzhi_docking_figures() -> dict[str, DockingFigures]:
    return {"petition_docking": figures}


async def figures(scope: Q | None, start: datetime, end: datetime) -> dict[str, int | float | None]:
    """访调对接 figures for items transferred in [start, end).

    ``items_transferred``: every item an office sent; ``taken_for_mediation``: those not refused or
    withdrawn; ``mediated``: those whose mediation has concluded (resolved or failed, then possibly
    closed and followed up); ``mediation_success_rate``: resolved / mediated, by each case's last
    conclusion; ``average_satisfaction``: the petitioners' mean 1–5 rating at follow-up.
    """
    cases = Case.filter(channel=webhooks.CHANNEL, created_at__gte=start, created_at__lt=end)
    if scope is not None:
        cases = cases.filter(scope)
    transferred = await cases.count()
    taken = await cases.exclude(status__in=["rejected", "withdrawn"]).count()
    last: dict[int, str] = {}
    for case_id, kind in (
        await CaseEvent.filter(
            case_id__in=Subquery(cases.filter(status__in=CONCLUDED).values("id")),
            type__in=["case.resolved", "case.failed"],
        )
        .order_by("id")
        .values_list("case_id", "type")
    ):
        last[case_id] = kind
    mediated = len(last)
    resolved = sum(1 for kind in last.values() if kind == "case.resolved")
    ratings = await cases.filter(satisfaction__isnull=False).values_list("satisfaction", flat=True)
    return {
        "items_transferred": transferred,
        "taken_for_mediation": taken,
        "mediated": mediated,
        "mediation_success_rate": round(resolved / mediated, 4) if mediated else None,
        "average_satisfaction": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }
