from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from zongzhi.platform.rules import (
    CompiledRuleset,
    Engine,
    compile_ruleset,
    get_engine,
    parse_ruleset,
    simulate,
)

_names = itertools.count()


def ruleset(rules: list[dict[str, Any]], name: str = "t") -> dict[str, Any]:
    for rule in rules:
        rule.setdefault("on", "case.received")
        rule.setdefault("then", [{"tag": {"add": [rule["id"]]}}])
    return {"ruleset": name, "rules": rules}


def load(engine: Engine, data: dict[str, Any], version: int = 1) -> tuple[str, int]:
    name = f"{data['ruleset']}{next(_names)}"
    engine.load(name, version, compile_ruleset(parse_ruleset(data)))
    return name, version


def test_every_matching_rule_fires_highest_priority_first() -> None:
    data = ruleset(
        [
            {"id": "low", "priority": 1, "when": {"channel": "police"}},
            {"id": "none", "priority": 50, "when": {"channel": "court"}},
            {"id": "high", "priority": 10, "when": {"severity": {"gte": 3}}},
            {"id": "also-low", "priority": 1},
            {"id": "closed-only", "priority": 99, "on": "case.closed"},
        ]
    )
    [firings] = simulate(data, [{"type": "case.received", "channel": "police", "severity": 4}])
    assert [f.rule_id for f in firings] == ["high", "low", "also-low"]
    assert firings[0].actions == (("tag", {"add": ["high"]}),)
    assert firings[0].priority == 10 and firings[0].ruleset == "t"


def test_a_rule_fires_once_even_when_several_branches_match() -> None:
    data = ruleset([{"id": "either", "when": {"any": [{"a": 1}, {"b": 1}, {"c": {"in": [1, 2]}}]}}])
    assert [
        [f.rule_id for f in fs] for fs in simulate(data, [{"type": "case.received", "a": 1, "b": 1, "c": 1}])
    ] == [["either"]]


def test_many_rules_matching_one_fact() -> None:
    # durable_rules fails (error 303) when a fact passes more than 64 sibling tests; shards avoid it.
    data = ruleset([{"id": f"r{i}", "when": {"n": {"gt": -i}}} for i in range(300)])
    [firings] = simulate(data, [{"type": "case.received", "n": 1}])
    assert [f.rule_id for f in firings] == [f"r{i}" for i in range(300)]


def test_two_versions_side_by_side_then_unload() -> None:
    engine = get_engine()
    v1 = parse_ruleset(ruleset([{"id": "old", "when": {"channel": "police"}}], "sbs"))
    v2 = parse_ruleset(ruleset([{"id": "new", "when": {"channel": "police"}}], "sbs"))
    engine.load("sbs", 1, compile_ruleset(v1))
    engine.load("sbs", 2, compile_ruleset(v2).to_dict())  # stored JSON form loads too
    fact = {"type": "case.received", "channel": "police"}
    try:
        assert [f.rule_id for f in engine.evaluate(fact, [("sbs", 2)])] == ["new"]
        assert [(f.rule_id, f.version) for f in engine.evaluate(fact, [("sbs", 1)])] == [("old", 1)]
        assert engine.unload("sbs", 1) is True
        assert engine.unload("sbs", 1) is False
        with pytest.raises(KeyError):
            engine.evaluate(fact, [("sbs", 1)])
        assert [f.rule_id for f in engine.evaluate(fact, [("sbs", 2)])] == ["new"]
        engine.load("sbs", 1, compile_ruleset(v1))  # reloading a released version works
        assert engine.retain([("sbs", 2)]) == [("sbs", 1)] or ("sbs", 1) not in engine.loaded()
    finally:
        engine.unload("sbs", 1)
        engine.unload("sbs", 2)


def test_compiled_form_round_trips_through_json() -> None:
    import json

    compiled = compile_ruleset(parse_ruleset(ruleset([{"id": "x", "when": {"tags": {"contains": "a"}}}])))
    again = CompiledRuleset.from_dict(json.loads(json.dumps(compiled.to_dict())))
    assert again == compiled


def test_threads_lose_no_firing() -> None:
    engine = get_engine()
    key = load(engine, ruleset([{"id": f"r{i}", "when": {"n": {"gte": i}}} for i in range(20)]))
    errors: list[BaseException] = []
    counts: list[int] = []

    def work(seed: int) -> None:
        try:
            total = 0
            for i in range(300):
                n = (seed + i) % 25
                firings = engine.evaluate({"type": "case.received", "n": n}, [key])
                assert len(firings) == min(n + 1, 20)
                total += len(firings)
            counts.append(total)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.unload(*key)
    assert not errors
    assert len(counts) == 8


def test_versions_list_order_breaks_priority_ties() -> None:
    engine = get_engine()
    a = load(engine, ruleset([{"id": "a1"}], "a"))
    b = load(engine, ruleset([{"id": "b1", "priority": 5}, {"id": "b2"}], "b"))
    fact = {"type": "case.received"}
    try:
        assert [f.rule_id for f in engine.evaluate(fact, [a, b])] == ["b1", "a1", "b2"]
        assert [f.rule_id for f in engine.evaluate(fact, [b, a])] == ["b1", "b2", "a1"]
    finally:
        engine.unload(*a)
        engine.unload(*b)


def test_many_rules_over_several_event_types_share_shards() -> None:
    types = ["case.received", "case.closed", "case.overdue"]
    data = ruleset([{"id": f"r{i}", "on": types[i % 3], "when": {"n": {"lt": 100 + i}}} for i in range(300)])
    compiled = compile_ruleset(parse_ruleset(data))
    assert len(compiled.shards) == 3
    results = simulate(data, [{"type": t, "n": 1} for t in types])
    for t, firings in zip(types, results, strict=True):
        assert [f.rule_id for f in firings] == [f"r{i}" for i in range(300) if types[i % 3] == t]
