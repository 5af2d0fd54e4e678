"""Property: durable_rules (through the compiler and fact shaping) fires exactly the rules the
pure-Python reference interpreter fires, for random rulesets and facts.

Set HYPOTHESIS_RULES_EXAMPLES to run more (or fewer) examples than the default 2,000.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from zongzhi.platform.rules import RulesetInvalid, compile_ruleset, get_engine, parse_ruleset, reference

EVENT_TYPES = ["case.received", "case.closed"]
PATHS = ["a", "b", "c", "tags", "p.x", "p.y", "p.q.z", "p.q", "type", "nope.deeper"]
STRINGS = [
    "",
    "police",
    "labor",
    "a",
    "ab",
    "中",
    "中文",
    'q"uote',
    "back\\slash",
    "new\nline",
    "5",
    "true",
    "m:",
]
NUMBERS = [0, 1, -1, 3, 5, 2.5, 3.0, -0.25, 0.1, 1e-7, 123456789.125, 10**11, -(10**11)]
REGEXES = ["^a", "b+", "中", r"\d", "x|y", ".*", "^$", "l.b", r"\\", '"']

scalars = st.one_of(
    st.sampled_from(STRINGS),
    st.sampled_from(NUMBERS),
    st.booleans(),
    st.integers(-10, 10),
    st.text(max_size=3),
)
numbers = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(-10, 10),
    st.floats(-100, 100, allow_nan=False, allow_infinity=False),
)

operator_values = {
    "eq": scalars,
    "ne": scalars,
    "gt": numbers,
    "gte": numbers,
    "lt": numbers,
    "lte": numbers,
    "in": st.lists(scalars, min_size=1, max_size=3),
    "not_in": st.lists(scalars, min_size=1, max_size=3),
    "contains": scalars,
    "exists": st.booleans(),
    "regex": st.sampled_from(REGEXES),
}


@st.composite
def field_condition(draw: st.DrawFn) -> dict[str, Any]:
    path = draw(st.sampled_from(PATHS))
    if draw(st.integers(0, 4)) == 0:
        return {path: draw(scalars)}
    ops = draw(st.lists(st.sampled_from(sorted(operator_values)), min_size=1, max_size=2, unique=True))
    return {path: {op: draw(operator_values[op]) for op in ops}}


def conditions(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    if depth == 0:
        return field_condition()
    inner = conditions(depth - 1)
    return st.one_of(
        field_condition(),
        st.builds(lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda item: {"not": item}, inner),
        st.builds(lambda a, b: a | b, field_condition(), field_condition()),
    )


CONDITIONS = conditions(3)


@st.composite
def rulesets(draw: st.DrawFn) -> dict[str, Any]:
    rules = []
    for i in range(draw(st.integers(1, 5))):
        rule: dict[str, Any] = {
            "id": f"rule-{i}",
            "priority": draw(st.integers(-2, 2)),
            "on": draw(
                st.one_of(
                    st.sampled_from(EVENT_TYPES),
                    st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=2),
                )
            ),
            "then": [{"tag": {"add": [f"t{i}"]}}],
        }
        if draw(st.integers(0, 5)):
            rule["when"] = draw(CONDITIONS)
        rules.append(rule)
    return {"ruleset": "generated", "rules": rules}


odd_values = st.sampled_from(
    [None, float("inf"), float("nan"), -float("inf"), 10**13, 10**30, 1e300, {}, [], [[]], [None], {"z": 1}]
)
leaf_values = st.one_of(scalars, numbers, odd_values)
values = st.one_of(
    leaf_values,
    st.lists(st.one_of(leaf_values, st.lists(scalars, max_size=2)), max_size=4),
)


@st.composite
def facts(draw: st.DrawFn) -> dict[str, Any]:
    fact: dict[str, Any] = {}
    if draw(st.integers(0, 8)):
        fact["type"] = draw(st.sampled_from(EVENT_TYPES))
    else:
        fact["type"] = draw(values)
    for key in ("a", "b", "c", "tags"):
        if draw(st.integers(0, 3)):
            fact[key] = draw(values)
    shape = draw(st.integers(0, 3))
    if shape == 1:
        fact["p"] = draw(values)
    elif shape >= 2:
        p: dict[str, Any] = {}
        for key in ("x", "y"):
            if draw(st.booleans()):
                p[key] = draw(values)
        if draw(st.booleans()):
            p["q"] = {"z": draw(values)} if draw(st.booleans()) else draw(values)
        fact["p"] = p
    return fact


_names = itertools.count()


def _ids(firings: list[Any]) -> list[str]:
    return [firing.rule_id for firing in firings]


@settings(settings.get_profile("rules"), max_examples=int(os.environ.get("HYPOTHESIS_RULES_EXAMPLES", 2000)))
@given(rulesets(), st.lists(facts(), min_size=1, max_size=10))
def test_engine_and_reference_fire_the_same_rules(
    data: dict[str, Any], fact_list: list[dict[str, Any]]
) -> None:
    ruleset = parse_ruleset(data)
    try:
        compiled = compile_ruleset(ruleset)
    except RulesetInvalid as exc:
        # The language's documented limit (MAX_ALTERNATIVES conjunctions per rule), not a mismatch.
        assert all("too complex" in error.message for error in exc.errors)
        event("too complex")
        assume(False)
        return
    engine = get_engine()
    name = f"prop{next(_names)}"
    engine.load(name, 1, compiled)
    try:
        for fact in fact_list:
            expected = _ids(reference.evaluate(ruleset, fact, 1))
            actual = _ids(engine.evaluate(fact, [(name, 1)]))
            assert actual == expected, (fact, compiled.shards)
            event(f"fired {min(len(expected), 2)}+")
    finally:
        engine.unload(name, 1)
