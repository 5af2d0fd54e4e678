"""A pure-Python interpreter of the rule language, straight from the parsed ruleset.

It is the oracle the durable_rules engine is tested against, and the semantics it implements are the
language's definition (see :mod:`.values` for how values compare):

- ``eq``/shorthand: same kind and equal. ``ne``: the field is present and not ``eq``.
- ``gt``/``gte``/``lt``/``lte`` (number constants only): the field is a comparable number.
- ``in``: ``eq`` to one of the values. ``not_in``: present and ``eq`` to none of them.
- ``contains``: a list field has an item ``eq`` to the value; a string field contains the string
  value as a substring.
- ``exists: true``: present (any non-null value, including ``[]`` and ``{}``); ``exists: false``:
  missing. ``regex``: a string field where Python's ``re.search`` finds the pattern.
- So a missing field fails every test except ``exists: false`` (and a ``not`` around a test).
- Several operators in one mapping, and several keys in one condition mapping, must all hold.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from .firing import Firing, firing_order
from .model import All, AnyOf, Compare, Condition, Not, Rule, Ruleset
from .values import MISSING, fixed_number, lookup, split_path


def _equal(value: Any, constant: Any) -> bool:
    if isinstance(constant, bool):
        return isinstance(value, bool) and value == constant
    if isinstance(constant, str):
        return isinstance(value, str) and value == constant
    number = fixed_number(value)
    return number is not None and number == fixed_number(constant)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _compare(value: Any, op: str, constant: Any) -> bool:
    if op == "exists":
        return (value is not MISSING) == constant
    if value is MISSING:
        return False
    if op == "eq":
        return _equal(value, constant)
    if op == "ne":
        return not _equal(value, constant)
    if op == "in":
        return any(_equal(value, c) for c in constant)
    if op == "not_in":
        return not any(_equal(value, c) for c in constant)
    if op == "contains":
        if isinstance(value, list):
            return any(_equal(item, constant) for item in value)
        return isinstance(value, str) and isinstance(constant, str) and constant in value
    if op == "regex":
        return isinstance(value, str) and _regex(constant).search(value) is not None
    number = fixed_number(value)
    if number is None:
        return False
    bound = fixed_number(constant)
    assert bound is not None
    if op == "gt":
        return number > bound
    if op == "gte":
        return number >= bound
    if op == "lt":
        return number < bound
    return number <= bound


def matches(condition: Condition, fact: dict[str, Any]) -> bool:
    if isinstance(condition, Compare):
        return _compare(lookup(fact, split_path(condition.path)), condition.op, condition.value)
    if isinstance(condition, All):
        return all(matches(item, fact) for item in condition.items)
    if isinstance(condition, AnyOf):
        return any(matches(item, fact) for item in condition.items)
    if isinstance(condition, Not):
        return not matches(condition.item, fact)
    raise TypeError(f"not a condition: {condition!r}")


def rule_matches(rule: Rule, fact: dict[str, Any]) -> bool:
    if fact.get("type") not in rule.on:
        return False
    return rule.when is None or matches(rule.when, fact)


def evaluate(ruleset: Ruleset, fact: dict[str, Any], version: int = 0) -> list[Firing]:
    """Every rule of ``ruleset`` that matches ``fact``, highest priority first."""
    firings = [
        Firing(
            ruleset.name,
            version,
            rule.id,
            rule.priority,
            tuple((action.name, action.params) for action in rule.then),
            rule.index,
        )
        for rule in ruleset.rules
        if rule_matches(rule, fact)
    ]
    firings.sort(key=firing_order)
    return firings
