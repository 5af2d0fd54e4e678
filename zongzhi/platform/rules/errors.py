"""Errors a rule author sees: each names the rule, the field inside it and the YAML line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleError:
    rule_id: str | None
    field_path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.rule_id is not None:
            where.append(f"rule '{self.rule_id}'")
        if self.field_path:
            where.append(f"field '{self.field_path}'")
        text = ", ".join(where)
        text = f"{text}: {self.message}" if text else self.message
        if self.line is not None:
            text += f" (line {self.line})"
        return text


class RulesetInvalid(ValueError):
    """A ruleset failed to parse or validate; ``errors`` lists every problem found, in source order."""

    def __init__(self, errors: list[RuleError]):
        self.errors = sorted(errors, key=lambda e: (e.line is None, e.line or 0, e.field_path))
        super().__init__("; ".join(str(e) for e in self.errors))
