"""Rule authoring and explanation over GraphQL: versions, drafts, simulation, activation, decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from zongzhi.platform import models
from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain.jurisdiction import scoped_cases, visible
from zongzhi.platform.rules import Firing
from zongzhi.platform.rules import impact as rule_impact
from zongzhi.platform.rules import versions as svc
from zongzhi.platform.schema import types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.schema.stats import period_of, scope_of
from zongzhi.platform.services import whistles
from zongzhi.platform.stats import rules as rule_stats


@strawberry.type(description="One version of a ruleset: its YAML source and who wrote and activated it.")
class RulesetVersion:
    name: str
    version: int
    status: str = strawberry.field(description="draft | active | retired")
    source: str
    created_at: datetime
    activated_at: datetime | None
    author: str | None
    activated_by: str | None = strawberry.field(default=None, description="who activated it last")
    activation_reason: str = strawberry.field(default="", description="why it was activated last")

    @classmethod
    def of(
        cls, row: models.RulesetVersion, author: str | None = None, activated_by: str | None = None
    ) -> RulesetVersion:
        return cls(
            name=row.ruleset.name,
            version=row.version,
            status=row.status,
            source=row.source,
            created_at=row.created_at,
            activated_at=row.activated_at,
            author=author,
            activated_by=activated_by,
            activation_reason=row.activation_reason,
        )


@strawberry.type
class RulesetInfo:
    name: str
    owner_plugin: str | None
    active_version: int | None
    versions: list[RulesetVersion]
    center_id: strawberry.Private[int | None]
    enabled: bool = strawberry.field(
        default=True, description="false: switched off, its active version is not evaluated"
    )

    @strawberry.field(
        description="The center that owns it: only rule authors of that center or above change it "
        "(null: the root of the center tree). Every active ruleset applies to every case."
    )
    async def center(self, info: Info) -> types.Center | None:
        if self.center_id is None:
            return None
        row = await info.context.loaders.center.load(self.center_id)
        return types.Center.of(row) if row else None


@strawberry.type(description="One action a rule would take or took, with its resolved parameters.")
class PlannedAction:
    action: str
    params: strawberry.scalars.JSON


@strawberry.type
class FiredRule:
    ruleset: str
    version: int
    rule_id: str
    priority: int
    actions: list[PlannedAction]

    @classmethod
    def of(cls, f: Firing) -> FiredRule:
        return cls(
            ruleset=f.ruleset,
            version=f.version,
            rule_id=f.rule_id,
            priority=f.priority,
            actions=[PlannedAction(action=n, params=p) for n, p in f.actions],
        )


@strawberry.type(description="What a ruleset would do on one past event. Nothing is written.")
class SimulatedEvent:
    event_id: strawberry.ID | None
    case_id: strawberry.ID | None
    event_type: str
    fired: list[FiredRule]


@strawberry.type(
    description="决策记录: an automatic step, the rule and version that made it, and its result."
)
class Decision:
    event_id: strawberry.ID
    event_type: str
    ruleset: str
    version: int
    rule_id: str
    action_index: int
    action: str
    params: strawberry.scalars.JSON
    outcome: str = strawberry.field(description="ok | error")
    error: str
    at: datetime


@strawberry.input(description="Choose events to simulate on: by ID, or the latest events of matching cases.")
class SimulationTarget:
    event_ids: list[strawberry.ID] | None = None
    case_ids: list[strawberry.ID] | None = None
    event_type: str | None = strawberry.field(default=None, description="with caseIds: only this type")


async def _ruleset_info(ruleset: models.Ruleset) -> RulesetInfo:
    rows = (
        await models.RulesetVersion.filter(ruleset=ruleset)
        .select_related("ruleset", "author", "activated_by")
        .order_by("version")
    )
    active = next((r.version for r in rows if r.status == "active"), None)
    return RulesetInfo(
        name=ruleset.name,
        owner_plugin=ruleset.owner_plugin,
        active_version=active,
        versions=[
            RulesetVersion.of(
                r,
                r.author.username if r.author else None,
                r.activated_by.username if r.activated_by else None,
            )
            for r in rows
        ],
        enabled=ruleset.enabled,
        center_id=ruleset.center_id,
    )


#: Events one ``simulateRulesetImpact`` request may evaluate (the CLI may take more).
IMPACT_LIMIT = 2000


@strawberry.type(description="One rule's changes of one kind, as impact analysis counts them.")
class ImpactCount:
    rule_id: str
    kind: str = strawberry.field(description="routed | dated | flagged | notified | rejected | other")
    change: str = strawberry.field(
        description="added (fires only with the candidate) | removed (only with the active) | changed"
    )
    cases: int = strawberry.field(description="cases affected")
    events: int = strawberry.field(description="events affected")


@strawberry.type(description="A case that would be handled differently, and how.")
class ImpactExample:
    case_id: strawberry.ID
    case_number: str = strawberry.field(description="The case's number (ZZ-...).")
    event_id: strawberry.ID
    event_type: str
    rule_id: str
    kind: str
    change: str
    before: strawberry.scalars.JSON = strawberry.field(
        description="the active version's actions: [[name, params]]"
    )
    after: strawberry.scalars.JSON = strawberry.field(description="the candidate's actions: [[name, params]]")


@strawberry.type(description="How many cases would be handled differently in one way.")
class KindCount:
    kind: str
    cases: int = strawberry.field(description="How many cases this kind of change touches.")


@strawberry.type(description="A rule that differs between two versions, with the keys that differ.")
class ChangedRule:
    rule_id: str
    fields: list[str] = strawberry.field(
        description="Which parts of the rule changed (when, then, priority, on)."
    )


@strawberry.type(description="Rules added, removed and changed from one version to another.")
class RulesetDiff:
    added: list[str] = strawberry.field(description="Ids of rules only the newer version has.")
    removed: list[str] = strawberry.field(description="Ids of rules only the older version has.")
    changed: list[ChangedRule] = strawberry.field(description="Rules in both versions that differ.")
    examples_changed: bool = strawberry.field(description="the tests: examples differ")

    @classmethod
    def of(cls, diff) -> RulesetDiff:
        return cls(
            added=diff.added,
            removed=diff.removed,
            changed=[ChangedRule(rule_id=c.rule_id, fields=c.fields) for c in diff.changed],
            examples_changed=diff.examples_changed,
        )


@strawberry.type(
    description="Impact before activation: a candidate against the active version. Writes nothing."
)
class RulesetImpact:
    ruleset: str
    active_version: int | None = strawberry.field(description="null: nothing active (or switched off)")
    candidate_version: int | None = strawberry.field(description="null: an unsaved source")
    events: int = strawberry.field(description="events of the window the rules listen to, evaluated")
    truncated: bool = strawberry.field(description="the window held more events than the limit")
    cases_considered: int = strawberry.field(description="Cases whose events in the window were evaluated.")
    cases_changed: int = strawberry.field(description="cases at least one rule would handle differently")
    by_kind: list[KindCount] = strawberry.field(
        description="Changed cases by kind of change (routed, dated, flagged, notified, rejected, other)."
    )
    by_rule: list[ImpactCount] = strawberry.field(description="Changes counted per rule.")
    examples: list[ImpactExample] = strawberry.field(description="up to 3 per rule, kind and change")
    diff: RulesetDiff | None = strawberry.field(description="against the active version's rules")


@strawberry.type(
    description="How one rule of one version did over a period: firings and its actions' outcomes."
)
class RuleStatistic:
    ruleset: str
    version: int
    rule_id: str
    firings: int = strawberry.field(description="distinct events the rule fired on")
    cases: int = strawberry.field(description="distinct cases it fired on")
    actions: int = strawberry.field(description="actions it took (one Decision each)")
    ok: int = strawberry.field(description="actions that succeeded")
    errors: int = strawberry.field(description="actions that failed (recorded as error decisions)")
    last_at: datetime | None = strawberry.field(description="its latest decision in the period")
    last_error: str = strawberry.field(description="the latest error's message, if any")


@strawberry.type
class RulesQuery:
    @strawberry.field(description="Every ruleset with its versions (rule authors and leaders).")
    async def rulesets(self, info: Info) -> list[RulesetInfo]:
        actor = actor_of(info)
        if not actor.has(Role.leader):
            svc.require_author(actor)
        return [await _ruleset_info(r) for r in await models.Ruleset.all().order_by("name")]

    @strawberry.field(
        description="Per-rule statistics over a period, for the cases of a center's subtree (default: "
        "yours): firings, errors and outcomes per rule and version (rule authors and leaders)."
    )
    async def rule_statistics(
        self,
        info: Info,
        center_id: strawberry.ID | None = None,
        period: Annotated[str | None, strawberry.argument(description="2026, 2026-Q3, 2026-10, …")] = None,
        from_: Annotated[date | None, strawberry.argument(name="from", description="first day")] = None,
        to: Annotated[date | None, strawberry.argument(description="last day (inclusive)")] = None,
        ruleset: Annotated[str | None, strawberry.argument(description="only this ruleset")] = None,
    ) -> list[RuleStatistic]:
        actor = actor_of(info)
        if not actor.has(Role.leader):
            svc.require_author(actor)
        scope = await scope_of(info, center_id)
        rows = await rule_stats.rule_statistics(scope, period_of(period, from_, to), ruleset)
        return [RuleStatistic(**vars(r)) for r in rows]

    @strawberry.field(description="Rules added, removed and changed between two stored versions.")
    async def ruleset_diff(
        self,
        info: Info,
        name: str,
        old_version: Annotated[int, strawberry.argument(description="the earlier version")],
        new_version: Annotated[int, strawberry.argument(description="the later version")],
    ) -> RulesetDiff:
        svc.require_author(actor_of(info))
        old = (await svc.get_version(name, old_version)).source
        new = (await svc.get_version(name, new_version)).source
        return RulesetDiff.of(rule_impact.diff_sources(old, new))

    @strawberry.field(description="Why the case is where it is: every automatic step and the rule behind it.")
    async def decisions(self, info: Info, case_id: strawberry.ID) -> list[Decision]:
        pk = pk_of(case_id, "Case", "caseId")
        if not await scoped_cases(actor_of(info)).filter(id=pk).exists():
            return []
        rows = await models.Decision.filter(case_id=pk).select_related("event").order_by("id")
        return [
            Decision(
                event_id=strawberry.ID(to_global_id("CaseEvent", r.event_id)),
                event_type=r.event.type,
                ruleset=r.ruleset,
                version=r.version,
                rule_id=r.rule_id,
                action_index=r.action_index,
                action=r.action,
                params=r.params,
                outcome=r.outcome,
                error=r.error,
                at=r.at,
            )
            for r in rows
        ]


async def _target_events(info: Info, target: SimulationTarget) -> list[int]:
    if target.event_ids:
        ids = [pk_of(e, "CaseEvent", f"events.eventIds[{i}]") for i, e in enumerate(target.event_ids)]
        # Events of cases outside the jurisdiction are left out, like unknown ones.
        return list(
            await visible(actor_of(info), models.CaseEvent).filter(id__in=ids).values_list("id", flat=True)
        )
    if target.case_ids:
        case_pks = [pk_of(c, "Case", f"events.caseIds[{i}]") for i, c in enumerate(target.case_ids)]
        seen = await visible(actor_of(info), models.Case).filter(id__in=case_pks).values_list("id", flat=True)
        query = models.CaseEvent.filter(case_id__in=list(seen))
        if target.event_type:
            query = query.filter(type=target.event_type)
        return list(await query.order_by("id").limit(500).values_list("id", flat=True))
    raise ValidationFailed("give eventIds or caseIds", field="events")


@strawberry.type
class RulesMutation:
    @strawberry.mutation(
        description="Save a new draft version. Invalid YAML is refused with rule, field and line."
    )
    async def save_ruleset_draft(self, info: Info, name: str, source: str) -> RulesetVersion:
        row = await svc.save_draft(actor_of(info), name, source)
        await row.fetch_related("ruleset")
        return RulesetVersion.of(row, actor_of(info).username)

    @strawberry.mutation(description="Simulate a stored version or a source on past events. Writes nothing.")
    async def simulate_ruleset(
        self,
        info: Info,
        events: SimulationTarget,
        name: str | None = None,
        version: int | None = None,
        source: str | None = None,
    ) -> list[SimulatedEvent]:
        if source is None:
            if name is None or version is None:
                raise ValidationFailed("give name and version, or source", field="source")
            source = (await svc.get_version(name, version)).source
        results = await svc.simulate_on_events(actor_of(info), source, await _target_events(info, events))
        return [
            SimulatedEvent(
                event_id=strawberry.ID(to_global_id("CaseEvent", s.event_id)) if s.event_id else None,
                case_id=strawberry.ID(to_global_id("Case", s.case_id)) if s.case_id else None,
                event_type=s.event_type,
                fired=[FiredRule.of(f) for f in s.firings],
            )
            for s in results
        ]

    @strawberry.mutation(
        description="Make a version active (an older one: rollback). Workers switch within seconds."
    )
    async def activate_ruleset_version(
        self,
        info: Info,
        name: str,
        version: int,
        reason: Annotated[
            str, strawberry.argument(description="why: kept with the version and audited")
        ] = "",
    ) -> RulesetVersion:
        row = await svc.activate(actor_of(info), name, version, reason)
        return RulesetVersion.of(row, activated_by=actor_of(info).username)

    @strawberry.mutation(
        description="Switch a ruleset off (its active version is not evaluated) or on again."
    )
    async def set_ruleset_enabled(
        self,
        info: Info,
        name: str,
        enabled: Annotated[bool, strawberry.argument(description="false: switch it off; true: on again")],
        reason: Annotated[str, strawberry.argument(description="why: audited")] = "",
    ) -> RulesetInfo:
        ruleset = await svc.set_enabled(actor_of(info), name, enabled, reason)
        return await _ruleset_info(ruleset)

    @strawberry.mutation(
        description="Impact before activation: what a stored version or a source would do differently from "
        "the active version on the past events of a window (within your jurisdiction). Writes nothing."
    )
    async def simulate_ruleset_impact(
        self,
        info: Info,
        name: str,
        since: Annotated[datetime, strawberry.argument(description="window start")],
        until: Annotated[datetime, strawberry.argument(description="window end")],
        version: Annotated[int | None, strawberry.argument(description="a stored version")] = None,
        source: Annotated[str | None, strawberry.argument(description="or an unsaved source")] = None,
        limit: Annotated[
            int, strawberry.argument(description=f"at most this many events (up to {IMPACT_LIMIT})")
        ] = 500,
    ) -> RulesetImpact:
        if (version is None) == (source is None):
            raise ValidationFailed("give version or source", field="version")
        if not 1 <= limit <= IMPACT_LIMIT:
            raise ValidationFailed(
                f"limit is 1 to {IMPACT_LIMIT} here; `zongzhi rules impact` takes larger windows",
                field="limit",
            )
        if source is None:
            source = (await svc.get_version(name, version)).source
        actor = actor_of(info)
        result = await rule_impact.impact(
            actor, name, source, since, until, candidate_version=version, limit=limit
        )
        active = await models.RulesetVersion.get_or_none(ruleset__name=name, status="active")
        diff = rule_impact.diff_sources(active.source, source) if active else None
        return RulesetImpact(
            ruleset=name,
            active_version=result.active_version,
            candidate_version=version,
            events=result.events,
            truncated=result.truncated,
            cases_considered=result.cases_considered,
            cases_changed=len(result.cases_changed),
            by_kind=[KindCount(kind=k, cases=len(v)) for k, v in result.by_kind.items()],
            by_rule=[
                ImpactCount(
                    rule_id=r.rule_id, kind=r.kind, change=r.change, cases=len(r.cases), events=r.events
                )
                for r in result.rows
            ],
            examples=[
                ImpactExample(
                    case_id=strawberry.ID(to_global_id("Case", x.case_id)),
                    case_number=x.case_number,
                    event_id=strawberry.ID(to_global_id("CaseEvent", x.event_id)),
                    event_type=x.event_type,
                    rule_id=x.rule_id,
                    kind=x.kind,
                    change=x.change,
                    before=x.before,
                    after=x.after,
                )
                for x in result.examples
            ],
            diff=RulesetDiff.of(diff) if diff else None,
        )

    @strawberry.mutation(description="部门报到: the summoned department answers a whistle.")
    async def answer_whistle(self, info: Info, whistle_id: strawberry.ID, answer: str) -> bool:
        await whistles.answer(actor_of(info), pk_of(whistle_id, "Whistle", "whistleId"), answer)
        return True
