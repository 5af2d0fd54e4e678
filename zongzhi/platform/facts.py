"""Turn a CaseEvent into the fact rules match on, enriched so every rule is a one-fact match.

The fact carries the event (``type``, ``payload``), the case's own fields at the top level
(``channel``, ``category``, ``tags``, ...), the owning center with its level and ancestors, the
grid, hours open, deadlines, and history counts over the last 90 days: for the parties
(``party.prior_cases_90d``, the highest of any party; ``party.same_pair_cases_90d``, earlier cases
between the same applicant and respondent), the address and the grid's category.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Subquery

from zongzhi.platform.codes import PartyRole
from zongzhi.platform.models import Case, CaseEvent, CaseParty, Center, Grid

HISTORY = timedelta(days=90)


async def _party_counts(case: Case, since: datetime) -> dict[str, int]:
    parties = await CaseParty.filter(case_id=case.id).values("person_id", "role")
    prior = 0
    for p in parties:
        n = (
            await CaseParty.filter(person_id=p["person_id"], case__created_at__gte=since)
            .exclude(case_id=case.id)
            .distinct()
            .values_list("case_id", flat=True)
        )
        prior = max(prior, len(set(n)))
    applicants = [p["person_id"] for p in parties if p["role"] == PartyRole.applicant]
    respondents = [p["person_id"] for p in parties if p["role"] == PartyRole.respondent]
    same_pair = 0
    if applicants and respondents:
        with_applicant = CaseParty.filter(person_id__in=applicants).values("case_id")
        same_pair = (
            await CaseParty.filter(person_id__in=respondents, case_id__in=Subquery(with_applicant))
            .filter(case__created_at__gte=since)
            .exclude(case_id=case.id)
            .distinct()
            .count()
        )
    return {"count": len(parties), "prior_cases_90d": prior, "same_pair_cases_90d": same_pair}


async def build_fact(
    event: CaseEvent, case: Case | None = None, paths: frozenset[str] | None = None
) -> dict[str, Any]:
    """The fact for ``event``. With ``paths`` (what the active rules read), the history counts no
    rule reads are left out: they are the costly part, and most rulesets never look at them."""

    def wanted(prefix: str) -> bool:
        return paths is None or any(p == prefix or p.startswith(prefix + ".") for p in paths)

    case = case or await Case.get(id=event.case_id)
    now = datetime.now(UTC)
    since = case.created_at - HISTORY
    # The case's center path lists the ids of its center and every ancestor: one query for all.
    chain_ids = [int(p) for p in case.center_path.strip("/").split("/") if p]
    by_id = {c.id: c for c in await Center.filter(id__in=[*chain_ids, case.center_id])}
    center = by_id[case.center_id]
    if center.path != case.center_path:  # a stale copy of the path: the center's own is the truth
        chain_ids = [int(p) for p in center.path.strip("/").split("/") if p]
        by_id = {c.id: c for c in await Center.filter(id__in=chain_ids)}
    chain = [by_id[i] for i in chain_ids if i in by_id]
    grid_fact: dict[str, Any] = {}
    if case.grid_id:
        grid_fact["id"] = case.grid_id
        if wanted("grid.code"):
            grid_fact["code"] = (await Grid.get(id=case.grid_id)).code
    address_cases = 0
    if case.address and wanted("address_cases_90d"):
        address_cases = (
            await Case.filter(address=case.address, created_at__gte=since).exclude(id=case.id).count()
        )
    grid_category = 0
    if case.grid_id and wanted("grid_category_cases_90d"):
        grid_category = (
            await Case.filter(grid_id=case.grid_id, category=case.category, created_at__gte=since)
            .exclude(id=case.id)
            .count()
        )
    return {
        "type": event.type,
        "event_id": event.id,
        "depth": event.depth,
        "payload": event.payload,
        "case_id": case.id,
        "number": case.number,
        "title": case.title,
        "text": f"{case.title} {case.description}",
        "category": case.category,
        "kind": case.kind,
        "channel": case.channel,
        "severity": case.severity,
        "complexity": case.complexity,
        "risk": str(case.risk),
        "status": str(case.status),
        "tags": list(case.tags),
        "address": case.address,
        "has_location": case.lat is not None and case.lng is not None,
        "external": case.external_channel is not None,
        "hours_open": round((now - case.created_at).total_seconds() / 3600, 2),
        "has_deadline": case.resolve_by is not None,
        "overdue": bool(case.resolve_by and case.resolve_by < now),
        "center": {
            "id": center.id,
            "code": center.code,
            "level": str(center.level),
            "ancestors": [c.code for c in chain],
            "has_parent": center.parent_id is not None,
        },
        "grid": grid_fact,
        "party": await _party_counts(case, since) if wanted("party") else {},
        "address_cases_90d": address_cases,
        "grid_category_cases_90d": grid_category,
    }
