"""The parsed form of a ruleset: plain immutable data that the reference interpreter and the compiler
both read. Built by :func:`zongzhi.platform.rules.parse.parse_ruleset`, never by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Scalar = str | int | float | bool

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists", "regex")
COMBINATORS = ("all", "any", "not")


@dataclass(frozen=True, slots=True)
class Compare:
    """One test of one field: ``path`` is dotted (``party.prior_cases_90d``)."""

    path: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


Condition = Compare | All | AnyOf | Not


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Rule:
    id: str
    priority: int
    on: tuple[str, ...]
    when: Condition | None
    then: tuple[Action, ...]
    index: int
    description: str | None = None


@dataclass(frozen=True)
class Ruleset:
    name: str
    rules: tuple[Rule, ...]
    description: str | None = None
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
