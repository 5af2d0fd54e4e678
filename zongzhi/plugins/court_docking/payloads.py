"""The court's messages, as JSON Schemas (a malformed one is a 422 naming each field)."""

from __future__ import annotations

from zongzhi.platform.plugin_api import PARTY_SCHEMA

REFERRAL = {
    "type": "object",
    "required": ["case_number", "court", "claim", "referral_date", "parties"],
    "properties": {
        "case_number": {"type": "string", "minLength": 4, "maxLength": 80, "description": "案号"},
        "court": {"type": "string", "minLength": 1, "maxLength": 100},
        "claim": {"type": "string", "minLength": 1, "maxLength": 4000},
        "amount": {"type": ["string", "number"], "pattern": r"^\d+(\.\d{1,2})?$"},
        "referral_date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "category": {"type": "string"},
        "area_code": {"type": "string", "pattern": r"^\d{12}$", "description": "the parties' territory"},
        "parties": {"type": "array", "minItems": 1, "items": PARTY_SCHEMA},
    },
    "additionalProperties": False,
}

CONFIRMATION = {
    "type": "object",
    "required": ["case_number", "result"],
    "properties": {
        "case_number": {"type": "string", "minLength": 4, "maxLength": 80},
        "result": {"enum": ["confirmed", "rejected"]},
        "reason": {"type": "string", "maxLength": 2000},
        "decided_at": {"type": "string"},
    },
    "additionalProperties": False,
    "if": {"properties": {"result": {"const": "rejected"}}},
    "then": {"required": ["reason"]},
}
