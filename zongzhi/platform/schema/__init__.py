"""The GraphQL schema: Strawberry types, queries, mutations, loaders and limits."""

from __future__ import annotations

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from zongzhi.platform.base.settings import Settings
from zongzhi.platform.schema import types
from zongzhi.platform.schema.accounts import AccountsMutation, AccountsQuery
from zongzhi.platform.schema.assessment import AssessmentMutation, AssessmentQuery
from zongzhi.platform.schema.audit import AuditQuery
from zongzhi.platform.schema.calendar import CalendarMutation
from zongzhi.platform.schema.citizens import CitizensMutation, CitizensQuery
from zongzhi.platform.schema.cost import Limits, cost_rule
from zongzhi.platform.schema.directory import DirectoryQuery
from zongzhi.platform.schema.document_cache import DOCUMENT_CACHE_SIZE, ParsedDocuments
from zongzhi.platform.schema.enum_names import UpperCaseEnumValues, note_convention
from zongzhi.platform.schema.errors import CodedErrors, Schema
from zongzhi.platform.schema.evidence import EvidenceMutation, EvidenceQuery
from zongzhi.platform.schema.glossary import describe
from zongzhi.platform.schema.input_plans import plan_inputs
from zongzhi.platform.schema.live_session import LiveSession
from zongzhi.platform.schema.masterdata import MasterDataMutation
from zongzhi.platform.schema.mediators import MediatorsMutation, MediatorsQuery
from zongzhi.platform.schema.mutations import Mutation
from zongzhi.platform.schema.partners import PartnersMutation, PartnersQuery
from zongzhi.platform.schema.queries import Query
from zongzhi.platform.schema.registry import RegistryMutation, RegistryQuery
from zongzhi.platform.schema.reveal_audit import RevealAudit
from zongzhi.platform.schema.rules import RulesMutation, RulesQuery
from zongzhi.platform.schema.sanitise import SaneArguments
from zongzhi.platform.schema.stats import StatsQuery
from zongzhi.platform.schema.subscriptions import Subscription
from zongzhi.platform.schema.sweeps import SweepsMutation, SweepsQuery
from zongzhi.platform.schema.visits import VisitsMutation, VisitsQuery
from zongzhi.platform.schema.workspace import CorrectionsMutation, WorkspaceMutation, WorkspaceQuery

#: Concrete types reachable only through the ``Node`` interface must be listed for the schema.
NODE_IMPLEMENTATIONS = [
    types.Center,
    types.Department,
    types.Grid,
    types.Person,
    types.User,
    types.Case,
    types.CaseEvent,
    types.Assignment,
]


def build_schema(
    settings: Settings,
    *,
    extra_queries: tuple[type, ...] = (),
    extra_mutations: tuple[type, ...] = (),
    extra_types: tuple[type, ...] = (),
) -> strawberry.Schema:
    queries = (
        Query,
        EvidenceQuery,
        RulesQuery,
        PartnersQuery,
        StatsQuery,
        AuditQuery,
        AccountsQuery,
        RegistryQuery,
        VisitsQuery,
        DirectoryQuery,
        SweepsQuery,
        AssessmentQuery,
        MediatorsQuery,
        CitizensQuery,
        WorkspaceQuery,
        *extra_queries,
    )
    query = merge_types("Query", queries)
    mutations = (
        Mutation,
        EvidenceMutation,
        RulesMutation,
        CalendarMutation,
        PartnersMutation,
        AccountsMutation,
        MasterDataMutation,
        RegistryMutation,
        VisitsMutation,
        SweepsMutation,
        AssessmentMutation,
        MediatorsMutation,
        CitizensMutation,
        WorkspaceMutation,
        CorrectionsMutation,
        *extra_mutations,
    )
    mutation = merge_types("Mutation", mutations)
    # The limit rule is built once: the validation cache is keyed by the rule classes, and a
    # rule made per request would be a new class each time and never hit the cache.
    limits = [
        cost_rule(
            Limits(
                max_depth=settings.query_depth_max,
                max_aliases=settings.query_aliases_max,
                max_cost=settings.query_cost_max,
                page_max=settings.page_size_max,
            )
        )
    ]
    schema = Schema(
        query=query,
        mutation=mutation,
        subscription=Subscription,
        types=[*NODE_IMPLEMENTATIONS, *extra_types],
        config=StrawberryConfig(name_converter=UpperCaseEnumValues()),
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=settings.query_tokens_max),
            lambda: AddValidationRules(limits),
            ParsedDocuments,
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
            SaneArguments,
            CodedErrors,
            LiveSession,  # before RevealAudit: a message it withholds reveals nothing
            RevealAudit,
        ],
    )
    describe(schema._schema)
    note_convention(schema._schema)
    plan_inputs(schema._schema)
    return schema
