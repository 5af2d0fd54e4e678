"""Impact before activation: what a candidate version would do differently from the active one.

Both versions run on the real engine over the same past events (chosen by time window, within the
author's jurisdiction); their firings are compared rule by rule. A rule that fires in only one of
them, or fires in both with other actions, is a change, sorted by what it changes for the case —
routed (route, escalate, assign), dated (deadline, require_followup), flagged (flag_risk, tag,
supervise), notified (notify, whistle), rejected, or other (plugins' actions) — counted in events
and cases, with examples. Nothing is written. Facts are built from the cases as they are now, as
``simulateRuleset`` does. Also here: the diff between two versions' rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.expressions import Subquery

from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import scoped_cases
from zongzhi.platform.models import Case, CaseEvent, Ruleset, RulesetVersion
from zongzhi.platform.rules import RulesetInvalid, compile_ruleset, simulate
from zongzhi.platform.rules.facts import build_fact
from zongzhi.platform.rules.model import Ruleset as ParsedRuleset
from zongzhi.platform.rules.versions import RulesetRejected, parse_source, require_author

KIND_OF_ACTION = {
    "route": "routed",
    "escalate": "routed",
    "assign": "routed",
    "deadline": "dated",
    "require_followup": "dated",
    "flag_risk": "flagged",
    "tag": "flagged",
    "supervise": "flagged",
    "notify": "notified",
    "whistle": "notified",
    "reject": "rejected",
}
KINDS = ("routed", "dated", "flagged", "notified", "rejected", "other")
MAX_EVENTS = 20_000
EXAMPLES_PER_ROW = 3


@dataclass
class ImpactExample:
    case_id: int
    case_number: str
    event_id: int
    event_type: str
    rule_id: str
    kind: str
    change: str
    before: list[list[Any]]
    after: list[list[Any]]


@dataclass
class ImpactRow:
    """One rule's changes of one kind: ``change`` is added (fires only now), removed or changed."""

    rule_id: str
    kind: str
    change: str
    events: int = 0
    cases: set[int] = field(default_factory=set)
    shown: int = 0


@dataclass
class Impact:
    ruleset: str
    active_version: int | None
    candidate_version: int | None
    since: datetime
    until: datetime
    events: int
    truncated: bool
    cases_considered: int
    cases_changed: set[int] = field(default_factory=set)
    by_kind: dict[str, set[int]] = field(default_factory=dict)
    rows: list[ImpactRow] = field(default_factory=list)
    examples: list[ImpactExample] = field(default_factory=list)


def _parse(source: str) -> ParsedRuleset:
    try:
        return parse_source(source)
    except RulesetInvalid as invalid:
        raise RulesetRejected(invalid) from None


def _paths(parsed: ParsedRuleset) -> set[str]:
    return {f["path"] for f in compile_ruleset(parsed).to_dict().get("fields", [])}


def _kinds(before: list[list[Any]], after: list[list[Any]]) -> list[str]:
    """The kinds of the actions that differ between the two lists (as multisets)."""
    a = [json.dumps(x, sort_keys=True, ensure_ascii=False) for x in before]
    b = [json.dumps(x, sort_keys=True, ensure_ascii=False) for x in after]
    differing = [x for x in a if a.count(x) != b.count(x)] + [x for x in b if a.count(x) != b.count(x)]
    names = [json.loads(x)[0] for x in differing]
    return sorted({KIND_OF_ACTION.get(n, "other") for n in names})


