"""A validated operation → the plan of what it asks for, or ``NotCompilable``.

Fields are collected as graphql-core collects them (fragments and inline fragments whose type
condition applies, fields of one response key merged, in the order of their first appearance), so
the answer's keys come in the order the resolver path gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    get_named_type,
)

from zongzhi.platform.readpath.catalogue import TYPES, Embedded, Leaf, Relation


class NotCompilable(Exception):
    """The request goes through the resolvers (the reason is for tests and debugging)."""


#: Root fields the compiled path answers.
ROOTS = ("cases", "case", "node", "workQueues", "notifications", "unreadNotificationCount")

CONNECTION_FIELDS = {
    "CaseConnection": {"edges", "pageInfo", "totalCount"},
    "CaseEdge": {"cursor", "node"},
    "PageInfo": {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"},
    "WorkQueueCount": {"queue", "label", "count"},
    "NotificationConnection": {"edges", "pageInfo", "totalCount"},
    "NotificationEdge": {"cursor", "node"},
}


@dataclass
class ObjectPlan:
    """The selection on one object type: entries in answer order, and what the SQL must read."""

    type_name: str
    entries: list[tuple] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    relations: list[tuple[str, Relation, ObjectPlan]] = field(default_factory=list)
    has_person: bool = False

    def need(self, columns: tuple[str, ...]) -> None:
        for c in columns:
            if c not in self.columns:
                self.columns.append(c)


@dataclass
class RootPlan:
    key: str
    name: str
    node: FieldNode
    case: ObjectPlan | None = None  # for ``case``/``node``; for ``cases`` the edges' node
    connection: list[tuple] | None = None  # for ``cases``: the connection's entries
    total: bool = False
    #: The case object's SQL per (dialect, sort key reference), made on first use.
    object_sql: dict[tuple[str, str | None], str] = field(default_factory=dict)


class Planner:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments

    def _applies(self, condition: str | None, type_name: str) -> bool:
        if condition is None or condition == type_name:
            return True
        abstract = self.schema.get_type(condition)
        concrete = self.schema.get_type(type_name)
        return bool(abstract and concrete and self.schema.is_sub_type(abstract, concrete))  # type: ignore[arg-type]

    def collect(self, nodes: list[FieldNode], type_name: str) -> dict[str, list[FieldNode]]:
        """The sub-fields of ``nodes`` on ``type_name`` by response key, in graphql-core's order."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def walk(selection_set) -> None:
            for selection in selection_set.selections:
                if selection.directives:
                    raise NotCompilable("a directive")
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition.name.value if selection.type_condition else None
                    if self._applies(condition, type_name):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.fragments.get(name)
                    if fragment is None:
                        raise NotCompilable(f"unknown fragment {name}")
                    if fragment.directives:
                        raise NotCompilable("a directive")
                    if self._applies(fragment.type_condition.name.value, type_name):
                        walk(fragment.selection_set)

        for node in nodes:
            if node.selection_set is not None:
                walk(node.selection_set)
        return fields

    def _serializer(self, type_name: str, field_name: str):
        gql_type = self.schema.get_type(type_name).fields[field_name].type  # type: ignore[union-attr]
        inner = gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type
        return get_named_type(gql_type).serialize, isinstance(inner, GraphQLList)

    def object(self, nodes: list[FieldNode], type_name: str) -> ObjectPlan:
        spec = TYPES.get(type_name)
        if spec is None:
            raise NotCompilable(f"type {type_name}")
        plan = ObjectPlan(type_name, has_person=type_name == "Person")
        for key, field_nodes in self.collect(nodes, type_name).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                plan.entries.append((key, "typename", type_name, None, None))
                continue
            if field_nodes[0].arguments:
                raise NotCompilable(f"arguments on {type_name}.{name}")
            definition = spec.fields.get(name)
            if definition is None:
                raise NotCompilable(f"{type_name}.{name}")
            if isinstance(definition, Leaf):
                serialize, is_list = self._serializer(type_name, name)
                plan.need(definition.columns)
                if definition.repeats and not is_list:
                    memo: dict = {}
                    plan.entries.append((key, "repeating", definition, serialize, memo))
                else:
                    plan.entries.append((key, "leaf", definition.value, serialize, is_list))
            elif isinstance(definition, Embedded):
                child = self.object(field_nodes, definition.target)
                plan.need(definition.columns)
                kind = "embedded_many" if definition.many else "embedded"
                plan.entries.append((key, kind, definition.make, child, None))
            else:
                child = self.object(field_nodes, definition.target)
                plan.need(definition.columns)
                for carried in definition.carry:
                    child.need(("id",))
                    plan.need((carried,))
                plan.has_person = plan.has_person or child.has_person
                rel_key = f"_{key}"
                plan.relations.append((rel_key, definition, child))
                kind = "many" if definition.many else "one"
                plan.entries.append((key, kind, rel_key, child, definition.carry))
        return plan

    def connection(self, root: RootPlan, nodes: list[FieldNode], node_type: str = "Case") -> None:
        """A connection of ``node_type`` (``CaseConnection``, ``NotificationConnection``): its
        entries, and the node's plan in ``root.case``."""
        connection_type, edge_type = f"{node_type}Connection", f"{node_type}Edge"
        entries: list[tuple] = []
        for key, field_nodes in self.collect(nodes, connection_type).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                entries.append((key, "typename", connection_type, None))
            elif name == "totalCount":
                root.total = True
                entries.append((key, "totalCount", None, None))
            elif name == "pageInfo":
                entries.append((key, "pageInfo", self._simple(field_nodes, "PageInfo"), None))
            elif name == "edges":
                edge: list[tuple] = []
                for edge_key, edge_nodes in self.collect(field_nodes, edge_type).items():
                    edge_name = edge_nodes[0].name.value
                    if edge_name == "__typename":
                        edge.append((edge_key, "typename", edge_type))
                    elif edge_name == "cursor":
                        edge.append((edge_key, "cursor", None))
                    elif edge_name == "node":
                        case = self.object(edge_nodes, node_type)
                        if root.case is not None:  # two keys for the node: one plan per key
                            raise NotCompilable("edges.node under two keys")
                        root.case = case
                        edge.append((edge_key, "node", case))
                    else:
                        raise NotCompilable(f"{edge_type}.{edge_name}")
                entries.append((key, "edges", edge, None))
            else:
                raise NotCompilable(f"{connection_type}.{name}")
        if sum(1 for e in entries if e[1] == "edges") > 1:
            raise NotCompilable("edges under two keys")
        root.connection = entries

    def _simple(self, nodes: list[FieldNode], type_name: str) -> list[tuple[str, str]]:
        out = []
        for key, field_nodes in self.collect(nodes, type_name).items():
            name = field_nodes[0].name.value
            if name != "__typename" and name not in CONNECTION_FIELDS[type_name]:
                raise NotCompilable(f"{type_name}.{name}")
            out.append((key, name))
        return out


