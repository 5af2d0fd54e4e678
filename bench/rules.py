"""Rule evaluation benchmark: a generated 200-rule policy through ``Engine.evaluate`` and through the
raw durable_rules assert / drain actions / retract calls on the same compiled ruleset.

    .venv/bin/python bench/rules.py [--events N] [--rules R] [--seed S]

Prints figures; asserts nothing. The raw path gets pre-shaped fact dicts and does what
``durable.engine.Ruleset.assert_fact`` does (``json.dumps`` then the C call) plus draining the queued
actions and retracting; the ratio is what our layer (fact shaping, reading rule keys, de-duplication,
sorting, Firing objects, the lock) costs on top.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import durable_rules_engine as dre

from zongzhi.platform.rules import Engine, compile_ruleset, parse_ruleset
from zongzhi.platform.rules.shaping import Shaper

CHANNELS = ["police", "court", "petition", "hotline", "grid", "walk_in"]
CATEGORIES = [
    "neighbor",
    "marriage_family",
    "labor",
    "property_management",
    "traffic",
    "land_forest",
    "contract",
    "damages",
    "consumer",
    "medical",
    "other",
]
TAGS = ["violence", "elderly", "minor", "group", "repeat", "migrant", "disabled"]
EVENTS = ["case.received", "case.assessed", "case.overdue", "case.escalated"]
LEVELS = ["village", "township", "county"]


def condition(rng: random.Random) -> dict[str, Any]:
    kind = rng.randrange(9)
    if kind == 0:
        return {"channel": rng.choice(CHANNELS)}
    if kind == 1:
        return {"category": {"in": rng.sample(CATEGORIES, 3)}}
    if kind == 2:
        return {"tags": {"contains": rng.choice(TAGS)}}
    if kind == 3:
        return {"party.prior_cases_90d": {"gte": rng.randint(1, 5)}}
    if kind == 4:
        return {"severity": {"gt": rng.randint(1, 3)}}
    if kind == 5:
        return {"center.level": rng.choice(LEVELS)}
    if kind == 6:
        return {"hours_open": {"lt": rng.choice([24, 48, 72])}}
    if kind == 7:
        return {"not": {"risk": {"in": ["high", "medium"]}}}
    return {"address.earlier_cases": {"gte": rng.randint(1, 4)}}


def policy(rng: random.Random, count: int) -> dict[str, Any]:
    rules = []
    for i in range(count):
        parts = [condition(rng) for _ in range(rng.randint(1, 3))]
        when = {"all": parts} if rng.random() < 0.7 else {"any": parts}
        rules.append(
            {
                "id": f"rule-{i}",
                "priority": rng.randint(0, 20),
                "on": rng.choice(EVENTS),
                "when": when,
                "then": [{"tag": {"add": [f"t{i}"]}}, {"notify": {"role": "leader"}}],
            }
        )
    return {"ruleset": "bench", "rules": rules}


def fact(rng: random.Random) -> dict[str, Any]:
    return {
        "type": rng.choice(EVENTS),
        "case_id": rng.randint(1, 10**9),
        "channel": rng.choice(CHANNELS),
        "category": rng.choice(CATEGORIES),
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "severity": rng.randint(1, 4),
        "risk": rng.choice(["none", "low", "medium", "high"]),
        "hours_open": rng.randint(0, 200),
        "title": "邻里纠纷" * rng.randint(1, 3),
        "party": {"prior_cases_90d": rng.randint(0, 6), "name_hash": f"{rng.getrandbits(64):x}"},
        "address": {"earlier_cases": rng.randint(0, 5)},
        "center": {"level": rng.choice(LEVELS), "code": "331081000000"},
    }


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    ruleset = parse_ruleset(policy(rng, args.rules))
    compiled = compile_ruleset(ruleset)
    alternatives = sum(len(shard) for shard in compiled.shards)
    print(
        f"{args.rules} rules -> {alternatives} durable rules in {len(compiled.shards)} shards, "
        f"{sum(len(f.keys()) for f in compiled.fields)} shaped keys"
    )
    facts = [fact(rng) for _ in range(1000)]

    engine = Engine()
    engine.load("bench", 1, compiled)
    versions = [("bench", 1)]
    for f in facts[:100]:
        engine.evaluate(f, versions)
    fired = 0
    start = time.perf_counter()
    checkpoints = {100_000, 1_000_000, args.events}
    for i in range(args.events):
        fired += len(engine.evaluate(facts[i % 1000], versions))
        if i + 1 in checkpoints:
            print(f"  after {i + 1:>9,} events: RSS {rss_mb():.1f} MB")
    ours = args.events / (time.perf_counter() - start)
    print(f"Engine.evaluate:  {ours:10,.0f} events/s  ({fired / args.events:.1f} firings/event)")

    shaper = Shaper(compiled.fields)
    shaped = [shaper.shape(f, 10**9 + i) for i, f in enumerate(facts)]
    handles = [dre.create_ruleset(f"rawbench_{i}", json.dumps(s)) for i, s in enumerate(compiled.shards)]
    raw_events = min(args.events, 200_000)
    start = time.perf_counter()
    for i in range(raw_events):
        message = json.dumps(shaped[i % 1000], ensure_ascii=False)
        for handle in handles:
            state = dre.assert_fact(handle, message)[1]
            pending = dre.start_action_for_state(handle, state)
            while pending:
                pending = dre.complete_and_start_action(handle, state)
            dre.retract_fact(handle, message)
    raw = raw_events / (time.perf_counter() - start)
    print(f"raw durable_rules: {raw:10,.0f} events/s  (pre-shaped facts, same shards)")
    print(f"ratio raw/ours: {raw / ours:.2f}x  (target <= 1.5x)")
    print(f"RSS at end: {rss_mb():.1f} MB")


if __name__ == "__main__":
    main()