async def impact(
    actor: Actor,
    name: str,
    source: str,
    since: datetime,
    until: datetime,
    *,
    candidate_version: int | None = None,
    limit: int = 5000,
) -> Impact:
    """What ``source`` would do differently from ``name``'s active version on the window's events."""
    require_author(actor)
    if until <= since:
        raise ValidationFailed("the window must end after it starts", field="until")
    if not 1 <= limit <= MAX_EVENTS:
        raise ValidationFailed(f"limit must be between 1 and {MAX_EVENTS}", field="limit")
    candidate = _parse(source)
    if candidate.name != name:
        raise ValidationFailed(
            f"the source declares ruleset {candidate.name!r}, not {name!r}", field="source"
        )
    active_row = await RulesetVersion.get_or_none(ruleset__name=name, status="active")
    ruleset = await Ruleset.get_or_none(name=name)
    baseline = _parse(active_row.source) if active_row and ruleset and ruleset.enabled else None
    parsed = [p for p in (baseline, candidate) if p is not None]
    types = {t for p in parsed for rule in p.rules for t in rule.on}
    paths = frozenset().union(*(_paths(p) for p in parsed))
    events = (
        await CaseEvent.filter(
            type__in=sorted(types),
            at__gte=since,
            at__lt=until,
            case_id__in=Subquery(scoped_cases(actor).values("id")),
        )
        .order_by("id")
        .limit(limit + 1)
    )
    truncated = len(events) > limit
    events = events[:limit]
    cases = {c.id: c for c in await Case.filter(id__in={e.case_id for e in events})}
    facts = [await build_fact(e, cases[e.case_id], paths=paths) for e in events]
    after = simulate(candidate, facts)
    before = simulate(baseline, facts) if baseline is not None else [[] for _ in facts]
    result = Impact(
        ruleset=name,
        active_version=active_row.version if baseline is not None and active_row else None,
        candidate_version=candidate_version,
        since=since,
        until=until,
        events=len(events),
        truncated=truncated,
        cases_considered=len(cases),
        by_kind={k: set() for k in KINDS},
    )
    rows: dict[tuple[str, str, str], ImpactRow] = {}
    for event, was, now in zip(events, before, after, strict=True):
        old = {f.rule_id: [[n, p] for n, p in f.actions] for f in was}
        new = {f.rule_id: [[n, p] for n, p in f.actions] for f in now}
        for rule_id in sorted(set(old) | set(new)):
            a, b = old.get(rule_id, []), new.get(rule_id, [])
            if rule_id in old and rule_id in new and a == b:
                continue
            change = "changed" if rule_id in old and rule_id in new else ("added" if b else "removed")
            for kind in _kinds(a, b) or ["other"]:
                row = rows.setdefault((rule_id, kind, change), ImpactRow(rule_id, kind, change))
                row.events += 1
                row.cases.add(event.case_id)
                result.by_kind[kind].add(event.case_id)
                result.cases_changed.add(event.case_id)
                row.shown += 1
                if row.shown <= EXAMPLES_PER_ROW:
                    case = cases[event.case_id]
                    result.examples.append(
                        ImpactExample(case.id, case.number, event.id, event.type, rule_id, kind, change, a, b)
                    )
    result.rows = sorted(rows.values(), key=lambda r: (-len(r.cases), r.rule_id, r.kind, r.change))
    return result


@dataclass
class RuleChange:
    rule_id: str
    fields: list[str]


@dataclass
class VersionDiff:
    added: list[str]
    removed: list[str]
    changed: list[RuleChange]
    examples_changed: bool


def diff_sources(old_source: str, new_source: str) -> VersionDiff:
    """Rules added, removed and changed (with the keys that differ) from one source to another."""
    old, new = _parse(old_source).source, _parse(new_source).source
    old_rules = {r["id"]: r for r in old.get("rules", [])}
    new_rules = {r["id"]: r for r in new.get("rules", [])}
    changed = []
    for rule_id in new_rules:
        if rule_id in old_rules and old_rules[rule_id] != new_rules[rule_id]:
            a, b = old_rules[rule_id], new_rules[rule_id]
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            changed.append(RuleChange(rule_id, keys))
    return VersionDiff(
        added=[r for r in new_rules if r not in old_rules],
        removed=[r for r in old_rules if r not in new_rules],
        changed=changed,
        examples_changed=old.get("tests") != new.get("tests"),
    )


def format_impact(result: Impact, diff: VersionDiff | None = None) -> str:
    """The impact report as the CLI prints it (plain text, Chinese labels with the codes)."""
    against = f"v{result.active_version}" if result.active_version is not None else "nothing active"
    candidate = f"v{result.candidate_version}" if result.candidate_version is not None else "the given source"
    lines = [
        f"ruleset {result.ruleset}: {candidate} against {against}",
        f"window {result.since.isoformat()} .. {result.until.isoformat()}: {result.events} events of "
        f"{result.cases_considered} cases"
        + (" (limit reached: narrow the window)" if result.truncated else ""),
    ]
    if diff is not None:
        changed = ", ".join(f"{c.rule_id} ({', '.join(c.fields)})" for c in diff.changed)
        lines.append(
            f"rules added: {', '.join(diff.added) or '-'}; removed: {', '.join(diff.removed) or '-'}; "
            f"changed: {changed or '-'}"
        )
    lines.append(f"cases that would be handled differently: {len(result.cases_changed)}")
    lines.append("  " + ", ".join(f"{kind} {len(result.by_kind[kind])}" for kind in KINDS))
    lines.append("by rule:")
    if not result.rows:
        lines.append("  (no differences)")
    for row in result.rows:
        counts = f"{len(row.cases):>6} cases {row.events:>6} events"
        lines.append(f"  {row.rule_id:<36} {row.kind:<9} {row.change:<8} {counts}")
    if result.examples:
        lines.append("examples:")
    for x in result.examples:
        before = json.dumps(x.before, ensure_ascii=False) if x.before else "-"
        after = json.dumps(x.after, ensure_ascii=False) if x.after else "-"
        lines.append(f"  {x.case_number} {x.event_type} {x.rule_id} {x.kind} {x.change}: {before} -> {after}")
    return "\n".join(lines) + "\n"
