"""The compiled path's hook in ``/graphql``: answer a POSTed JSON query if it compiles, else ``None``.

A document is parsed, validated (the schema's rules and the same depth, alias, token and cost
limits as Strawberry applies) and planned once per (text, operation name), cached like the
parsed documents. Variables are coerced per request by graphql-core, as Strawberry does; any
problem in them, like any document outside the compiled subset, leaves the request to Strawberry.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, OrderedDict
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values

from zongzhi.platform.base.errors import ServiceError
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.readpath.execute import Runner
from zongzhi.platform.readpath.selection import NotCompilable, plan_operation
from zongzhi.platform.schema.cost import Limits, cost_rule
from zongzhi.platform.schema.document_cache import DOCUMENT_CACHE_SIZE

log = logging.getLogger(__name__)
_FALLBACK = object()


class CompiledReads:
    """Per endpoint: its schema's plans, by (document text, operation name)."""

    def __init__(self, schema: GraphQLSchema, settings: Any) -> None:
        self.schema = schema
        self.settings = settings
        self.rules = [
            *specified_rules,
            cost_rule(
                Limits(
                    max_depth=settings.query_depth_max,
                    max_aliases=settings.query_aliases_max,
                    max_cost=settings.query_cost_max,
                    page_max=settings.page_size_max,
                )
            ),
        ]
        self.plans: OrderedDict[tuple[str, str | None], Any] = OrderedDict()
        #: ``compiled`` and ``resolvers``: how requests were answered (for tests and debugging).
        self.counts: Counter[str] = Counter()

    def plan(self, query: str, operation_name: str | None) -> Any:
        key = (query, operation_name)
        cached = self.plans.get(key)
        if cached is not None:
            self.plans.move_to_end(key)
            return cached
        try:
            plan = self._compile(query, operation_name)
        except NotCompilable:
            plan = _FALLBACK
        except Exception:  # a bug here must cost speed, never the answer
            log.exception("compiling a document failed; it goes through the resolvers")
            plan = _FALLBACK
        self.plans[key] = plan
        if len(self.plans) > DOCUMENT_CACHE_SIZE:
            self.plans.popitem(last=False)
        return plan

    def _compile(self, query: str, operation_name: str | None) -> tuple:
        try:  # not through ``_parsed``: its cache statistics are Strawberry's (tests read them)
            document = parse(query, max_tokens=self.settings.query_tokens_max)
        except GraphQLError:
            raise NotCompilable("does not parse") from None
        if validate(self.schema, document, self.rules):
            raise NotCompilable("does not validate")
        operation = get_operation_ast(document, operation_name)
        if not isinstance(operation, OperationDefinitionNode):
            raise NotCompilable("no such operation")
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        roots = plan_operation(self.schema, operation, fragments)
        name = (
            operation_name
            if operation_name is not None
            else (operation.name.value if operation.name else None)
        )
        return operation, roots, name

    async def answer(self, body: bytes, actor: Actor) -> tuple[dict, str | None, set[int]] | None:
        """``({"data": ...}, operation name, people revealed)``, or ``None`` for the resolvers."""
        answered = await self._answer(body, actor)
        self.counts["compiled" if answered is not None else "resolvers"] += 1
        return answered

    async def _answer(self, body: bytes, actor: Actor) -> tuple[dict, str | None, set[int]] | None:
        try:
            request = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return None
        operation_name = request.get("operationName")
        variables = request.get("variables")
        if (operation_name is not None and not isinstance(operation_name, str)) or (
            variables is not None and not isinstance(variables, dict)
        ):
            return None
        plan = self.plan(request["query"], operation_name)
        if plan is _FALLBACK:
            return None
        operation, roots, name = plan
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):  # errors
            return None
        runner = Runner(self.schema, self.settings, actor, coerced)
        try:
            data, revealed = await runner.run(roots)
        except (NotCompilable, ServiceError):
            return None
        except Exception:
            log.exception("a compiled read failed; the request goes through the resolvers")
            return None
        return {"data": data}, name, revealed
