"""Rule authoring and explanation over GraphQL: versions, drafts, simulation, activation, decisions."""

from __future__ import annotations

from datetime import datetime

import strawberry

from zongzhi.platform import models
from zongzhi.platform.codes import Role
from zongzhi.platform.errors import ValidationFailed
from zongzhi.platform.jurisdiction import scoped_cases, visible
from zongzhi.platform.rules import Firing
from zongzhi.platform.schema import types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.services import rulesets as svc
from zongzhi.platform.services import whistles


@strawberry.type(description="One version of a ruleset: its YAML source and who wrote and activated it.")
class RulesetVersion:
    name: str
    version: int
    status: str = strawberry.field(description="draft | active | retired")
    source: str
    created_at: datetime
    activated_at: datetime | None
    author: str | None

    @classmethod
    def of(cls, row: models.RulesetVersion, author: str | None = None) -> RulesetVersion:
        return cls(
            name=row.ruleset.name,
            version=row.version,
            status=row.status,
            source=row.source,
            created_at=row.created_at,
            activated_at=row.activated_at,
            author=author,
        )


@strawberry.type
class RulesetInfo:
    name: str
    owner_plugin: str | None
    active_version: int | None
    versions: list[RulesetVersion]
    center_id: strawberry.Private[int | None]

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
        .select_related("ruleset", "author")
        .order_by("version")
    )
    active = next((r.version for r in rows if r.status == "active"), None)
    return RulesetInfo(
        name=ruleset.name,
        owner_plugin=ruleset.owner_plugin,
        active_version=active,
        versions=[RulesetVersion.of(r, r.author.username if r.author else None) for r in rows],
        center_id=ruleset.center_id,
    )


@strawberry.type
class RulesQuery:
    @strawberry.field(description="Every ruleset with its versions (rule authors and leaders).")
    async def rulesets(self, info: Info) -> list[RulesetInfo]:
        actor = actor_of(info)
        if not actor.has(Role.leader):
            svc.require_author(actor)
        return [await _ruleset_info(r) for r in await models.Ruleset.all().order_by("name")]

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
    async def activate_ruleset_version(self, info: Info, name: str, version: int) -> RulesetVersion:
        row = await svc.activate(actor_of(info), name, version)
        return RulesetVersion.of(row)

    @strawberry.mutation(description="部门报到: the summoned department answers a whistle.")
    async def answer_whistle(self, info: Info, whistle_id: strawberry.ID, answer: str) -> bool:
        await whistles.answer(actor_of(info), pk_of(whistle_id, "Whistle", "whistleId"), answer)
        return True
