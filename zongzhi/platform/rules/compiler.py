"""Compile a parsed ruleset to durable_rules JSON rulesets plus a fact-shaping plan.

durable_rules can compare a property with a constant (``$eq $neq $lt $lte $gt $gte``), test presence
(``$ex $nex``), test list items (``$iany $iall``) and combine with ``$and``/``$or``; it has no
expression-level ``not``. Measured on 2.0.28, its semantics differ from ours in ways that matter:
numbers compare loosely with strings (``"5" > 3`` holds), list items compare loosely (``["1"]``
contains ``1``), ``$neq`` never matches a missing property, ``$iall`` on ``[]`` is false, ``$mt`` is a
full match in its own regex dialect, string ordering is not code-point order, numbers written with an
exponent (``1e+20``) are rejected, a message holds at most ~255 properties, some nested ``$or``/``$and``
shapes are refused (error 113, expression limit), a ``$or`` fires its rule once per matching branch,
and a fact that passes more than 64 sibling tests at once fails with error 303 (its traversal stack).

So before a fact is asserted it is *shaped* (:mod:`.shaping`): for each field path the ruleset uses,
only the keys its conditions need are written, each of one type only:

- ``q__<path>``: :func:`.values.encode` of the value (``"s:police"``, ``"n:3000000"``, ``"m:"`` when
  missing): equality, ``in``, ``ne``, ``exists`` become exact string (in)equality. Always written.
- ``lo__<path>`` / ``hi__<path>``: the fixed-point integer of a comparable number, else a sentinel
  below (``lo``) or above (``hi``) every constant; ``gt``/``gte`` test ``lo`` and ``lt``/``lte``
  test ``hi``, so a non-number fails ``gt`` (``lo > v``) and passes ``not gt`` (``lo <= v``).
- ``l__<path>``: ``"m:"`` then the encoded items of a list, or for a string the encoded ``contains``
  needles of this ruleset that occur in it (substring test in Python); ``contains`` is ``$iany``,
  its negation ``$iall ... $neq`` (never vacuous thanks to the leading ``"m:"``).
- ``f<k>__<path>``: 1/0 from Python's ``re.search`` for ``regex``.

``not`` is pushed to the leaves (De Morgan); every leaf and its negation is one durable test. Each
rule's condition is put in disjunctive normal form: every conjunction becomes one durable rule
(``r<index>_<n>``, a flat ``$and`` starting with its ``q__type`` equality). durable_rules looks
equality children up by hash, so only the alternatives for the fact's own event type are ever
visited; the durable rules are packed into *shards* (separate durable rulesets) holding at most
:data:`SHARD_SIZE` alternatives per event type, so no fact can pass more than that many tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import RuleError, RulesetInvalid
from .model import All, AnyOf, Compare, Condition, Not, Rule, Ruleset
from .values import encode, fixed_number

FORMAT = 2
MAX_SHAPED_KEYS = 200
MAX_ALTERNATIVES = 256
SHARD_SIZE = 48
SENTINEL = 10**18 + 1
_NEGATED = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}

Expr = dict[str, Any]


@dataclass
class FieldPlan:
    """What shaping writes for one field path."""

    path: str
    q: bool = False
    lo: bool = False
    hi: bool = False
    lst: bool = False
    needles: list[str] = field(default_factory=list)
    regexes: list[tuple[str, str]] = field(default_factory=list)  # (key, pattern)

    def keys(self) -> list[str]:
        wanted = (("q__", self.q), ("lo__", self.lo), ("hi__", self.hi), ("l__", self.lst))
        return [prefix + self.path for prefix, on in wanted if on] + [key for key, _ in self.regexes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "q": self.q,
            "lo": self.lo,
            "hi": self.hi,
            "list": self.lst,
            "needles": self.needles,
            "regexes": [list(r) for r in self.regexes],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FieldPlan:
        regexes = [(key, pattern) for key, pattern in d["regexes"]]
        return cls(d["path"], d["q"], d["lo"], d["hi"], d["list"], list(d["needles"]), regexes)


@dataclass
class CompiledRuleset:
    """durable_rules definitions (shards), the plan to shape facts for them, and what each rule does."""

    name: str
    shards: list[dict[str, Any]]
    fields: list[FieldPlan]
    rules: dict[str, dict[str, Any]]
    format: int = FORMAT

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "name": self.name,
            "shards": self.shards,
            "fields": [f.to_dict() for f in self.fields],
            "rules": self.rules,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompiledRuleset:
        if data.get("format") != FORMAT:
            raise ValueError(f"compiled ruleset format {data.get('format')!r}, expected {FORMAT}")
        fields = [FieldPlan.from_dict(f) for f in data["fields"]]
        return cls(data["name"], data["shards"], fields, data["rules"])


class _Compiler:
    def __init__(self) -> None:
        self.fields: dict[str, FieldPlan] = {}

    def plan(self, path: str) -> FieldPlan:
        if path not in self.fields:
            self.fields[path] = FieldPlan(path)
        return self.fields[path]

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
        plan = self.plan(path)
        if op in _NEGATED:
            test = _NEGATED[op] if negate else op
            if op in ("gt", "gte"):
                plan.lo = True
                return {"$" + test: {"lo__" + path: fixed_number(value)}}
            plan.hi = True
            return {"$" + test: {"hi__" + path: fixed_number(value)}}
        if op == "regex":
            key = next((k for k, pattern in plan.regexes if pattern == value), None)
            if key is None:
                key = f"f{len(plan.regexes)}__{path}"
                plan.regexes.append((key, value))
            return {key: 0 if negate else 1}
        if op == "contains":
            plan.lst = True
            if isinstance(value, str) and value not in plan.needles:
                plan.needles.append(value)
            item = encode(value)
            if negate:
                return {"$iall": {"l__" + path: {"$neq": {"$i": item}}}}
            return {"$iany": {"l__" + path: {"$i": item}}}
        plan.q = True
        key = "q__" + path
        if op == "exists":
            return {"$neq": {key: "m:"}} if value != negate else {key: "m:"}
        values = [value] if op in ("eq", "ne") else list(value)
        equal_any = [{key: encode(v)} for v in values]
        differ_all = [{"$neq": {key: encode(v)}} for v in values]
        if op in ("eq", "in"):
            return _join("$and", differ_all) if negate else _join("$or", equal_any)
        if negate:
            return _join("$or", [{key: "m:"}, *equal_any])
        return _join("$and", [{"$neq": {key: "m:"}}, *differ_all])

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


def rule_key(index: int) -> str:
    return f"r{index}"


def compile_ruleset(ruleset: Ruleset) -> CompiledRuleset:
    compiler = _Compiler()
    durable_rules: list[tuple[str, Expr, str | None]] = []
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
            durable_rules.append((f"{key}_{n}", {"all": [{"m": expr}]}, tests[0].get("q__type")))
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
        message = (
            f"the rules test {key_count} distinct field/operator combinations; the engine holds at most "
            f"{MAX_SHAPED_KEYS} per ruleset: split the ruleset"
        )
        raise RulesetInvalid([RuleError(None, "rules", message)])
    return CompiledRuleset(ruleset.name, _pack(durable_rules), fields, rules)


def _pack(durable_rules: list[tuple[str, Expr, str | None]]) -> list[dict[str, Any]]:
    """First-fit: each shard takes at most SHARD_SIZE durable rules per event type."""
    shards: list[dict[str, Any]] = []
    counts: list[dict[str | None, int]] = []
    for key, definition, event_type in durable_rules:
        for index, count in enumerate(counts):
            if count.get(event_type, 0) < SHARD_SIZE:
                shard = shards[index]
                break
        else:
            shard, count = {}, {}
            shards.append(shard)
            counts.append(count)
        shard[key] = definition
        count[event_type] = count.get(event_type, 0) + 1
    return shards
