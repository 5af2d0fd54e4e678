"""Markdown, CSV and PDF from one ``Report``."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from zongzhi.platform.reports.build import Report
from zongzhi.platform.reports.tables import tables
from zongzhi.platform.stats import definitions

FORMATS = ("md", "csv", "pdf")
UNIT_LABELS = {"day": "日", "week": "周", "month": "月"}


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: Report) -> str:
    p = report.period
    lines = [
        f"# {report.title}",
        "",
        f"统计期间：{p.start.isoformat()} 至 {(p.end - timedelta(days=1)).isoformat()}（北京时间）"
        f"　生成时间：{report.generated_at:%Y-%m-%d %H:%M}",
        "",
    ]
    for title, header, rows in tables(report):
        lines += [f"## {title}", ""]
        if not rows:
            lines += ["（无）", ""]
            continue
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
    unit = UNIT_LABELS[report.stats.trend_unit]
    lines += [
        f"## 趋势 Trend（按{unit}）",
        "",
        "| 起始日 | 受理 | 调处成功 | 调处失败 |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t.start.isoformat()} | {t.received} | {t.resolved} | {t.failed} |" for t in report.stats.trend
    ]
    lines += ["", "## 指标口径 Definitions", ""]
    lines += [f"- **{name}**: {text}" for name, text in definitions.ALL.items()]
    return "\n".join(lines) + "\n"


def csv_text(report: Report) -> str:
    """One CSV: ``section, then the table's own columns``; sections follow the Markdown report."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "c1", "c2", "c3", "c4", "c5", "c6"])
    w.writerow(["report", report.title, report.period.label, report.generated_at.isoformat()])
    for title, header, rows in tables(report):
        w.writerow([title, *header])
        for row in rows:
            w.writerow([title, *row])
    title = "趋势 Trend"
    w.writerow([title, "start", "received", "resolved", "failed"])
    for t in report.stats.trend:
        w.writerow([title, t.start.isoformat(), t.received, t.resolved, t.failed])
    return out.getvalue()


def render(report: Report, fmt: str) -> bytes:
    if fmt == "md":
        return markdown(report).encode("utf-8")
    if fmt == "csv":
        return ("\ufeff" + csv_text(report)).encode("utf-8")  # the BOM makes Excel read it as UTF-8
    if fmt == "pdf":
        from zongzhi.platform.reports.pdf import pdf

        return pdf(report)
    raise ValueError(f"format is one of {', '.join(FORMATS)}, not {fmt!r}")
