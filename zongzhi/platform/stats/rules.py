"""Per-rule statistics: how often each rule of each version fired, and how its actions ended.

Read from the Decision rows (one per action a rule took on an event), so the figures are what the
rules did, not what they would do: firings are the distinct events a rule fired on, actions the
actions it took, ``ok`` and ``errors`` their outcomes (an error is an action the state machine or a
missing target refused). Counted over a period and a scope (the cases of a center's subtree, as
every statistic is), grouped by ruleset, version and rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Subquery
from tortoise.functions import Count

from zongzhi.platform.models import Case, Decision
from zongzhi.platform.stats.period import Period
from zongzhi.platform.stats.scope import Scope


@dataclass(frozen=True)
class RuleStat:
    ruleset: str
    version: int
    rule_id: str
    firings: int
    cases: int
    actions: int
    ok: int
    errors: int
    last_at: datetime | None
    last_error: str


async def rule_statistics(scope: Scope, period: Period, ruleset: str | None = None) -> list[RuleStat]:
    """One row per (ruleset, version, rule) that decided anything on the scope's cases in the period."""
    query = Decision.filter(
        at__gte=period.start_at,
        at__lt=period.end_at,
        case_id__in=Subquery(Case.filter(scope.case_q()).values("id")),
    )
    if ruleset:
        query = query.filter(ruleset=ruleset)
    rows = (
        await query.annotate(
            firings=Count("event_id", distinct=True),
            cases=Count("case_id", distinct=True),
            actions=Count("id"),
        )
        .group_by("ruleset", "version", "rule_id")
        .values("ruleset", "version", "rule_id", "firings", "cases", "actions")
    )
    errors = {
        (r["ruleset"], r["version"], r["rule_id"]): r["n"]
        for r in await query.filter(outcome="error")
        .annotate(n=Count("id"))
        .group_by("ruleset", "version", "rule_id")
        .values("ruleset", "version", "rule_id", "n")
    }
    stats = []
    for r in rows:
        key = (r["ruleset"], r["version"], r["rule_id"])
        last = await query.filter(ruleset=key[0], version=key[1], rule_id=key[2]).order_by("-id").first()
        last_error = (
            await query.filter(ruleset=key[0], version=key[1], rule_id=key[2], outcome="error")
            .order_by("-id")
            .first()
            if errors.get(key)
            else None
        )
        stats.append(
            RuleStat(
                ruleset=key[0],
                version=key[1],
                rule_id=key[2],
                firings=r["firings"],
                cases=r["cases"],
                actions=r["actions"],
                ok=r["actions"] - errors.get(key, 0),
                errors=errors.get(key, 0),
                last_at=last.at if last else None,
                last_error=last_error.error if last_error else "",
            )
        )
    return sorted(stats, key=lambda s: (-s.firings, s.ruleset, s.version, s.rule_id))
