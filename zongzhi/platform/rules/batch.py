"""Evaluate many outbox rows together, in one transaction per batch.

The worker's task claims up to ``ZONGZHI_WORKER_BATCH`` pending rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL: two workers never hold the same row) and evaluates them in one transaction, with their
events and cases read in one query each. The consequences an event's actions record are evaluated
in the same batch right after it (their rows are marked processed with the batch, so they are never
sent to the broker), and every row the batch handled is marked processed in one statement. The
transaction commits, then the rows are handed to the publishers (the dispatch board announces them).

A batch runs in one of two ways:

- first without savepoints (each costs two round trips, a fifth of an inline evaluation's
  statements): the events' actions run in the batch's transaction, and all the batch's decisions
  are written in one insert at its end;
- if an event's actions or hooks fail, or another delivery made one of the decisions first, the
  whole transaction is rolled back and the batch is redone carefully: each event's actions in a
  savepoint, with its decisions in one insert at its end; when that savepoint fails, the event is
  redone action by action, each in its own savepoint.

Failures are rare, so the careful pass is what a failure costs, not what every event pays.

The guarantees are those of ``evaluation.evaluate_event``, which stays the one-event path:

- exactly-once effects: a decision is unique on (event, ruleset, version, rule, action index), and
  a re-delivered event skips the actions whose decisions committed; a worker killed in a batch
  loses the whole transaction, so everything in it is redone;
- an action that raises is rolled back alone and recorded as an error decision, the others still
  run (the careful pass's action-by-action path, the same as ``evaluation._apply``);
- consequences up to ``MAX_DEPTH``, a rule never fires in its own chain of consequences, version
  pinning for an event some version already decided on, plugins' ``case_event`` hook after the
  event's actions (in the event's transaction: what a hook writes commits with the event, once);
- the events of one case in order: a batch leaves out a case's rows when an earlier pending row of
  that case is held by another worker.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise
from tortoise.exceptions import BaseORMException, IntegrityError
from tortoise.transactions import in_transaction

from zongzhi.platform.base.current import current
from zongzhi.platform.base.errors import ServiceError
from zongzhi.platform.base.observability import metrics, tracing
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.workdays import calendar_memo
from zongzhi.platform.models import Case, CaseEvent, Center, Decision, Outbox
from zongzhi.platform.rules import Firing, get_engine
from zongzhi.platform.rules import builtin_actions as rule_actions
from zongzhi.platform.rules.evaluation import MAX_DEPTH, _chain_rules, active_versions, pin_versions
from zongzhi.platform.rules.facts import build_fact, party_counts_many
from zongzhi.platform.services import outbox
from zongzhi.platform.services.outbox import Committed, caused_by, collect

log = logging.getLogger(__name__)

DecisionKey = tuple[str, int, str, int]  # ruleset, version, rule id, action index
_Made = tuple[Firing, int, str, dict[str, Any], CaseEvent]  # an ok decision: firing, index, action, params


@dataclass
class _Item:
    """One event to evaluate: its outbox row, the case as last seen, the rules of its chain of
    causes (``None``: read from the database) and whether some delivery may have decided on it."""

    row: Outbox
    event: CaseEvent
    case: Case | None
    chain: frozenset[str] | None
    redelivered: bool


@dataclass
class BatchResult:
    """What one batch did: rows marked processed (consequences included), and rule firings."""

    handled: list[Outbox] = field(default_factory=list)
    event_ids: set[int] = field(default_factory=set)
    firings: int = 0
    left: int = 0  # claimed but left pending (a failure, logged); their own messages retry them


class _HookFailed(Exception):
    """A plugin's ``case_event`` hook failed: roll back what it wrote with its savepoint."""


class _Redo(Exception):
    """An event failed in a batch run without savepoints: roll the batch back, redo it carefully."""


class _Batch:
    def __init__(self, careful: bool) -> None:
        self.careful = careful  # a savepoint per event (and per action when one fails)
        self.decisions_ok = 0  # counted once the batch commits
        self.decisions: list[_Made] = []  # without savepoints: every event's, written at the end
        self.result = BatchResult()
        self.publish: list[Committed] = []
        self.decided: dict[int, set[DecisionKey]] = {}
        self.centers: dict[int, Center] = {}
        self.party: dict[int, dict[str, int]] = {}  # case id -> the fact's party counts
        platform = current()
        plugins = platform.plugins
        hooked = plugins is not None and bool(plugins.hook.zongzhi_case_event.get_hookimpls())
        self.plugins = plugins if hooked else None


