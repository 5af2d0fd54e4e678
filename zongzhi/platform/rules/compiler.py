"""Compile a parsed ruleset to a durable_rules JSON ruleset plus a fact-shaping plan.

durable_rules can compare a property with a constant (``$eq $neq $lt $lte $gt $gte``), test presence
(``$ex $nex``), test list items (``$iany $iall``) and combine with ``$and``/``$or``; it has no
expression-level ``not``, and measured on 2.0.28 its semantics differ from ours in ways that matter:
numbers compare loosely with strings (``"5" > 3`` holds), list items compare loosely (``["1"]``
contains ``1``), ``$neq`` never matches a missing property, ``$iall`` on ``[]`` is false, ``$mt`` is a
full match in its own regex dialect, string ordering is not code-point order, numbers written with
an exponent (``1e+20``) are rejected, and a message holds at most ~255 properties.

So before a fact is asserted it is *shaped* (:mod:`.shaping`): for each field path the ruleset uses,
only the keys its conditions need are written, each of one type only:

- ``q__<path>``: :func:`.values.encode` of the value (``"s:police"``, ``"n:3000000"``, ``"m:"`` when
  missing), so equality, ``in``, ``ne``, ``exists`` are exact string equality; always written.
- ``n__<path>``: the fixed-point integer of a comparable number, for ``gt``/``lt``; absent otherwise.
- ``l__<path>``: ``["m:", *encoded items]`` for ``contains`` (the leading sentinel keeps ``$iall``
  away from empty lists and non-lists).
- ``f<k>__<path>``: 1/0, computed in Python, for ``regex`` (``re.search``) and string ``contains``
  (substring), which durable_rules cannot express exactly.

``not`` is pushed down to the leaves (De Morgan), each leaf having an exact negated form. ``on:`` is a
condition on ``q__type``.

Finally each rule's condition is put in disjunctive normal form and every conjunction becomes its own
durable_rules rule (``r<index>_<n>``): durable_rules rejects some nested ``$or``/``$and`` shapes
(error 113, e.g. an ``$or`` of three ``$and``s each holding three ``$or``s) that a flat ``$and`` of
tests never triggers. A rule whose condition expands past :data:`MAX_ALTERNATIVES` conjunctions is
reported as too complex.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import RuleError, RulesetInvalid
from .model import All, AnyOf, Compare, Condition, Not, Rule, Ruleset
from .values import encode, fixed_number

FORMAT = 1
MAX_SHAPED_KEYS = 200
MAX_ALTERNATIVES = 256
_FLIP = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}

Expr = dict[str, Any]


@dataclass
class FieldPlan:
    """What shaping writes for one field path."""

    path: str
    q: bool = False
    n: bool = False
    lst: bool = False
    flags: list[tuple[str, str, str]] = field(default_factory=list)  # (key, kind, argument)

    def keys(self) -> list[str]:
        keys = [key for key, wanted in (("q__", self.q), ("n__", self.n), ("l__", self.lst)) if wanted]
        return [k + self.path for k in keys] + [flag[0] for flag in self.flags]


@dataclass
class CompiledRuleset:
    """A durable_rules definition, the plan to shape facts for it, and what each rule does."""

    name: str
    definition: dict[str, Any]
    fields: list[FieldPlan]
    rules: dict[str, dict[str, Any]]
    format: int = FORMAT

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "name": self.name,
            "definition": self.definition,
            "fields": [
                {"path": f.path, "q": f.q, "n": f.n, "list": f.lst, "flags": [list(x) for x in f.flags]}
                for f in self.fields
            ],
            "rules": self.rules,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompiledRuleset:
        if data.get("format") != FORMAT:
            raise ValueError(f"compiled ruleset format {data.get('format')!r}, expected {FORMAT}")
        fields = [
            FieldPlan(f["path"], f["q"], f["n"], f["list"], [tuple(x) for x in f["flags"]])  # type: ignore[misc]
            for f in data["fields"]
        ]
        return cls(data["name"], data["definition"], fields, data["rules"])


class _Compiler:
    def __init__(self) -> None:
        self.fields: dict[str, FieldPlan] = {}
        self.flag_keys: dict[tuple[str, str, str], str] = {}

    def plan(self, path: str) -> FieldPlan:
        if path not in self.fields:
            self.fields[path] = FieldPlan(path)
        return self.fields[path]

    def q(self, path: str) -> str:
        self.plan(path).q = True
        return "q__" + path

    def flag(self, path: str, kind: str, argument: str) -> str:
        ident = (path, kind, argument)
        if ident not in self.flag_keys:
            key = f"f{len(self.flag_keys)}__{path}"
            self.flag_keys[ident] = key
            self.plan(path).flags.append((key, kind, argument))
        return self.flag_keys[ident]

    def condition(self, cond: Condition, negate: bool) -> Expr:
        if isinstance(cond, Compare):
            return self.compare(cond, negate)
        if isinstance(cond, Not):
            return self.condition(cond.item, not negate)
        if isinstance(cond, All | AnyOf):
            conjunction = isinstance(cond, All) != negate
            return _join("$and" if conjunction else "$or", [self.condition(c, negate) for c in cond.items])
        raise TypeError(f"not a condition: {cond!r}")

    def compare(self, cond: Compare, negate: bool) -> Expr:
        path, op, value = cond.path, cond.op, cond.value
        if op in _FLIP:
            self.plan(path).n = True
            key = "n__" + path
            bound = fixed_number(value)
            if not negate:
                return {"$" + op: {key: bound}}
            return _join("$or", [{"$nex": {key: 1}}, {"$" + _FLIP[op]: {key: bound}}])
        if op == "regex":
            return {self.flag(path, "regex", value): 0 if negate else 1}
        if op == "contains":
            return self.contains(path, value, negate)
        key = self.q(path)
        if op == "exists":
            present = value != negate
            return {"$neq": {key: "m:"}} if present else {key: "m:"}
        values = [value] if op in ("eq", "ne") else list(value)
        equal_any = [{key: encode(v)} for v in values]
        differ_all = [{"$neq": {key: encode(v)}} for v in values]
        if op in ("eq", "in"):
            return _join("$and", differ_all) if negate else _join("$or", equal_any)
        if negate:
            return _join("$or", [{key: "m:"}, *equal_any])
        return _join("$and", [{"$neq": {key: "m:"}}, *differ_all])

    def contains(self, path: str, value: Any, negate: bool) -> Expr:
        self.plan(path).lst = True
        key = "l__" + path
        item = encode(value)
        test: Expr = {"$iall": {key: {"$neq": {"$i": item}}}} if negate else {"$iany": {key: {"$i": item}}}
        parts = [test]
        if isinstance(value, str):
            parts.append({self.flag(path, "substring", value): 0 if negate else 1})
        return _join("$and" if negate else "$or", parts)

    def rule(self, rule: Rule) -> Expr:
        on = self.condition(AnyOf(tuple(Compare("type", "eq", t) for t in rule.on)), False)
        if rule.when is None:
            return on
        return _join("$and", [on, self.condition(rule.when, False)])


def _join(op: str, parts: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for part in parts:
        if len(part) == 1 and op in part:
            flat.extend(part[op])
        else:
            flat.append(part)
    return flat[0] if len(flat) == 1 else {op: flat}


def rule_key(index: int) -> str:
    return f"r{index}"


class TooComplex(ValueError):
    pass


def to_dnf(expr: Expr) -> list[list[Expr]]:
    """``expr`` as a list of alternatives, each a list of tests that must all hold (duplicates removed)."""
    if "$or" in expr and len(expr) == 1:
        alternatives = [alt for part in expr["$or"] for alt in to_dnf(part)]
    elif "$and" in expr and len(expr) == 1:
        alternatives = [[]]
        for part in expr["$and"]:
            choices = to_dnf(part)
            if len(alternatives) * len(choices) > MAX_ALTERNATIVES:
                raise TooComplex(len(alternatives) * len(choices))
            alternatives = [alt + choice for alt in alternatives for choice in choices]
    else:
        return [[expr]]
    unique: dict[str, list[Expr]] = {}
    for alt in alternatives:
        tests = {json.dumps(test, sort_keys=True): test for test in alt}
        unique.setdefault(json.dumps(sorted(tests)), list(tests.values()))
    if len(unique) > MAX_ALTERNATIVES:
        raise TooComplex(len(unique))
    return list(unique.values())


def compile_ruleset(ruleset: Ruleset) -> CompiledRuleset:
    compiler = _Compiler()
    definition: dict[str, Any] = {}
    rules: dict[str, dict[str, Any]] = {}
    errors: list[RuleError] = []
    for rule in ruleset.rules:
        key = rule_key(rule.index)
        try:
            alternatives = to_dnf(compiler.rule(rule))
        except TooComplex as exc:
            message = (
                f"condition too complex: it expands to more than {MAX_ALTERNATIVES} alternatives "
                f"({exc.args[0]}); split the rule or simplify nested any/not"
            )
            errors.append(RuleError(rule.id, "when", message))
            continue
        for n, tests in enumerate(alternatives):
            expr = tests[0] if len(tests) == 1 else {"$and": tests}
            definition[f"{key}_{n}"] = {"all": [{"m": expr}]}
        rules[key] = {
            "id": rule.id,
            "priority": rule.priority,
            "index": rule.index,
            "actions": [[action.name, action.params] for action in rule.then],
        }
    if errors:
        raise RulesetInvalid(errors)
    fields = list(compiler.fields.values())
    key_count = sum(len(f.keys()) for f in fields)
    if key_count > MAX_SHAPED_KEYS:
        raise RulesetInvalid(
            [
                RuleError(
                    None,
                    "rules",
                    f"the rules test {key_count} distinct field/operator combinations; the engine holds "
                    f"at most {MAX_SHAPED_KEYS} per ruleset: split the ruleset",
                )
            ]
        )
    return CompiledRuleset(ruleset.name, definition, fields, rules)
