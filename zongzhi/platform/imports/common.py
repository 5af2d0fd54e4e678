"""What every import shares: rows read from CSV, problems per row and field, the report."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain import audit
from zongzhi.platform.domain.actor import Actor


@dataclass(frozen=True)
class Problem:
    """One bad row: where (``line 4`` or ``feature 2``), which field, and what is wrong."""

    row: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.row}, {self.field}: {self.message}"


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        if self.problems:
            out = [
                f"import {self.kind}: {len(self.problems)} problem(s) in {self.rows} row(s); "
                "nothing was written"
            ]
            return out + [f"  {p}" for p in self.problems]
        out = [
            f"import {self.kind}: {self.rows} row(s): {len(self.created)} created, "
            f"{len(self.updated)} updated, {self.unchanged} unchanged"
        ]
        return out + [f"  {n}" for n in self.notes]

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            **({"notes": self.notes} if self.notes else {}),
        }


class ImportRefused(ValidationFailed):
    """The file had bad rows; nothing was written. ``report`` names them."""

    def __init__(self, report: ImportReport) -> None:
        first = report.problems[0]
        super().__init__(f"{len(report.problems)} bad row(s), first: {first}", field=first.field)
        self.report = report


def read_csv(path: Path | str, required: list[str]) -> list[tuple[str, dict[str, str]]]:
    """``(line label, row)`` for each data row, stripped; a missing column refuses the whole file."""
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationFailed(f"{Path(path).name} lacks column(s): {', '.join(missing)}", field=missing[0])
    rows = []
    for raw in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        rows.append((f"line {reader.line_num}", row))
    return rows


def split_list(value: str) -> list[str]:
    """A cell holding several values, separated by ``|``, ``;``, ``、`` or ``,``."""
    for sep in (";", "、", ","):
        value = value.replace(sep, "|")
    return [v.strip() for v in value.split("|") if v.strip()]


def refuse_if_bad(report: ImportReport) -> None:
    if report.problems:
        raise ImportRefused(report)


async def record(actor: Actor, report: ImportReport, source: str) -> None:
    details = {"file": source, **report.summary()}
    if actor.user_id is None:
        details["by"] = actor.display
    await audit.record(f"import.{report.kind}", report.kind, actor_id=actor.user_id, details=details)