def plan_operation(
    schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[RootPlan | tuple[str, str]]:
    """The operation's root fields as plans (``(key, "__typename")`` for a typename)."""
    if operation.operation.value != "query":
        raise NotCompilable("not a query")
    if operation.directives:
        raise NotCompilable("a directive")
    planner = Planner(schema, fragments)
    query_type = schema.query_type.name  # type: ignore[union-attr]
    roots: list[RootPlan | tuple[str, str]] = []
    fake = FieldNode(name=NameNode(value=query_type), selection_set=operation.selection_set)
    for key, nodes in planner.collect([fake], query_type).items():
        name = nodes[0].name.value
        if name == "__typename":
            roots.append((key, query_type))
            continue
        if name not in ROOTS:
            raise NotCompilable(f"Query.{name}")
        root = RootPlan(key, name, nodes[0])
        if name == "cases":
            planner.connection(root, nodes)
        elif name == "workQueues":
            root.connection = planner._simple(nodes, "WorkQueueCount")
        elif name == "notifications":
            planner.connection(root, nodes, "Notification")
            root.case = root.case or ObjectPlan("Notification")
            root.case.need(("id",))  # the cursor's
        elif name == "unreadNotificationCount":
            pass
        else:  # ``node`` is compiled for a Case; another type's ID goes through the resolvers
            root.case = planner.object(nodes, "Case")
        roots.append(root)
    return roots
