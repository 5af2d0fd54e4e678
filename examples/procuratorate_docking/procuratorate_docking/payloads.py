"""The procuratorate's referral, as a JSON Schema (a malformed one is a 422 naming each field)."""

from __future__ import annotations

from typing import Any

from zongzhi.platform.plugin_api import PARTY_SCHEMA

#: The kinds of matter a procuratorate refers, with their Chinese labels.
MATTERS = {
    "criminal_reconciliation": "刑事和解",
    "public_interest": "公益诉讼线索",
}

#: The category a referral gets when it does not name one.
DEFAULT_CATEGORY = {"criminal_reconciliation": "damages", "public_interest": "environment"}


REFERRAL: dict[str, Any] = {
    "type": "object",
    "required": ["referral_id", "procuratorate", "matter", "summary", "referral_date", "parties"],
    "properties": {
        "referral_id": {
            "type": "string",
            "minLength": 4,
            "maxLength": 80,
            "description": "the procuratorate's own number for the referral; resending it is idempotent",
        },
        "procuratorate": {"type": "string", "minLength": 1, "maxLength": 100},
        "matter": {"enum": list(MATTERS)},
        "criminal_case_number": {"type": "string", "maxLength": 80, "description": "刑事案号"},
        "summary": {"type": "string", "minLength": 1, "maxLength": 4000},
        "referral_date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "category": {"type": "string"},
        "area_code": {"type": "string", "pattern": r"^\d{12}$", "description": "the parties' territory"},
        "parties": {"type": "array", "minItems": 1, "items": PARTY_SCHEMA},
    },
    "additionalProperties": False,
    "if": {"properties": {"matter": {"const": "criminal_reconciliation"}}},
    "then": {"required": ["criminal_case_number"]},
}
