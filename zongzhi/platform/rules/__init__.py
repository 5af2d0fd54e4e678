"""The rule language: parse and validate YAML rulesets, compile them to durable_rules, evaluate facts.

Public API::

    parse_ruleset(source, *, extra_event_types=(), registry=None) -> Ruleset   # raises RulesetInvalid
    compile_ruleset(ruleset) -> CompiledRuleset        # .to_dict() / CompiledRuleset.from_dict()
    get_engine() -> Engine                             # the running platform's
    Engine.load(name, version, compiled) / .unload(name, version) / .retain(active)
    Engine.evaluate(fact, [(name, version), ...]) -> list[Firing]
    simulate(source_or_parsed, facts) -> list[list[Firing]]
    reference.evaluate(ruleset, fact, version=0) -> list[Firing]
    builtin_registry().register(ActionSpec(...))       # a platform holds its own registry
    ruleset_schema() -> dict
"""

from .actions import ActionRegistry, ActionSpec, builtin_registry
from .compiler import CompiledRuleset, compile_ruleset
from .engine import Engine, EngineError, get_engine, simulate
from .errors import RuleError, RulesetInvalid
from .firing import Firing
from .model import Ruleset
from .parse import parse_ruleset
from .schema import ruleset_schema

__all__ = [
    "ActionRegistry",
    "ActionSpec",
    "CompiledRuleset",
    "Engine",
    "EngineError",
    "Firing",
    "RuleError",
    "Ruleset",
    "RulesetInvalid",
    "builtin_registry",
    "compile_ruleset",
    "get_engine",
    "parse_ruleset",
    "ruleset_schema",
    "simulate",
]
