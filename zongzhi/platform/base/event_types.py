"""The case event types: the vocabulary shared by services, the timeline and the rule language.

A rule's ``on:`` must name one of these (or one a plugin adds through its hook), so a typo in a
ruleset is caught when it is saved rather than silently never firing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: The core's event types; a platform's vocabulary adds its plugins' (``current().codes.event_types``).
EVENT_TYPES: Mapping[str, str] = MappingProxyType({
    "case.received": "受理登记",
    "case.assessed": "分析研判",
    "case.rejected": "不予受理",
    "case.routed": "属地流转",
    "case.dispatched": "分流转办",
    "case.assigned": "增加承办单位",
    "case.accepted": "接收办理",
    "case.returned": "退回",
    "case.progress": "办理进展",
    "case.supervised": "督办",
    "case.escalated": "上报升级",
    "case.resolved": "调处成功",
    "case.failed": "调处失败",
    "case.closed": "办结归档",
    "case.followed_up": "回访",
    "case.withdrawn": "撤回",
    "case.reopened": "重新办理",
    "case.risk_flagged": "风险标记",
    "case.tagged": "标签",
    "case.deadline_set": "设定期限",
    "case.deadline_warning": "临期预警",
    "case.overdue": "超期",
    "case.notified": "通知",
    "case.whistle": "吹哨报到",
    "case.whistle_answered": "部门报到",
    "case.whistle_unanswered": "吹哨未报到",
    "case.followup_required": "须回访",
    "case.mediator_requested": "点单选调解员",
    "case.mediator_accepted": "调解员接单",
    "case.mediator_declined": "调解员拒单",
    "case.rated": "群众评价",
    "case.updated": "更正案件信息",
    "case.party_added": "增加当事人",
    "case.party_removed": "移除当事人",
    "evidence.added": "证据上传",
    "evidence.withdrawn": "证据撤回",
})


def is_known(event_type: str, extra: set[str] | frozenset[str] = frozenset()) -> bool:
    return event_type in EVENT_TYPES or event_type in extra


def label(event_type: str) -> str:
    """The label of a core or loaded plugin's event type (the type itself when unknown)."""
    from zongzhi.platform.base.current import current

    return current().codes.event_types.get(event_type, event_type)


def plugin_event_types() -> frozenset[str]:
    """The event types the running platform's plugins added (the rule language accepts them too)."""
    from zongzhi.platform.base.current import current

    return frozenset(current().codes.extra_event_types)
