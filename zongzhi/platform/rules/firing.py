"""What evaluating a fact returns: one :class:`Firing` per matching rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Firing:
    ruleset: str
    version: int
    rule_id: str
    priority: int
    actions: tuple[tuple[str, dict[str, Any]], ...]
    rule_index: int = 0


def firing_order(firing: Firing) -> tuple[int, int]:
    """Higher priority first, then the rule's position in its ruleset."""
    return (-firing.priority, firing.rule_index)