async def evaluate_pending(limit: int, *, event_id: int | None = None) -> BatchResult:
    """Claim up to ``limit`` pending outbox rows and evaluate them in one transaction.

    With ``event_id``, only that event's row, waiting for a worker that holds it to finish: after
    this returns, the row is processed, by this call or by the batch that held it (or was left
    after a failure that was logged).
    """

    async def run(batch: _Batch) -> None:
        with tracing.span("evaluate_batch", {"zongzhi.batch_limit": limit, "zongzhi.careful": batch.careful}):
            async with in_transaction():
                rows = await _claim(limit, event_id)
                if rows:
                    await _run(await _items(rows, batch), batch)
                    await _finish(batch)

    return await _fast_then_careful(run)


async def evaluate_committed(items: list[Committed]) -> BatchResult:
    """The embedded mode's path: evaluate events the caller's transaction has just committed (the
    event and case at hand), with their consequences, in one transaction. Rows sent again (by the
    republisher: no event at hand) are read back, unless they were processed meanwhile."""
    events = [c for c in items if c.row.topic == outbox.EVENT_TOPIC and c.row.event_id is not None]
    if not events:
        return BatchResult()
    again = [c.row.id for c in events if c.event is None]

    async def run(batch: _Batch) -> None:
        work = [
            _Item(c.row, c.event, c.case, None if c.event.rule else frozenset(), False)
            for c in events
            if c.event
        ]
        async with in_transaction():
            if again:
                rows = await Outbox.filter(id__in=again, processed_at=None).order_by("id").select_for_update()
                work += await _items(list(rows), batch)
            await _read_party_counts(work, batch)
            await _run(work, batch)
            await _finish(batch)

    return await _fast_then_careful(run)


async def _fast_then_careful(run: Callable[[_Batch], Awaitable[None]]) -> BatchResult:
    """``run`` a batch without savepoints, and again carefully if an event failed in it; then count
    its decisions and hand its rows to the publishers (after the commit)."""
    batch = _Batch(careful=False)
    try:
        await run(batch)
    except _Redo as redo:
        log.info("batch redone with savepoints: %s", redo)
        batch = _Batch(careful=True)
        await run(batch)
    metrics.DECISIONS.labels("ok").inc(batch.decisions_ok)
    await outbox.publish(batch.publish)
    return batch.result


async def _finish(batch: _Batch) -> None:
    """The batch's last statements, in its transaction: its decisions (if not written event by
    event) and every row it handled marked processed."""
    await _write_decisions(batch)
    await outbox.mark_rows_handled(batch.result.handled)


async def _claim(limit: int, event_id: int | None) -> list[Outbox]:
    query = Outbox.filter(processed_at=None, topic=outbox.EVENT_TOPIC, event_id__not_isnull=True)
    if event_id is not None:
        return list(await query.filter(event_id=event_id).select_for_update())
    rows = list(await query.order_by("id").limit(limit).select_for_update(skip_locked=True))
    if not rows or Tortoise.get_connection("default").capabilities.dialect != "postgres":
        return rows  # SQLite: one writer at a time, nothing can be held by another worker
    return await _in_case_order(rows)


async def _in_case_order(rows: list[Outbox]) -> list[Outbox]:
    """``rows`` without the rows of a case whose earlier pending row another worker holds."""
    ids = {r.id for r in rows}
    cases = dict(await CaseEvent.filter(id__in=[r.event_id for r in rows]).values_list("id", "case_id"))
    held = await (
        Outbox.filter(processed_at=None, id__lt=max(ids), event__case_id__in=set(cases.values()))
        .exclude(id__in=ids)
        .values_list("id", "event__case_id")
    )
    first_held: dict[int, int] = {}
    for row_id, case_id in held:
        first_held[case_id] = min(row_id, first_held.get(case_id, row_id))
    kept = [r for r in rows if first_held.get(cases[r.event_id], r.id + 1) > r.id]
    if len(kept) < len(rows):
        log.debug("batch left %d rows behind earlier events held by another worker", len(rows) - len(kept))
    return kept


