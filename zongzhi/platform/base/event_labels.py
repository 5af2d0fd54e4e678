"""Chinese labels for what a timeline event's payload says: its keys, and the codes among its values.

The payload stays the stable record (English keys, codes); ``details`` adds beside each entry its
label and, for a coded value, the code's label, so a front end shows 原状态：已办结 without a
table of its own.
"""

from __future__ import annotations

from typing import Any

from zongzhi.platform.base import codes

KEY_LABELS = {
    "reason": "理由",
    "note": "备注",
    "from": "原状态",
    "category": "类别",
    "kind": "类型",
    "channel": "渠道",
    "severity": "严重程度",
    "complexity": "复杂程度",
    "risk": "风险等级",
    "level": "等级",
    "mode": "方式",
    "units": "承办单位",
    "outcome": "结果",
    "agreement": "协议",
    "amount": "金额",
    "next_step": "后续途径",
    "satisfaction": "满意度",
    "executed": "执行到位",
    "method": "回访方式",
    "respond_by": "响应期限",
    "resolve_by": "办结期限",
    "cleared_resolve_by": "原办结期限（已清除）",
    "message": "消息",
    "departments": "部门",
    "department_id": "部门",
    "due": "期限",
    "changes": "更正内容",
    "role": "角色",
    "person_id": "当事人",
    "blind": "盲链接",
    "answer": "答复",
    "parties": "当事人",
    "added": "增加",
    "removed": "移除",
    "user": "用户",
    "center_id": "中心",
    "from_center_id": "原中心",
    "to_center_id": "新中心",
    "to_center_code": "新中心代码",
    "assignment_id": "分派",
    "whistle_id": "吹哨",
    "notes": "说明",
    "moved": "已移交",
    "filename": "文件名",
}

NEXT_STEPS = {
    "arbitration": "仲裁",
    "litigation": "诉讼",
    "court_fast_track": "诉前速裁",
    "administrative": "行政处理",
    "other": "其他",
}


def _code_label(event_type: str, key: str, value: Any) -> str | None:
    """The label of ``value`` when it is a code of a known list, else ``None``."""
    if not isinstance(value, str):
        return None
    lists: dict[str, Any] = {
        "category": codes.CATEGORIES,
        "kind": codes.KINDS,
        "channel": codes.CHANNELS,
    }
    if key in lists:
        return lists[key].label(value) if value in lists[key] else None
    enums: dict[str, Any] = {
        "from": codes.Risk if event_type == "case.risk_flagged" else codes.CaseStatus,
        "status": codes.CaseStatus,
        "risk": codes.Risk,
        "mode": codes.AssignmentMode,
        "role": codes.PartyRole,
        "method": codes.FollowUpMethod,
        "unit_kind": codes.UnitKind,
        "level": codes.Risk if event_type == "case.risk_flagged" else codes.CenterLevel,
    }
    if key in enums:
        try:
            return enums[key](value).label
        except ValueError:
            return None
    if key == "next_step":
        return NEXT_STEPS.get(value)
    return None


def details(event_type: str, payload: dict) -> list[tuple[str, str, Any, str | None]]:
    """``(key, key label, value, value label)`` for each payload entry, in the payload's order."""
    return [
        (key, KEY_LABELS.get(key, key), value, _code_label(event_type, key, value))
        for key, value in payload.items()
    ]
