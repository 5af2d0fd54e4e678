"""Rule tests inside a ruleset: ``tests:`` examples, each a fact and the rules that must (not) fire.

As DMN tools run their test scenarios, the examples run wherever a ruleset is checked — ``zongzhi
rules lint``, ``saveRulesetDraft``, activation and CI — on the real engine (the compiled form,
through :func:`~.engine.simulate`). A failing example is an error like any other: it names the
example, what was expected and what fired, and the YAML line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .engine import simulate
from .errors import RuleError
from .loader import Path, line_of, load_yaml
from .model import Ruleset
from .parse import _suggest, format_path


def _leaves(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{prefix}.{k}" if prefix else str(k))]
    return [prefix]


def _unknown_path(path: str, fields: Mapping[str, Any]) -> bool:
    if path in fields:
        return False
    parts = path.split(".")
    parents = (fields.get(".".join(parts[:i])) for i in range(1, len(parts)))
    return not any(parent is not None and parent.type == "any" for parent in parents)


def run_examples(
    ruleset: Ruleset, source: str | None = None, fields: Mapping[str, Any] | None = None
) -> list[RuleError]:
    """Run the ruleset's ``tests:``; the errors of those that fail (empty: all pass, or none)."""
    examples = ruleset.source.get("tests") or []
    if not examples:
        return []
    lines: dict[Path, int] = load_yaml(source)[1] if source else {}
    rule_ids = [rule.id for rule in ruleset.rules]
    errors: list[RuleError] = []

    def error(path: Path, message: str) -> None:
        errors.append(RuleError(None, format_path(path), message, line_of(lines, path)))

    runnable: list[tuple[int, dict[str, Any]]] = []
    for i, example in enumerate(examples):
        path: Path = ("tests", i)
        ok = True
        for key in ("fires", "does_not_fire"):
            for j, rule_id in enumerate(example.get(key, [])):
                if rule_id not in rule_ids:
                    hint = _suggest(rule_id, rule_ids)
                    error((*path, key, j), f"no rule '{rule_id}' in this ruleset{hint}")
                    ok = False
        if fields is not None:
            for leaf in _leaves(example["fact"]):
                if _unknown_path(leaf, fields):
                    hint = _suggest(leaf, fields)
                    error((*path, "fact", *leaf.split(".")), f"unknown fact path '{leaf}'{hint}")
                    ok = False
        if ok:
            runnable.append((i, example))
    results = simulate(ruleset, [example["fact"] for _, example in runnable])
    for (i, example), firings in zip(runnable, results, strict=True):
        fired = [f.rule_id for f in firings]
        missing = [r for r in example.get("fires", []) if r not in fired]
        unwanted = [r for r in example.get("does_not_fire", []) if r in fired]
        if missing or unwanted:
            what = []
            if missing:
                what.append(f"expected {', '.join(missing)} to fire")
            if unwanted:
                what.append(f"expected {', '.join(unwanted)} not to fire")
            shown = ", ".join(fired) if fired else "nothing"
            error(("tests", i), f"example '{example['name']}' failed: {'; '.join(what)}; fired: {shown}")
    return errors
