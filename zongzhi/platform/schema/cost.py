"""What a document may ask for: depth, aliases and cost, measured once per fragment.

A validation rule, so the validation cache keeps its verdict per document text. Strawberry's own
depth and alias limiters expand every fragment spread where it is used, which is exponential in a
ladder of fragments that each spread the next one twice (``query{...F0} fragment F0 on Query{...F1
...F1} ...``): 21 levels took seconds before any limit was checked. Here each fragment is measured
once and its measure reused wherever it is spread, so the ladder's cost (doubling per level) is
known in microseconds and refused.

The cost of a field is its own weight (1, or more for the expensive fields in ``FIELD_COSTS``)
plus its selections' cost times how many objects it may return: ``first``/``limit`` when given
(a variable counts as the largest page), ``LIST_GUESS`` for other lists of objects. Fragments and
inline fragments on the same object all count (an upper bound). Introspection fields are not
measured: their size is the schema's.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

#: Weights of fields whose work is far more than a row read (queries of whole periods, rendering).
FIELD_COSTS: dict[tuple[str, str], int] = {
    ("Query", "report"): 1000,
    ("Report", "pdfBase64"): 5000,
    ("Report", "markdown"): 200,
    ("Report", "csv"): 200,
    ("Query", "statistics"): 1000,
    ("Query", "hotSpots"): 1000,
    ("Query", "earlyWarning"): 1000,
    ("Subscription", "earlyWarning"): 1000,
    ("Mutation", "simulateRuleset"): 2000,
    ("Mutation", "simulateRulesetImpact"): 4000,
}
#: Fields whose ``limit`` bounds the work done (events evaluated), not the objects returned: their
#: answer is one object, weighed in ``FIELD_COSTS``.
WORK_LIMITS = frozenset({("Mutation", "simulateRulesetImpact")})
#: How many objects a list without ``first``/``limit`` is taken to hold.
LIST_GUESS = 10
#: Arguments that bound how many objects a field returns.
COUNT_ARGUMENTS = ("first", "limit")
#: Lists inside a connection: their length is the connection's ``first``.
PAGE_LISTS = frozenset({"edges"})

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int
    page_max: int


@dataclass(frozen=True)
class Measure:
    cost: int = 0
    depth: int = 0
    aliases: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(self.cost + other.cost, max(self.depth, other.depth), self.aliases + other.aliases)


class _Measurer:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], limits: Limits):
        self.schema = schema
        self.fragments = fragments
        self.limits = limits
        self.memo: dict[str, Measure] = {}
        self.open: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None, parent) -> Measure:
        total = Measure()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total + self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total = total + self.selections(selection.selection_set, inner or parent)
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> Measure:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.open:  # unknown or cyclic: other rules report it
            return Measure()
        self.open.add(name)
        parent = self.schema.get_type(definition.type_condition.name.value)
        measure = self.selections(definition.selection_set, parent)
        self.open.discard(name)
        self.memo[name] = measure
        return measure

    def field(self, node: FieldNode, parent) -> Measure:
        name = node.name.value
        aliases = 1 if node.alias else 0
        if name.startswith("__"):
            return Measure(cost=1, aliases=aliases)
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        own = FIELD_COSTS.get((getattr(parent, "name", ""), name), 1)
        if definition is None or node.selection_set is None:
            return Measure(cost=own, aliases=aliases)
        inner = self.selections(node.selection_set, get_named_type(definition.type))
        count = 1 if (getattr(parent, "name", ""), name) in WORK_LIMITS else self._count(node, definition)
        return Measure(cost=own + count * inner.cost, depth=1 + inner.depth, aliases=aliases + inner.aliases)

    def _count(self, node: FieldNode, definition) -> int:
        for argument in node.arguments or ():
            if argument.name.value in COUNT_ARGUMENTS:
                if isinstance(argument.value, IntValueNode):
                    return max(int(argument.value.value), 0)
                return self.limits.page_max
        for name in COUNT_ARGUMENTS:
            default = definition.args.get(name).default_value if name in definition.args else None
            if isinstance(default, int):
                return max(default, 0)
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if isinstance(field_type, GraphQLList) and node.name.value not in PAGE_LISTS:
            return LIST_GUESS
        return 1


def measure_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    limits: Limits,
    measurer: _Measurer | None = None,
) -> Measure:
    measurer = measurer or _Measurer(schema, fragments, limits)
    root = schema.get_root_type(operation.operation)
    return measurer.selections(operation.selection_set, root)


def cost_rule(limits: Limits) -> type[ValidationRule]:
    """A validation rule refusing operations over the depth, alias or cost limit."""

    class CostRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            measurer = _Measurer(context.schema, fragments, limits)
            for operation in document.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    self._check(
                        operation, measure_operation(context.schema, operation, fragments, limits, measurer)
                    )

        def _check(self, operation: OperationDefinitionNode, measure: Measure) -> None:
            name = operation.name.value if operation.name else "anonymous"
            if measure.depth > limits.max_depth:
                self.report_error(
                    GraphQLError(
                        f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                        operation,
                        extensions={"code": "GRAPHQL_VALIDATION"},
                    )
                )
            if measure.aliases > limits.max_aliases:
                self.report_error(
                    GraphQLError(
                        f"{measure.aliases} aliases found. Allowed: {limits.max_aliases}",
                        operation,
                        extensions={"code": "GRAPHQL_VALIDATION"},
                    )
                )
            if measure.cost > limits.max_cost:
                self.report_error(
                    GraphQLError(
                        f"'{name}' would cost {measure.cost}, over the budget of {limits.max_cost}; "
                        "ask for fewer objects or expensive fields per request",
                        operation,
                        extensions={
                            "code": QUERY_TOO_COSTLY,
                            "cost": measure.cost,
                            "budget": limits.max_cost,
                        },
                    )
                )

    return CostRule