async def _items(rows: list[Outbox], batch: _Batch) -> list[_Item]:
    events = {e.id: e for e in await CaseEvent.filter(id__in=[r.event_id for r in rows])}
    cases = {c.id: c for c in await Case.filter(id__in={e.case_id for e in events.values()})}
    for event_id, ruleset, version, rule_id, index in await Decision.filter(
        event_id__in=list(events)
    ).values_list("event_id", "ruleset", "version", "rule_id", "action_index"):
        batch.decided.setdefault(event_id, set()).add((ruleset, version, rule_id, index))
    items = []
    for row in rows:
        event = events.get(row.event_id)
        if event is None:  # deleted with its case: nothing to do
            batch.result.handled.append(row)
            continue
        chain = None if event.rule else frozenset()
        items.append(_Item(row, event, cases.get(event.case_id), chain, True))
    await _read_party_counts(items, batch)
    return items


async def _read_party_counts(items: list[_Item], batch: _Batch) -> None:
    """The facts' party counts for every case of the batch a rule will look at, in one statement
    (PostgreSQL: elsewhere each fact reads its own)."""
    known = active_versions()
    if not await known.get() or not any(p.split(".")[0] == "party" for p in known.paths):
        return
    if Tortoise.get_connection("default").capabilities.dialect != "postgres":
        return
    cases = {
        i.case.id: i.case
        for i in items
        if i.case is not None
        and i.case.id not in batch.party
        and i.event.depth < MAX_DEPTH
        and i.event.type in known.event_types
    }
    if cases:
        batch.party.update(await party_counts_many(list(cases.values())))


async def _run(items: list[_Item], batch: _Batch) -> None:
    """Each event, then its consequences, depth first: the order the embedded mode always had.

    The calendar and the grids' routing targets are read once per batch (actions look them up
    for most events; they change rarely, and a batch is a fraction of a second): the first grid an
    action routes by brings the targets of every case's grid in the batch."""
    queue = deque(items)
    grids = {i.case.grid_id for i in items if i.case is not None and i.case.grid_id is not None}
    with calendar_memo(), rule_actions.grid_target_memo(grids):
        while queue:
            item = queue.popleft()
            made = await _evaluate(item, batch)
            queue.extendleft(reversed(made))


async def _evaluate(item: _Item, batch: _Batch) -> list[_Item]:
    with tracing.span("evaluate_event", {"zongzhi.event_id": item.event.id}):
        return await _evaluate_event(item, batch)


async def _evaluate_event(item: _Item, batch: _Batch) -> list[_Item]:
    event = item.event
    try:
        case, chain, firings = await _match(item, batch)
    except BaseORMException:
        raise  # the transaction may be aborted: the batch fails, each message retries its own event
    except Exception:
        # Reading and matching wrote nothing: the batch goes on, this row waits for its own message.
        log.exception("event %s could not be evaluated; its outbox row is left pending", event.id)
        batch.result.left += 1
        return []
    batch.result.firings += len(firings)
    made: list[Committed] = []
    if firings or batch.plugins is not None:
        case = case or await Case.get(id=event.case_id)
        done = batch.decided.get(event.id, set())
        try:
            made = await _fast(firings, done, event, case, batch)
        except Exception as exc:
            if not batch.careful:
                raise _Redo(f"event {event.id} failed with {type(exc).__name__}") from exc
            if not isinstance(exc, (ServiceError, IntegrityError, _HookFailed)):
                log.debug("event %s redone action by action after %r", event.id, exc)
            made = await _slow(firings, done, event, case, batch)
    batch.result.handled.append(item.row)
    batch.result.event_ids.add(event.id)
    batch.publish.extend(made)
    own_chain = chain or frozenset()
    return [
        _Item(c.row, c.event, c.case, own_chain | {c.event.rule} if c.event.rule else own_chain, False)
        for c in made
        if c.event is not None and c.row.topic == outbox.EVENT_TOPIC
    ]


