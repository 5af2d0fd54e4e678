"""Evaluate one event: fact → active rulesets → Decisions → actions through the services.

At-least-once delivery, exactly-once effects: each action's Decision row and the changes it makes
commit in one transaction, and the Decision is unique on (event, ruleset, version, rule, action
index). A re-delivered event finds its decisions already there and skips them, so a worker killed
halfway redoes only what did not commit. An action that raises is rolled back and recorded as an
error decision; the other actions still run.

Consequences are evaluated in turn (their outbox rows publish after commit) up to ``MAX_DEPTH``,
and a rule never fires on an event in its own chain of consequences for the same case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from tortoise.exceptions import IntegrityError

from zongzhi.platform.base.current import current
from zongzhi.platform.base.errors import ServiceError
from zongzhi.platform.base.observability import metrics, tracing
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case, CaseEvent, Decision, Outbox, Ruleset, RulesetVersion
from zongzhi.platform.rules import Firing, get_engine
from zongzhi.platform.rules import builtin_actions as rule_actions
from zongzhi.platform.rules.facts import build_fact
from zongzhi.platform.rules.versions import parse_source
from zongzhi.platform.services.outbox import Committed, caused_by, change, mark_handled, mark_processed

log = logging.getLogger(__name__)

MAX_DEPTH = 5
ACTIVE_TTL_SECONDS = 1.0


class ActiveVersions:
    """The active ruleset versions, re-read at most once a second, loaded into this process's engine.

    Activation is a database write, so every worker sees it on its next refresh (within about a
    second) without a restart; the engine keeps a version loaded until it is no longer active.
    """

    def __init__(self) -> None:
        self._versions: list[tuple[str, int]] = []
        self._read_at = 0.0
        self._lock = asyncio.Lock()
        self._interest: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        #: Event types some active rule listens to, and the fact paths active rules read.
        self.event_types: frozenset[str] = frozenset()
        self.paths: frozenset[str] = frozenset()

    def _interest_of(self, row: RulesetVersion) -> tuple[frozenset[str], frozenset[str]]:
        if row.source not in self._interest:
            parsed = parse_source(row.source)
            types = frozenset(t for rule in parsed.rules for t in rule.on)
            paths = frozenset(f["path"] for f in row.compiled.get("fields", []))
            self._interest[row.source] = (types, paths)
        return self._interest[row.source]

    def invalidate(self) -> None:
        self._read_at = 0.0

    async def get(self) -> list[tuple[str, int]]:
        if time.monotonic() - self._read_at < ACTIVE_TTL_SECONDS:
            return self._versions
        async with self._lock:
            if time.monotonic() - self._read_at < ACTIVE_TTL_SECONDS:
                return self._versions
            rows = (
                await RulesetVersion.filter(status="active")
                .select_related("ruleset")
                .order_by("ruleset__name")
            )
            enabled = set(current().plugins.names())
            # A disabled plugin's rulesets stay in the database but are not evaluated.
            rows = [r for r in rows if r.ruleset.owner_plugin is None or r.ruleset.owner_plugin in enabled]
            rows = [r for r in rows if r.ruleset.enabled]  # switched off by a rule author
            engine = get_engine()
            loaded = set(engine.loaded())
            versions = []
            for row in rows:
                key = (row.ruleset.name, row.version)
                if key not in loaded:
                    engine.load(row.ruleset.name, row.version, row.compiled)
                versions.append(key)
            engine.retain(versions + [k for k in engine.loaded() if k[0].startswith("__simulate")])
            interests = [self._interest_of(row) for row in rows]
            self.event_types = frozenset().union(*(t for t, _ in interests))
            self.paths = frozenset().union(*(p for _, p in interests))
            self._versions = versions
            self._read_at = time.monotonic()
            return versions


def active_versions() -> ActiveVersions:
    """The running platform's active versions."""
    return current().active_versions


async def _finish_with_started_versions(
    event: CaseEvent, versions: list[tuple[str, int]]
) -> list[tuple[str, int]]:
    """``versions``, except that a ruleset which already decided on ``event`` keeps that version.

    A delivery that died after some of the event's actions committed is redone; if a new version was
    activated meanwhile, finishing with it would have the event evaluated by both versions. The old
    version is loaded again when needed; the next refresh of the active versions unloads it.
    """
    started = dict(await Decision.filter(event_id=event.id).values_list("ruleset", "version"))
    return await pin_versions(started, versions)


