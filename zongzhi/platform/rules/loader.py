"""YAML loading that remembers where every value came from.

Two departures from PyYAML's ``safe_load``, both so that what a rule author types means what they
think: booleans are only ``true``/``false`` (YAML 1.1 also reads ``on``, ``off``, ``yes`` and ``no`` as
booleans, which would turn the ``on:`` key itself into ``True``), and every mapping key and sequence
item keeps its line number for error messages.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import RuleError, RulesetInvalid

Path = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))


def _to_python(node: yaml.Node, loader: _Loader, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                key = str(key)
            child = (*path, key if isinstance(key, str) else str(key))
            result[key] = _to_python(value_node, loader, child, lines)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, loader, (*path, i), lines) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml(source: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text; return the data and a map from each value's path to its 1-based line."""
    loader = _Loader(source)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        rule = _rule_before(source, line) if line is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        text = f"{context}: {problem}" if context else problem
        raise RulesetInvalid([RuleError(rule, "", f"not valid YAML ({text})", line)]) from None
    finally:
        loader.dispose()
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    return _to_python(node, loader, (), lines), lines


_RULE_ID = re.compile(r"""^\s*(?:-\s*)?id:\s*["']?([^"'#\s]+)""")


def _rule_before(source: str, line: int) -> str | None:
    """The id of the rule a YAML syntax error at ``line`` is in: the last ``id:`` at or before it."""
    for text in reversed(source.splitlines()[:line]):
        found = _RULE_ID.match(text)
        if found:
            return found.group(1)
    return None


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = path[:-1]
