"""The documented value semantics, checked on the reference interpreter and the engine alike."""

from __future__ import annotations

from typing import Any

import pytest

from zongzhi.platform.rules import parse_ruleset, reference, simulate

CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"a": 3}, {"a": 3.0}, True),
    ({"a": 3}, {"a": "3"}, False),
    ({"a": 1}, {"a": True}, False),
    ({"a": {"ne": "x"}}, {}, False),  # a missing field fails every test but exists: false
    ({"a": {"ne": "x"}}, {"a": None}, False),  # null is missing
    ({"a": {"ne": "x"}}, {"a": 5}, True),
    ({"a": {"not_in": ["x"]}}, {}, False),
    ({"not": {"a": "x"}}, {}, True),
    ({"a": {"exists": False}}, {"a": None}, True),
    ({"a": {"exists": True}}, {"a": []}, True),
    ({"a": {"gt": 2}}, {"a": "5"}, False),
    ({"a": {"lte": 0.3}}, {"a": 0.1 + 0.2}, True),  # 6-decimal fixed point
    ({"a": {"gt": 0}}, {"a": 10**13}, False),  # out of range: present, not comparable
    ({"a": {"contains": "暴力"}}, {"a": "涉嫌暴力威胁"}, True),
    ({"a": {"contains": "x"}}, {"a": ["x", "y"]}, True),
    ({"a": {"contains": 1}}, {"a": ["1", True]}, False),
    ({"not": {"a": {"contains": "x"}}}, {"a": []}, True),
    ({"a": {"regex": "^1[3-9]\\d{9}$"}}, {"a": "13800138000"}, True),
    ({"a": {"regex": "b"}}, {"a": "abc"}, True),  # search, not full match
    ({"p.q": 1}, {"p": {"q": 1}}, True),
    ({"p.q": 1}, {"p": [1]}, False),
    ({"a": {"gte": 1, "lt": 3}}, {"a": 3}, False),
]


@pytest.mark.parametrize(("when", "fields", "fires"), CASES)
def test_semantics(when: dict[str, Any], fields: dict[str, Any], fires: bool) -> None:
    data = {
        "ruleset": "sem",
        "rules": [{"id": "r", "on": "case.received", "when": when, "then": [{"tag": {"add": ["x"]}}]}],
    }
    fact = {"type": "case.received", **fields}
    assert bool(reference.evaluate(parse_ruleset(data), fact)) is fires
    assert bool(simulate(data, [fact])[0]) is fires
