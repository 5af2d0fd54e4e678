"""The action registry: which names a rule's ``then:`` may use and what parameters each takes.

The registry maps a name to a spec only. Executing actions (calling services) is a later layer's job,
through :attr:`ActionSpec.handler`, an optional async callable that this package never calls.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema

Handler = Callable[..., Awaitable[Any]]

_POSITIVE = {"type": "integer", "minimum": 0, "maximum": 100000}  # 0 working days: the same day
SPAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "oneOf": [
        {"required": ["working_days"]},
        {"required": ["hours"]},
        {"required": ["days"]},
    ],
    "properties": {"working_days": _POSITIVE, "hours": _POSITIVE, "days": _POSITIVE},
    "additionalProperties": False,
}
_CODE = {"type": "string", "minLength": 1, "maxLength": 64}
_REASON = {"type": "string", "minLength": 1, "maxLength": 500}


def _object(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


@dataclass
class ActionSpec:
    name: str
    label: str
    params_schema: dict[str, Any]
    handler: Handler | None = None
    plugin: str | None = None

    def __post_init__(self) -> None:
        jsonschema.Draft202012Validator.check_schema(self.params_schema)
        self._validator = jsonschema.Draft202012Validator(self.params_schema)

    def param_errors(self, params: Any) -> list[tuple[tuple[str | int, ...], str]]:
        """(path inside params, message) for each problem; empty when the params are valid."""
        return [
            (tuple(error.absolute_path), error.message)
            for error in sorted(self._validator.iter_errors(params), key=lambda e: list(e.absolute_path))
        ]


class ActionRegistry:
    def __init__(self, specs: list[ActionSpec] | None = None):
        self._specs: dict[str, ActionSpec] = {}
        self._lock = threading.Lock()
        for spec in specs or []:
            self.register(spec)

    def register(self, spec: ActionSpec, *, replace: bool = False) -> None:
        with self._lock:
            if spec.name in self._specs and not replace:
                raise ValueError(f"action {spec.name!r} is already registered")
            self._specs[spec.name] = spec

    def get(self, name: str) -> ActionSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs


ROUTE_TARGETS = ("village_of_grid", "township_of_grid", "county_of_grid", "parent")
ASSIGN_MODES = ("self", "transfer", "joint", "supervise")


def builtin_actions() -> list[ActionSpec]:
    assign_common = {
        "mode": {"enum": list(ASSIGN_MODES)},
        "lead": {"type": "boolean"},
        "due": SPAN_SCHEMA,
    }
    return [
        ActionSpec(
            "route",
            "属地流转",
            _object({"to": {"anyOf": [{"enum": list(ROUTE_TARGETS)}, _CODE]}}, ("to",)),
        ),
        ActionSpec(
            "assign",
            "分流转办",
            {
                "oneOf": [
                    _object({"department": _CODE, **assign_common}, ("department",)),
                    _object({"mediator_specialty": _CODE, **assign_common}, ("mediator_specialty",)),
                ]
            },
        ),
        ActionSpec(
            "deadline",
            "设定期限",
            _object({"respond_in": SPAN_SCHEMA, "resolve_in": SPAN_SCHEMA}, minProperties=1),
        ),
        ActionSpec("escalate", "上报升级", _object({"to": {"const": "parent"}, "reason": _REASON})),
        ActionSpec(
            "supervise",
            "督办",
            _object({"level": {"enum": ["township", "county", "city"]}, "reason": _REASON}, ("level",)),
        ),
        ActionSpec(
            "flag_risk",
            "风险标记",
            _object({"level": {"enum": ["low", "medium", "high"]}, "reason": _REASON}, ("level", "reason")),
        ),
        ActionSpec(
            "notify",
            "通知",
            {
                "oneOf": [
                    _object({"role": _CODE, "message": _REASON}, ("role",)),
                    _object({"user": _CODE, "message": _REASON}, ("user",)),
                ]
            },
        ),
        ActionSpec(
            "whistle",
            "吹哨报到",
            _object(
                {"departments": {"type": "array", "items": _CODE, "minItems": 1}, "respond_in": SPAN_SCHEMA},
                ("departments", "respond_in"),
            ),
        ),
        ActionSpec(
            "tag",
            "标签",
            _object({"add": {"type": "array", "items": _CODE, "minItems": 1}}, ("add",)),
        ),
        ActionSpec("reject", "不予受理", _object({"reason": _REASON}, ("reason",))),
        ActionSpec(
            "require_followup",
            "须回访",
            _object({"within": SPAN_SCHEMA, "method": {"enum": ["visit", "call"]}}, ("within",)),
        ),
    ]


@cache
def _builtin_specs() -> tuple[ActionSpec, ...]:
    """Built and checked once (checking a parameter schema against the metaschema is the slow part)."""
    return tuple(builtin_actions())


def builtin_registry() -> ActionRegistry:
    """A new registry of the built-in actions (no handlers): the rule language without a platform.

    A platform builds its own (``Platform.actions``) from this, with the handlers and its plugins'
    actions; each registry has its own copies of the specs, so handlers attached to one stay there.
    """
    return ActionRegistry([copy.copy(spec) for spec in _builtin_specs()])