async def pin_versions(started: dict[str, int], versions: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``versions`` with each ruleset in ``started`` at the version it started with, loaded."""
    pinned = [(name, started.get(name, version)) for name, version in versions]
    engine = get_engine()
    loaded = set(engine.loaded())
    for name, version in pinned:
        if (name, version) not in loaded:
            row = await RulesetVersion.get(ruleset__name=name, version=version)
            engine.load(name, version, row.compiled)
    return pinned


async def _chain_rules(event: CaseEvent) -> set[str]:
    """The rules whose actions led to this event (walking its causes)."""
    rules: set[str] = set()
    current: CaseEvent | None = event
    while current is not None and current.rule:
        rules.add(current.rule)
        current = await CaseEvent.get_or_none(id=current.cause_id) if current.cause_id else None
    return rules


async def _apply(
    firing: Firing, index: int, name: str, params: dict[str, Any], event: CaseEvent, case: Case
) -> None:
    rule_key = f"{firing.ruleset}/{firing.rule_id}"
    key = {
        "event_id": event.id,
        "ruleset": firing.ruleset,
        "version": firing.version,
        "rule_id": firing.rule_id,
        "action_index": index,
    }
    spec = current().actions.get(name)
    actor = Actor.system_actor(f"规则 {rule_key} v{firing.version}", plugin=None)
    try:
        async with change(), caused_by(event.id, event.depth, rule_key):
            if spec is None or spec.handler is None:
                raise ServiceError(f"action {name!r} has no handler in this process")
            result = await spec.handler(
                rule_actions.ActionContext(case=case, event=event, actor=actor), params
            )
            # Written last, in the same transaction: a duplicate delivery fails here and rolls
            # back the effects it had made, so each decision's effects commit exactly once.
            await Decision.create(
                **key,
                case_id=event.case_id,
                action=name,
                params=params | {"result": result} if result else params,
            )
        metrics.DECISIONS.labels("ok").inc()
    except IntegrityError:
        return  # another delivery of the same event made this decision first
    except Exception as exc:
        message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, ServiceError):
            log.exception("rule action %s of %s failed on event %s", name, rule_key, event.id)
        with contextlib.suppress(IntegrityError):
            await Decision.create(
                **key,
                case_id=event.case_id,
                action=name,
                params=params,
                outcome="error",
                error=message[:2000],
            )
            metrics.DECISIONS.labels("error").inc()


async def evaluate_event(event_id: int, *, committed: Committed | None = None) -> list[Firing]:
    """Evaluate one event against every active ruleset and apply what fires. Safe to repeat.

    ``committed`` is the first delivery, in the process whose transaction just wrote the event:
    the event is at hand, and nothing can have handled or decided on it yet.
    """
    with tracing.span("evaluate_event", {"zongzhi.event_id": event_id}):
        firings = await _evaluate(event_id, committed)
    log.debug("evaluated event %s: %d rules fired", event_id, len(firings))
    return firings


async def _evaluate(event_id: int, committed: Committed | None) -> list[Firing]:
    first_delivery = committed is not None and committed.event is not None
    if first_delivery:
        event = committed.event
    else:
        event = await CaseEvent.get_or_none(id=event_id)
        if event is None:
            return []
        if await Outbox.filter(event_id=event.id, processed_at__isnull=False).exists():
            # Delivered again after it was handled (a worker died before acknowledging, or the
            # republisher raced it): with a newer version active by now, evaluating it again would fire.
            return []
    firings: list[Firing] = []
    case: Case | None = None
    if event.depth < MAX_DEPTH:
        versions = await active_versions().get()
        # Most consequences (routed, deadline set, notified...) have no rule listening: skip them.
        if versions and event.type in active_versions().event_types:
            # The case as the event's own transaction committed it, when that was this process.
            case = committed.case if first_delivery and committed.case else await Case.get(id=event.case_id)
            fact = await build_fact(event, case, paths=active_versions().paths)
            own_chain = await _chain_rules(event)
            if not first_delivery:
                versions = await _finish_with_started_versions(event, versions)
            with (
                tracing.span("rules.match", {"zongzhi.event_type": event.type}),
                metrics.timed(metrics.RULE_SECONDS),
            ):
                matched = get_engine().evaluate(fact, versions)
            metrics.EVENTS_EVALUATED.inc()
            firings = [f for f in matched if f"{f.ruleset}/{f.rule_id}" not in own_chain]
            for firing in firings:
                for index, (name, params) in enumerate(firing.actions):
                    await _apply(firing, index, name, params, event, case)
    loaded = current().plugins
    if loaded is not None:
        if case is None and first_delivery:
            case = committed.case
        if case is None or firings:  # actions change the case: plugins see it as they left it
            case = await Case.get(id=event.case_id)
        await loaded.case_event(event, case)
    if first_delivery:
        await mark_handled(committed.row)
    else:
        await mark_processed(event.id)
    return firings


async def ruleset_names() -> list[str]:
    return list(await Ruleset.all().order_by("name").values_list("name", flat=True))
