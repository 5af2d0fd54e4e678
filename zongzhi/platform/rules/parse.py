"""Parse and validate a ruleset: YAML (or already-loaded data) in, :class:`~.model.Ruleset` out.

Checks run in three layers, and every problem found is reported at once as a :class:`RuleError`
naming the rule, the field inside it and the YAML line: the published JSON Schema (document shape),
hand-written checks of conditions (so that a typo reads ``unknown operator 'contians'`` rather than a
JSON Schema ``oneOf`` failure), and semantic checks (known event types and actions, action
parameters, unique rule ids, regexes that compile). Nothing in a ruleset is ever executed.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema

from zongzhi.platform.base.event_types import is_known

from .actions import ActionRegistry, builtin_registry
from .errors import RuleError, RulesetInvalid
from .loader import Path, line_of, load_yaml
from .model import OPERATORS, Action, All, AnyOf, Compare, Condition, Not, Rule, Ruleset
from .schema import _schema
from .values import NUMBER_LIMIT

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NUMBER_OPS = {"gt", "gte", "lt", "lte"}
_LIST_OPS = {"in", "not_in"}
_SCALAR_OPS = {"eq", "ne", "contains"}
_MAX_REGEX = 500


def format_path(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


_KINDS = {"string": (str,), "number": (int, float), "boolean": (bool,)}
_KIND_WORDS = {"string": "a string", "number": "a number", "boolean": "true or false"}


def _kind_ok(kind: str, value: Any) -> bool:
    if kind == "number" and isinstance(value, bool):
        return False
    return isinstance(value, _KINDS[kind])


class _Checker:
    def __init__(
        self,
        data: Any,
        lines: dict[Path, int],
        registry: ActionRegistry,
        extra: frozenset[str],
        fields: Mapping[str, Any] | None = None,
    ):
        self.data = data
        self.lines = lines
        self.registry = registry
        self.extra = extra
        self.fields = fields
        self.errors: list[RuleError] = []

    def field_type(self, path: Path, field: str) -> Any | None:
        """The declared field at ``field`` (``None`` and an error if the fact has no such path)."""
        assert self.fields is not None
        if field in self.fields:
            return self.fields[field]
        parts = field.split(".")
        for i in range(len(parts) - 1, 0, -1):
            parent = self.fields.get(".".join(parts[:i]))
            if parent is not None and parent.type == "any":
                return parent
        self.error(path, f"unknown fact path '{field}'" + _suggest(field, self.fields))
        return None

    def typed(self, path: Path, field: str, op: str, operand: Any) -> bool:
        """Is ``op`` with ``operand`` meaningful for the declared type of ``field``? (errors if not)"""
        if self.fields is None:
            return True
        spec = self.field_type(path, field)
        if spec is None:
            return False
        kind = spec.type
        if op == "exists" or kind == "any":
            return True
        problem = None
        if op in _NUMBER_OPS and kind != "number":
            problem = f"'{op}' compares numbers, and '{field}' is {kind}"
        elif op == "regex" and kind != "string":
            problem = f"'regex' matches strings, and '{field}' is {kind}"
        elif op == "contains":
            if kind not in ("list", "string"):
                problem = f"'contains' looks into a list or a string, and '{field}' is {kind}"
            elif not isinstance(operand, str):
                problem = f"'{field}' holds strings: 'contains' needs a string"
        elif op in _SCALAR_OPS or op in _LIST_OPS:
            if kind in ("list", "object"):
                hint = "; use {contains: value}" if kind == "list" else ""
                problem = f"'{field}' is a {kind}: it equals nothing{hint}"
            else:
                values = operand if isinstance(operand, tuple) else (operand,)
                wrong = [v for v in values if not _kind_ok(kind, v)]
                if wrong:
                    problem = f"'{field}' is {kind}: {wrong[0]!r} is not {_KIND_WORDS[kind]}"
                elif spec.values:
                    unknown = [v for v in values if v not in spec.values]
                    if unknown:
                        problem = f"{unknown[0]!r} is not a value of '{field}'" + _suggest(
                            str(unknown[0]), spec.values
                        )
        if problem:
            self.error(path, problem)
        return problem is None

    def rule_id(self, index: int) -> str:
        rules = self.data.get("rules") if isinstance(self.data, dict) else None
        if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
            rule_id = rules[index].get("id")
            if isinstance(rule_id, str) and rule_id:
                return rule_id
        return f"#{index + 1}"

    def error(self, path: Path, message: str) -> None:
        line = line_of(self.lines, path)
        if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
            self.errors.append(RuleError(self.rule_id(path[1]), format_path(path[2:]), message, line))
        else:
            self.errors.append(RuleError(None, format_path(path), message, line))

    def schema_errors(self) -> None:
        validator = jsonschema.Draft202012Validator(_schema())
        for err in validator.iter_errors(self.data):
            path: Path = tuple(err.absolute_path)
            if _handled_by_hand(path, err):
                continue
            if err.validator == "additionalProperties" and isinstance(err.instance, dict):
                allowed = set(err.schema.get("properties", {}))
                for key in err.instance:
                    if key not in allowed:
                        self.error((*path, str(key)), f"unknown field '{key}'" + _suggest(str(key), allowed))
            elif err.validator == "required":
                self.error(path, err.message.replace("is a required property", "is required"))
            else:
                self.error(path, err.message)

    def condition(self, path: Path, node: Any) -> Condition | None:
        if not isinstance(node, dict) or not node:
            self.error(
                path,
                "a condition must be a mapping like {field: value}, {all: [...]}, {any: [...]} "
                "or {not: {...}}",
            )
            return None
        parts: list[Condition | None] = []
        for key, value in node.items():
            child = (*path, str(key))
            if key in ("all", "any"):
                if not isinstance(value, list) or not value:
                    self.error(child, f"'{key}' needs a non-empty list of conditions")
                    parts.append(None)
                    continue
                items = [self.condition((*child, i), item) for i, item in enumerate(value)]
                if any(item is None for item in items):
                    parts.append(None)
                    continue
                parts.append(All(tuple(items)) if key == "all" else AnyOf(tuple(items)))  # type: ignore[arg-type]
            elif key == "not":
                inner = self.condition(child, value)
                parts.append(Not(inner) if inner is not None else None)
            else:
                parts.append(self.field_condition(child, key, value))
        if any(part is None for part in parts):
            return None
        return parts[0] if len(parts) == 1 else All(tuple(parts))  # type: ignore[arg-type]

    def field_condition(self, path: Path, field: Any, value: Any) -> Condition | None:
        if not isinstance(field, str) or not _PATH.match(field):
            self.error(path, f"'{field}' is not a field path (letters, digits and _, dotted: party.age)")
            return None
        if isinstance(value, dict):
            if not value:
                self.error(path, "an empty operator mapping; write {eq: value} or another operator")
                return None
            compares: list[Condition] = []
            ok = True
            for op, operand in value.items():
                compare = self.operator((*path, str(op)), field, op, operand)
                ok = ok and compare is not None
                if compare is not None:
                    compares.append(compare)
            if not ok:
                return None
            return compares[0] if len(compares) == 1 else All(tuple(compares))
        if isinstance(value, list):
            self.error(path, "a list is not a value to compare with; use {in: [...]}")
            return None
        if value is None:
            self.error(path, "no value given; use {exists: false} to test that a field is missing")
            return None
        if not self.scalar(path, value) or not self.typed(path, field, "eq", value):
            return None
        return Compare(field, "eq", value)

    def scalar(self, path: Path, value: Any, *, numbers_only: bool = False) -> bool:
        if isinstance(value, bool):
            if numbers_only:
                self.error(path, "needs a number")
                return False
            return True
        if isinstance(value, int | float):
            if (isinstance(value, float) and not math.isfinite(value)) or abs(value) >= NUMBER_LIMIT:
                self.error(path, f"numbers must be finite and smaller than {NUMBER_LIMIT:.0e} in magnitude")
                return False
            return True
        if isinstance(value, str) and not numbers_only:
            return True
        self.error(path, "needs a number" if numbers_only else "needs a string, number or true/false")
        return False

    def operator(self, path: Path, field: str, op: Any, operand: Any) -> Compare | None:
        if op not in OPERATORS:
            self.error(path, f"unknown operator '{op}'" + _suggest(str(op), OPERATORS))
            return None
        if op in _NUMBER_OPS:
            ok = self.scalar(path, operand, numbers_only=True)
        elif op in _LIST_OPS:
            if not isinstance(operand, list) or not operand:
                self.error(path, f"'{op}' needs a non-empty list of values")
                return None
            ok = all([self.scalar((*path, i), item) for i, item in enumerate(operand)])
            operand = tuple(operand)
        elif op in _SCALAR_OPS:
            ok = operand is not None and not isinstance(operand, list | dict) and self.scalar(path, operand)
            if not ok and (operand is None or isinstance(operand, list | dict)):
                self.error(path, f"'{op}' needs a string, number or true/false")
        elif op == "exists":
            ok = isinstance(operand, bool)
            if not ok:
                self.error(path, "'exists' needs true or false")
        else:
            ok = self.regex(path, operand)
        ok = ok and self.typed(path, field, op, operand)
        return Compare(field, op, operand) if ok else None

    def regex(self, path: Path, operand: Any) -> bool:
        if not isinstance(operand, str) or not operand:
            self.error(path, "'regex' needs a non-empty string")
            return False
        if len(operand) > _MAX_REGEX:
            self.error(path, f"regex longer than {_MAX_REGEX} characters")
            return False
        try:
            re.compile(operand)
        except re.error as exc:
            self.error(path, f"invalid regex: {exc}")
            return False
        return True

    def actions(self, path: Path, items: Any) -> tuple[Action, ...] | None:
        if not isinstance(items, list):
            return None
        result: list[Action] = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or len(item) != 1:
                continue
            ((name, params),) = item.items()
            item_path = (*path, i, str(name))
            spec = self.registry.get(name) if isinstance(name, str) else None
            if spec is None:
                self.error(item_path, f"unknown action '{name}'" + _suggest(str(name), self.registry.names()))
                continue
            params = {} if params is None else params
            problems = spec.param_errors(params)
            for sub, message in problems:
                self.error((*item_path, *sub), f"{name}: {message}")
            if not problems:
                result.append(Action(name, params))
        return tuple(result) if len(result) == len(items) else None

    def rules(self) -> list[Rule]:
        rules = self.data.get("rules")
        if not isinstance(rules, list):
            return []
        built: list[Rule] = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(rules):
            if not isinstance(raw, dict):
                continue
            path: Path = ("rules", index)
            rule_id = raw.get("id")
            if isinstance(rule_id, str):
                if rule_id in seen:
                    self.error((*path, "id"), f"duplicate rule id (first used by rule #{seen[rule_id] + 1})")
                seen.setdefault(rule_id, index)
            on = raw.get("on")
            events = (on,) if isinstance(on, str) else tuple(on) if isinstance(on, list) else ()
            for i, event in enumerate(events):
                if isinstance(event, str) and not is_known(event, self.extra):
                    where = (*path, "on") if isinstance(on, str) else (*path, "on", i)
                    self.error(where, f"unknown event type '{event}'" + _suggest(event, _known(self.extra)))
            when = self.condition((*path, "when"), raw["when"]) if "when" in raw else None
            then = self.actions((*path, "then"), raw.get("then"))
            priority = raw.get("priority", 0)
            if (
                isinstance(rule_id, str)
                and events
                and then is not None
                and ("when" not in raw or when is not None)
                and isinstance(priority, int)
            ):
                built.append(Rule(rule_id, priority, events, when, then, index, raw.get("description")))
        return built


def _known(extra: frozenset[str]) -> list[str]:
    from zongzhi.platform.base.event_types import EVENT_TYPES

    return [*EVENT_TYPES, *extra]


def _handled_by_hand(path: Path, err: jsonschema.ValidationError) -> bool:
    """Schema errors inside conditions and action parameters get better messages from the hand checks."""
    if len(path) >= 3 and path[0] == "rules" and path[2] == "when":
        return True
    return len(path) >= 5 and path[0] == "rules" and path[2] == "then"


def parse_ruleset(
    source: str | dict[str, Any],
    *,
    extra_event_types: Iterable[str] = (),
    registry: ActionRegistry | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Ruleset:
    """Parse YAML text (or an already-loaded mapping) into a validated :class:`Ruleset`.

    With ``fields`` (path → declared field with ``type`` and ``values``, see ``facts.fact_fields``)
    every path a condition reads must be declared, and operators and values must fit its type.
    Raises :class:`RulesetInvalid` listing every error found.
    """
    if isinstance(source, str):
        data, lines = load_yaml(source)
    else:
        data, lines = source, {}
    checker = _Checker(data, lines, registry or builtin_registry(), frozenset(extra_event_types), fields)
    if not isinstance(data, dict):
        message = "a ruleset must be a mapping with 'ruleset' and 'rules'"
        raise RulesetInvalid([RuleError(None, "", message, 1)])
    checker.schema_errors()
    rules = checker.rules()
    if checker.errors:
        raise RulesetInvalid(checker.errors)
    return Ruleset(str(data["ruleset"]), tuple(rules), data.get("description"), data)
