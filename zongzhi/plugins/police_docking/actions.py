"""Rule actions of 警调对接: routing to the township, joint handling with the station, alerting it.

Each handler changes the case only through the services, like the built-in actions.
"""

from __future__ import annotations

from typing import Any

from zongzhi.platform.base.codes import AssignmentMode, CaseStatus, CenterLevel
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.models import Assignment, Case, Center, Department, Grid, PartnerRecord
from zongzhi.platform.rules import ActionSpec
from zongzhi.platform.rules.builtin_actions import ActionContext
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.org import ancestor_at

PLUGIN = "police_docking"

_REASON = {"type": "string", "minLength": 1, "maxLength": 500}


async def _record(case_id: int) -> PartnerRecord:
    record = await PartnerRecord.get_or_none(case_id=case_id, plugin=PLUGIN)
    if record is None:
        raise ValidationFailed("the case did not come from a police station", field="caseId")
    return record


async def route_to_township(ctx: ActionContext, params: dict[str, Any]) -> dict:
    """The township center at or above where the incident happened (its grid's, else the case's center).

    A case taken in at a county or higher center (a county-wide area code) stays where it is.
    """
    case = await Case.get(id=ctx.case.id)
    place = await Center.get(id=case.center_id)
    if case.grid_id is not None:
        place = await Center.get(id=(await Grid.get(id=case.grid_id)).center_id)
    target = await ancestor_at(place, CenterLevel.township)
    if target is None or target.id == case.center_id:
        return {"center": (target or place).code, "moved": False}
    await svc.route(ctx.actor, case.id, target.id, reason=params.get("reason", "警情属地流转"))
    return {"center": target.code, "moved": True}


async def joint_handling(ctx: ActionContext, params: dict[str, Any]) -> dict:
    """联办: the owning center leads and the incident's police station joins."""
    record = await _record(ctx.case.id)
    code = record.data["police_station"]["code"]
    station = await Department.get_or_none(code=code)
    if station is None:
        raise ValidationFailed(f"no department {code!r}", field="police_station.code")
    case = await Case.get(id=ctx.case.id)
    if case.status in (CaseStatus.received, CaseStatus.assessed):
        await svc.dispatch(
            ctx.actor,
            case.id,
            AssignmentMode.joint,
            [svc.UnitInput(center_id=case.center_id, lead=True), svc.UnitInput(department_id=station.id)],
            note=params.get("reason", "警调联办"),
        )
        return {"lead_center_id": case.center_id, "department": code, "dispatched": True}
    already = await Assignment.exists(
        case_id=case.id, department_id=station.id, returned_at=None, finished_at=None
    )
    if case.status in (CaseStatus.dispatched, CaseStatus.handling) and not already:
        await svc.add_assignment(
            ctx.actor, case.id, AssignmentMode.joint, svc.UnitInput(department_id=station.id)
        )
        return {"department": code, "dispatched": False, "added": True}
    return {"department": code, "dispatched": False, "added": False}


async def notify_station(ctx: ActionContext, params: dict[str, Any]) -> dict:
    """Tell the station: a ``police.station_notified`` event, which the plugin sends as ``risk_alert``."""
    record = await _record(ctx.case.id)
    message = params.get("message") or "警情存在民转刑风险，请派出所关注"
    await svc.note_event(
        ctx.actor,
        ctx.case.id,
        "police.station_notified",
        {"station": record.data["police_station"]["code"], "message": message},
    )
    return {"station": record.data["police_station"]["code"]}


def action_specs() -> list[ActionSpec]:
    return [
        ActionSpec(
            "route_to_township",
            "流转到镇街",
            {"type": "object", "properties": {"reason": _REASON}, "additionalProperties": False},
            handler=route_to_township,
            plugin=PLUGIN,
        ),
        ActionSpec(
            "police_joint_handling",
            "警调联办",
            {"type": "object", "properties": {"reason": _REASON}, "additionalProperties": False},
            handler=joint_handling,
            plugin=PLUGIN,
        ),
        ActionSpec(
            "notify_station",
            "通知派出所",
            {"type": "object", "properties": {"message": _REASON}, "additionalProperties": False},
            handler=notify_station,
            plugin=PLUGIN,
        ),
    ]