async def _match(item: _Item, batch: _Batch) -> tuple[Case | None, frozenset[str] | None, list[Firing]]:
    """The event's fact matched against the active versions: (the case, the event's chain of
    rules, the firings that are not in that chain)."""
    event, case, chain = item.event, item.case, item.chain
    if event.depth >= MAX_DEPTH:
        return case, chain, []
    known = active_versions()
    versions = await known.get()
    if not versions or event.type not in known.event_types:
        return case, chain, []
    case = case or await Case.get(id=event.case_id)
    party = batch.party.get(case.id)
    fact = await build_fact(event, case, paths=known.paths, centers=batch.centers, party=party)
    if chain is None:
        chain = frozenset(await _chain_rules(event))
    if item.redelivered:
        versions = await _pinned(batch.decided.get(event.id, set()), versions)
    with (
        tracing.span("rules.match", {"zongzhi.event_type": event.type}),
        metrics.timed(metrics.RULE_SECONDS),
    ):
        matched = get_engine().evaluate(fact, versions)
    metrics.EVENTS_EVALUATED.inc()
    return case, chain, [f for f in matched if f"{f.ruleset}/{f.rule_id}" not in chain]


async def _pinned(decided: set[DecisionKey], versions: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``versions``, but a ruleset that already decided on the event finishes with that version."""
    return await pin_versions({ruleset: version for ruleset, version, _, _ in decided}, versions)


def _actor(firing: Firing) -> Actor:
    return Actor.system_actor(f"规则 {firing.ruleset}/{firing.rule_id} v{firing.version}", plugin=None)


def _todo(firings: list[Firing], done: set[DecisionKey]):
    for firing in firings:
        for index, (name, params) in enumerate(firing.actions):
            if (firing.ruleset, firing.version, firing.rule_id, index) not in done:
                yield firing, index, name, params


async def _act(firing: Firing, name: str, params: dict[str, Any], event: CaseEvent, case: Case) -> Any:
    spec = current().actions.get(name)
    if spec is None or spec.handler is None:
        raise ServiceError(f"action {name!r} has no handler in this process")
    context = rule_actions.ActionContext(case=case, event=event, actor=_actor(firing))
    async with caused_by(event.id, event.depth, f"{firing.ruleset}/{firing.rule_id}"):
        return await spec.handler(context, params)


def _decision(
    firing: Firing, index: int, name: str, params: dict[str, Any], event: CaseEvent, **outcome: Any
) -> Decision:
    return Decision(
        event_id=event.id,
        case_id=event.case_id,
        ruleset=firing.ruleset,
        version=firing.version,
        rule_id=firing.rule_id,
        action_index=index,
        action=name,
        params=params,
        **outcome,
    )


async def _hooks(event: CaseEvent, batch: _Batch, firings: bool, case: Case, made: list[Committed]) -> None:
    if batch.plugins is None:
        return
    # Actions change the case: the plugins see it as they left it. Every change of a case records
    # an event with the case as saved, so the last one the actions made is the case as it is now.
    seen = case
    if firings:
        latest = next((c.case for c in reversed(made) if c.case is not None and c.case.id == case.id), None)
        seen = latest or await Case.get(id=event.case_id)
    if not await batch.plugins.case_event(event, seen):
        raise _HookFailed(f"a plugin's case_event hook failed on event {event.id}")


async def _fast(
    firings: list[Firing], done: set[DecisionKey], event: CaseEvent, case: Case, batch: _Batch
) -> list[Committed]:
    """Every action and hook of the event. Careful: in one savepoint, with its decisions in one insert
    at its end; else its decisions join the batch's, written in one insert at the batch's end."""
    decisions: list[_Made] = []
    async with in_transaction() if batch.careful else contextlib.nullcontext(), collect() as made:
        for firing, index, name, params in _todo(firings, done):
            result = await _act(firing, name, params, event, case)
            decisions.append((firing, index, name, params | {"result": result} if result else params, event))
        await _hooks(event, batch, bool(firings), case, made)
        if decisions and batch.careful:
            await _insert_decisions(decisions)
    if not batch.careful:
        batch.decisions += decisions
    batch.decisions_ok += len(decisions)
    return made


async def _write_decisions(batch: _Batch) -> None:
    """The decisions of a batch run without savepoints. One another delivery made first rolls the
    batch back, to be redone carefully (where that event's actions are redone one by one)."""
    if not batch.decisions:
        return
    try:
        await _insert_decisions(batch.decisions)
    except IntegrityError as exc:
        raise _Redo(f"a decision of the batch was already made ({exc})") from exc


_INSERT_DECISIONS_PG = """
INSERT INTO decision
    (event_id, case_id, ruleset, version, rule_id, action_index, action, params, outcome, error, at)
SELECT d.*, 'ok', '', $1::timestamptz
FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::int[], $6::text[], $7::smallint[], $8::text[],
            $9::jsonb[]) AS d
"""


async def _insert_decisions(decisions: list[_Made]) -> None:
    """Ok decisions in one multi-row statement (PostgreSQL; the ORM's bulk insert elsewhere)."""
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect != "postgres":
        await Decision.bulk_create([_decision(f, i, name, params, e) for f, i, name, params, e in decisions])
        return
    encode = Decision._meta.fields_map["params"].to_db_value
    rows = [
        (e.id, e.case_id, f.ruleset, f.version, f.rule_id, i, name, encode(p, None))
        for f, i, name, p, e in decisions
    ]
    columns = [list(column) for column in zip(*rows, strict=True)]
    await conn.execute_query(_INSERT_DECISIONS_PG, [datetime.now(UTC), *columns])


async def _slow(
    firings: list[Firing], done: set[DecisionKey], event: CaseEvent, case: Case, batch: _Batch
) -> list[Committed]:
    """Action by action, each with its decision in its own savepoint (``evaluation._apply``)."""
    made: list[Committed] = []
    for firing, index, name, params in _todo(firings, done):
        try:
            async with in_transaction(), collect() as written:
                result = await _act(firing, name, params, event, case)
                # Written last: a decision another delivery made first rolls back these effects.
                await _decision(
                    firing, index, name, params | {"result": result} if result else params, event
                ).save()
            made.extend(written)
            metrics.DECISIONS.labels("ok").inc()
        except IntegrityError:
            continue  # another delivery of the same event made this decision first
        except Exception as exc:
            message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, ServiceError):
                log.exception(
                    "rule action %s of %s/%s failed on event %s",
                    name,
                    firing.ruleset,
                    firing.rule_id,
                    event.id,
                )
            try:
                async with in_transaction():
                    await _decision(
                        firing, index, name, params, event, outcome="error", error=message[:2000]
                    ).save()
                metrics.DECISIONS.labels("error").inc()
            except IntegrityError:
                pass
    try:
        async with in_transaction(), collect() as written:
            await _hooks(event, batch, bool(firings), case, made)
        made.extend(written)
    except _HookFailed as exc:
        log.warning("%s; what it wrote is rolled back", exc)
    return made


async def _pending(event_id: int) -> bool:
    """Whether the event's row still waits: one small statement (on the outbox's event index), the
    whole cost of a message whose event a batch took (here or in another worker).

    Not remembered in the process: a database restored or emptied under a running worker numbers
    its events anew, and a remembered id would then skip an event that was never evaluated."""
    conn = Tortoise.get_connection("default")
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    sql = f"SELECT 1 FROM outbox WHERE event_id = {mark} AND processed_at IS NULL LIMIT 1"
    return bool((await conn.execute_query(sql, [event_id]))[1])


async def evaluate_message(event_id: int, limit: int) -> int:
    """A worker's ``evaluate_event`` message: evaluate a batch of pending rows, then make sure the
    message's own event is done (it may be in another worker's batch: wait for that one).

    Most messages of a backlog find their event already taken by a batch and cost one query. If a
    batch fails, the message's event is evaluated alone (``evaluate_event``) and the error is
    logged; the other rows keep their own messages. Returns the outbox rows handled.
    """
    if not await _pending(event_id):
        return 0
    try:
        result = await evaluate_pending(limit)
        handled = len(result.handled)
        if event_id not in result.event_ids:
            handled += len((await evaluate_pending(1, event_id=event_id)).handled)
        return handled
    except Exception:
        log.exception("batch evaluation failed; evaluating event %s alone", event_id)
        from zongzhi.platform.rules.evaluation import evaluate_event

        await evaluate_event(event_id)
        return 1
