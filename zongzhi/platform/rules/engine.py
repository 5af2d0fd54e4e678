"""The process's durable_rules host.

We drive durable_rules' C extension (``durable_rules_engine``) directly rather than through
``durable.engine.Host``: the Host starts timer threads that call into the engine every 200 ms outside
any lock of ours, wraps each firing in Python closures whose errors it swallows, and re-parses every
message as JSON. Our loop is: shape the fact, ``assert_fact``, drain the queued actions (each only
names the rule that matched; we read the rule key off the message text), ``retract_fact``.

- Facts, not events: an event is consumed by the first rule that matches, a fact fires every
  matching rule; retracting right after keeps the working memory empty.
- A compiled ruleset is a few durable rulesets ("shards", see :mod:`.compiler`); each fact is
  shaped and serialised once, then asserted into each shard.
- One sid (``"0"``) per ruleset, so the 1,024 live-sid limit is never approached.
- A durable ``$or`` fires a rule once per matching branch; firings are de-duplicated per rule.
- durable_rules is not thread-safe: every call into it, for every :class:`Engine`, holds one
  process-wide lock (``_LOCK``: its C state is per process, whichever platform an engine serves).
- Versions load side by side as ``<name>__v<version>__s<shard>``; ``unload`` frees the C-level ruleset with
  ``durable_rules_engine.delete_ruleset`` (present in 2.0.28), so retired versions do not accumulate.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import durable_rules_engine as dre

from .actions import ActionRegistry
from .compiler import CompiledRuleset, compile_ruleset
from .firing import Firing
from .model import Ruleset
from .parse import parse_ruleset
from .shaping import Shaper

_LOCK = threading.Lock()
_SID = "0"


class EngineError(RuntimeError):
    """durable_rules refused a ruleset or a fact; the message says which."""


@dataclass
class _Loaded:
    name: str
    version: int
    handles: list[int]
    shaper: Shaper
    firings: dict[str, tuple[tuple[int, int], Firing]]  # rule key -> (sort key, firing)


def _firings(name: str, version: int, compiled: CompiledRuleset) -> dict[str, tuple[tuple[int, int], Firing]]:
    return {
        key: (
            (-meta["priority"], meta["index"]),
            Firing(
                name,
                version,
                meta["id"],
                meta["priority"],
                tuple((action, params) for action, params in meta["actions"]),
                meta["index"],
            ),
        )
        for key, meta in compiled.rules.items()
    }


def durable_name(name: str, version: int, shard: int) -> str:
    return f"{name}__v{version}__s{shard}"


class Engine:
    """One platform's rules engine (``Platform.engine``); tests and tools may make their own."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, int], _Loaded] = {}
        self._fact_ids = itertools.count(1)
        self._simulations = itertools.count(1)

    def load(self, name: str, version: int, compiled: CompiledRuleset | dict[str, Any]) -> None:
        """Register ``compiled`` as ``name`` version ``version``; a no-op if that version is loaded."""
        if isinstance(compiled, dict):
            compiled = CompiledRuleset.from_dict(compiled)
        with _LOCK:
            if (name, version) in self._loaded:
                return
            handles: list[int] = []
            try:
                for shard, definition in enumerate(compiled.shards):
                    text = json.dumps(definition, ensure_ascii=False)
                    handles.append(dre.create_ruleset(durable_name(name, version, shard), text))
            except dre.error as exc:
                for handle in handles:
                    dre.delete_ruleset(handle)
                raise EngineError(f"durable_rules rejected ruleset {name} v{version}: {exc}") from None
            self._loaded[(name, version)] = _Loaded(
                name, version, handles, Shaper(compiled.fields), _firings(name, version, compiled)
            )

    def unload(self, name: str, version: int) -> bool:
        """Free a loaded version; False if it was not loaded."""
        with _LOCK:
            loaded = self._loaded.pop((name, version), None)
            if loaded is None:
                return False
            for handle in loaded.handles:
                dre.delete_ruleset(handle)
            return True

    def loaded(self) -> list[tuple[str, int]]:
        with _LOCK:
            return sorted(self._loaded)

    def retain(self, active: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
        """Unload every version not in ``active``; return what was unloaded."""
        keep = set(active)
        dropped = [key for key in self.loaded() if key not in keep]
        for name, version in dropped:
            self.unload(name, version)
        return dropped

    def evaluate(self, fact: dict[str, Any], versions: Sequence[tuple[str, int]]) -> list[Firing]:
        """Every rule of the given loaded versions that matches ``fact``.

        Sorted by priority (highest first), then by the order of ``versions``, then by rule order.
        The fact must carry its event type in ``fact["type"]``.
        """
        found: list[tuple[tuple[int, int, int], Firing]] = []
        with _LOCK:
            for position, key in enumerate(versions):
                loaded = self._loaded.get(key)
                if loaded is None:
                    raise KeyError(f"ruleset {key[0]} v{key[1]} is not loaded")
                found.extend(self._run(loaded, fact, position))
        found.sort(key=_first)
        return [firing for _, firing in found]

    def _run(self, loaded: _Loaded, fact: dict[str, Any], position: int) -> list[tuple[Any, Firing]]:
        message = json.dumps(loaded.shaper.shape(fact, next(self._fact_ids), _SID), ensure_ascii=False)
        keys: dict[str, None] = {}
        assert_fact, start, advance, retract = (
            dre.assert_fact,
            dre.start_action_for_state,
            dre.complete_and_start_action,
            dre.retract_fact,
        )
        for handle in loaded.handles:
            try:
                state_handle = assert_fact(handle, message)[1]
            except dre.error as exc:
                where = f"{loaded.name} v{loaded.version}"
                raise EngineError(f"durable_rules rejected a fact for {where}: {exc}") from None
            try:
                pending = start(handle, state_handle)
                if pending:
                    # Queued action messages look like {"r12_0":{"m":{...}}}: r12 is the rule.
                    text = pending[1]
                    keys[text[2 : text.index("_", 2)]] = None
                    text = advance(handle, state_handle)
                    while text:
                        keys[text[2 : text.index("_", 2)]] = None
                        text = advance(handle, state_handle)
            finally:
                retract(handle, message)
        rules = loaded.firings
        found = []
        for key in keys:
            (priority, index), firing = rules[key]
            found.append(((priority, position, index), firing))
        return found


def _first(item: tuple[Any, Firing]) -> Any:
    return item[0]


def get_engine() -> Engine:
    """The running platform's engine (``Platform.engine``)."""
    from zongzhi.platform.base.current import current

    return current().engine


def simulate(
    ruleset: str | dict[str, Any] | Ruleset,
    facts: Iterable[dict[str, Any]],
    *,
    extra_event_types: Iterable[str] = (),
    registry: ActionRegistry | None = None,
    engine: Engine | None = None,
) -> list[list[Firing]]:
    """What a ruleset would fire for each fact: validated, compiled and run on the real engine under a
    private name, then unloaded. Writes nothing; raises :class:`RulesetInvalid` for a bad ruleset."""
    if not isinstance(ruleset, Ruleset):
        ruleset = parse_ruleset(ruleset, extra_event_types=extra_event_types, registry=registry)
    compiled = compile_ruleset(ruleset)
    engine = engine or get_engine()
    name = f"__simulate{next(engine._simulations)}__{ruleset.name}"
    engine.load(name, 0, compiled)
    try:
        results = [engine.evaluate(fact, [(name, 0)]) for fact in facts]
    finally:
        engine.unload(name, 0)
    return [
        [Firing(ruleset.name, 0, f.rule_id, f.priority, f.actions, f.rule_index) for f in firings]
        for firings in results
    ]
