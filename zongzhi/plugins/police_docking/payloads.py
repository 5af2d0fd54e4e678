"""The police station's message, as a JSON Schema (a malformed one is a 422 naming each field)."""

from __future__ import annotations

from zongzhi.platform.plugin_api import PARTY_SCHEMA

#: 警情类型 the plugin takes, and the case category each becomes.
INCIDENT_TYPES: dict[str, str] = {
    "family": "marriage_family",
    "neighbor": "neighbor",
    "economic": "contract",
    "labor": "labor",
    "property": "property_management",
    "land": "land_forest",
    "traffic": "traffic",
    "consumer": "consumer",
    "damages": "damages",
    "other": "other",
}

LOCATION = {
    "type": "object",
    "properties": {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lng": {"type": "number", "minimum": -180, "maximum": 180},
        "address": {"type": "string", "maxLength": 255},
        "grid_code": {"type": "string", "minLength": 1, "maxLength": 40},
        "area_code": {"type": "string", "pattern": r"^\d{12}$"},
    },
    "additionalProperties": False,
    "allOf": [
        {"if": {"required": ["lat"]}, "then": {"required": ["lng"]}},
        {"if": {"required": ["lng"]}, "then": {"required": ["lat"]}},
    ],
    "anyOf": [
        {"required": ["lat"]},
        {"required": ["address"]},
        {"required": ["grid_code"]},
        {"required": ["area_code"]},
    ],
}

INCIDENT = {
    "type": "object",
    "required": ["incident_number", "reported_at", "location", "incident_type", "persons", "police_station"],
    "properties": {
        "incident_number": {"type": "string", "minLength": 4, "maxLength": 80, "description": "警情编号"},
        "reported_at": {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$",
            "description": "接警时间, ISO 8601 with offset",
        },
        "location": LOCATION,
        "incident_type": {"enum": list(INCIDENT_TYPES)},
        "violence": {"type": "boolean", "description": "the officer saw violence or a threat of it"},
        "persons": {"type": "array", "minItems": 1, "items": PARTY_SCHEMA},
        "officer_note": {"type": "string", "maxLength": 4000, "description": "民警处置意见"},
        "police_station": {
            "type": "object",
            "required": ["code", "name"],
            "properties": {
                "code": {"type": "string", "minLength": 1, "maxLength": 40, "description": "department code"},
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
