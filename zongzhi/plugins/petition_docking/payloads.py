"""The petition office's message, as a JSON Schema (a malformed one is a 422 naming each field)."""

from __future__ import annotations

from zongzhi.platform.plugin_api import PERSON_SCHEMA

#: 信访事项类型; only ``claim`` (申诉求决类) is taken for mediation.
ITEM_TYPES: dict[str, str] = {
    "claim": "申诉求决类",
    "suggestion": "意见建议类",
    "accusation": "检举控告类",
    "other": "其他类",
}

ITEM = {
    "type": "object",
    "required": ["item_number", "item_type", "petitioner", "matter", "office", "received_date"],
    "properties": {
        "item_number": {"type": "string", "minLength": 4, "maxLength": 80, "description": "信访件编号"},
        "item_type": {"enum": list(ITEM_TYPES)},
        "petitioner": PERSON_SCHEMA,
        "respondent": {**PERSON_SCHEMA, "description": "the other side of the dispute, if any"},
        "matter": {"type": "string", "minLength": 1, "maxLength": 4000, "description": "信访事项"},
        "category": {"type": "string", "description": "a case category code; other if absent"},
        "address": {"type": "string", "maxLength": 255},
        "office": {
            "type": "object",
            "required": ["name", "area_code"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                "area_code": {
                    "type": "string",
                    "pattern": r"^\d{12}$",
                    "description": "the office's jurisdiction (统计用区划代码)",
                },
            },
            "additionalProperties": False,
        },
        "received_date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "登记日期"},
    },
    "additionalProperties": False,
}
