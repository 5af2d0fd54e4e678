"""The PDF report: headline and tables, a bar chart by category and a trend line (matplotlib).

Pages are A4 portrait, laid out top to bottom; a table that does not fit goes to the next page.
Chinese text needs a CJK font: the first installed one of ``CJK_FONTS`` is used (the Docker image
installs WenQuanYi Micro Hei, Debian's ``fonts-wqy-microhei``); without one the PDF is still
written, with a warning in the log, but Chinese glyphs show as boxes.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from zongzhi.platform.reports.build import Report
from zongzhi.platform.reports.tables import Table, tables

if TYPE_CHECKING:  # matplotlib is imported when a PDF is made: importing it writes a font cache
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

CJK_FONTS = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
PAGE = (8.27, 11.69)  # A4, inches
MARGIN = 0.6
ROW = 0.24  # inches per table row
TITLE = 0.4
MAX_ROWS = 40


@cache
def cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in installed), None)
    if found is None:
        log.warning("no CJK font installed (e.g. fonts-wqy-microhei): Chinese text in PDFs shows as boxes")
    return found


class _Pages:
    """A top-to-bottom flow of blocks over A4 pages."""

    def __init__(self, pdf: PdfPages, font: list[str], footer: str) -> None:
        self.pdf, self.font, self.footer = pdf, font, footer
        self.fig: Figure | None = None
        self.y = 0.0
        self.number = 0

    def _new(self) -> Figure:
        from matplotlib.figure import Figure

        self.flush()
        self.fig = Figure(figsize=PAGE)
        self.number += 1
        self.y = PAGE[1] - MARGIN
        self.fig.text(
            0.5,
            0.25 / PAGE[1],
            f"{self.footer}　第 {self.number} 页",
            ha="center",
            fontsize=7,
            family=self.font,
        )
        return self.fig

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def space(self, height: float) -> Figure:
        if self.fig is None or self.y - height < MARGIN:
            self._new()
        assert self.fig is not None
        return self.fig

    def axes(self, height: float, left: float = 0.0):
        fig = self.space(height)
        w, h = PAGE
        x = MARGIN + left
        ax = fig.add_axes((x / w, (self.y - height) / h, (w - MARGIN - x) / w, height / h))
        self.y -= height
        return ax

    def text(self, text: str, size: float = 11, weight: str = "normal", gap: float = 0.1) -> None:
        height = size / 72 * 1.6
        fig = self.space(height + gap)
        fig.text(
            MARGIN / PAGE[0],
            (self.y - height) / PAGE[1],
            text,
            fontsize=size,
            weight=weight,
            family=self.font,
        )
        self.y -= height + gap

    def table(self, table: Table) -> None:
        title, header, rows = table
        rows = rows[:MAX_ROWS] if rows else [["（无）"] + [""] * (len(header) - 1)]
        self.space(TITLE + ROW * (len(rows) + 1) + 0.2)
        self.text(title, size=11, weight="bold", gap=0.08)
        ax = self.axes(ROW * (len(rows) + 1))
        ax.axis("off")
        cells = [[_fit(c, 28 if len(header) > 3 else 40) for c in row] for row in rows]
        t = ax.table(cellText=cells, colLabels=header, loc="upper left", cellLoc="left", bbox=(0, 0, 1, 1))
        t.auto_set_font_size(False)
        t.set_fontsize(8)
        for (r, _c), cell in t.get_celld().items():
            cell.get_text().set_family(self.font)
            if r == 0:
                cell.set_facecolor("#e8eef7")
                cell.get_text().set_weight("bold")
        self.y -= 0.2


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _category_chart(pages: _Pages, report: Report) -> None:
    items = sorted((c for c in report.stats.by_category if c.count), key=lambda c: -c.count)[:15]
    pages.text("按类别受理件数 Cases by category", size=11, weight="bold", gap=0.02)
    ax = pages.axes(3.6, left=0.9)
    if not items:
        ax.text(0.5, 0.5, "本期无受理案件", ha="center", family=pages.font)
        ax.axis("off")
        return
    labels = [c.label for c in reversed(items)]
    counts = [c.count for c in reversed(items)]
    bars = ax.barh(labels, counts, color="#3b6fb6")
    ax.bar_label(bars, padding=2, fontsize=7)
    ax.set_xlabel("件数", family=pages.font)
    for label in ax.get_yticklabels():
        label.set_family(pages.font)
        label.set_fontsize(8)
    ax.spines[["top", "right"]].set_visible(False)
    pages.y -= 0.5


def _trend_chart(pages: _Pages, report: Report) -> None:
    trend = report.stats.trend
    unit = {"day": "日", "week": "周", "month": "月"}[report.stats.trend_unit]
    pages.text(f"受理与调处趋势（按{unit}）Trend", size=11, weight="bold", gap=0.02)
    ax = pages.axes(3.0)
    xs = [t.start for t in trend]
    ax.plot(xs, [t.received for t in trend], marker="o", markersize=3, label="受理 received", color="#3b6fb6")
    ax.plot(
        xs, [t.resolved for t in trend], marker="s", markersize=3, label="调处成功 resolved", color="#2e8b57"
    )
    ax.plot(xs, [t.failed for t in trend], marker="^", markersize=3, label="调处失败 failed", color="#c0392b")
    ax.legend(prop={"family": pages.font, "size": 8}, frameon=False)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", labelsize=7, rotation=30)
    ax.set_ylim(bottom=0)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    pages.y -= 0.6


def pdf(report: Report) -> bytes:
    from matplotlib.backends.backend_pdf import PdfPages

    # CJK fonts come in one weight; matplotlib would warn on every bold heading that it used it.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    font_name = cjk_font()
    font = [font_name, "DejaVu Sans"] if font_name else ["DejaVu Sans"]
    out = io.BytesIO()
    p = report.period
    last = p.end - timedelta(days=1)
    with PdfPages(out, metadata={"Title": report.title, "Creator": "zongzhi"}) as doc:
        pages = _Pages(doc, font, report.title)
        all_tables = tables(report)
        pages.text(report.title, size=16, weight="bold", gap=0.05)
        pages.text(
            f"统计期间 {p.start.isoformat()} 至 {last.isoformat()}（北京时间）"
            f"　生成于 {report.generated_at:%Y-%m-%d %H:%M}",
            size=9,
            gap=0.25,
        )
        pages.table(all_tables[0])
        pages.table(all_tables[3])
        pages.flush()
        _category_chart(pages, report)
        _trend_chart(pages, report)
        pages.flush()
        for table in all_tables[1:3] + all_tables[4:]:
            pages.table(table)
        pages.flush()
    return out.getvalue()
