"""The report's tables as rows of text, shared by the Markdown, CSV and PDF renderers."""

from __future__ import annotations

from datetime import datetime

from zongzhi.platform.reports.build import CaseLine, Report
from zongzhi.platform.stats.figures import Count
from zongzhi.platform.stats.period import TZ
from zongzhi.platform.stats.practices import PracticeFigures

Table = tuple[str, list[str], list[list[str]]]  # title, header, rows


def _share(n: int, total: int) -> str:
    return f"{n / total * 100:.1f}%" if total else "—"


def count_table(title: str, items: list[Count], total: int, *, keep_zero: bool = False) -> Table:
    rows = [[i.label, str(i.count), _share(i.count, total)] for i in items if keep_zero or i.count]
    return title, ["项目", "件数", "占比"], rows


def _when(value: datetime | None) -> str:
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if value else "—"


def case_table(title: str, lines: list[CaseLine]) -> Table:
    rows = [[c.number, c.title, c.center, c.status, c.risk, _when(c.resolve_by)] for c in lines]
    return title, ["编号", "标题", "承办中心", "状态", "风险", "办结期限"], rows


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def practice_tables(p: PracticeFigures) -> list[Table]:
    """排查完成率, 积分排名 and 调解员 figures (the seeds' practices)."""
    return [
        (
            "排查完成率 Sweep completion",
            ["中心", "期次", "任务", "完成", "超期未完成", "完成率"],
            [
                [c.center_name, c.period, str(c.tasks), str(c.done), str(c.overdue_open), _rate(c.rate)]
                for c in p.sweeps
            ],
        ),
        (
            "积分排名 Assessment ranking",
            ["排名", "类型", "名称", "中心积分", "加权得分"],
            [
                [
                    str(i),
                    {"person": "人员", "department": "部门", "center": "中心"}[s.kind],
                    s.name,
                    f"{s.center_score:g}",
                    "—" if s.weighted is None else f"{s.weighted:g}",
                ]
                for group in (p.people, p.units)
                for i, s in enumerate(group, 1)
            ],
        ),
        (
            "调解员 Mediators",
            ["调解员", "在办", "调结", "成功率", "点单", "接单"],
            [
                [
                    m.name,
                    str(m.figures.load),
                    str(m.figures.concluded),
                    _rate(m.figures.success_rate),
                    str(m.figures.requested),
                    str(m.figures.accepted),
                ]
                for m in p.mediators
            ],
        ),
    ]


def tables(report: Report) -> list[Table]:
    s = report.stats
    spots = report.spots
    out: list[Table] = [
        ("核心指标 Headline figures", ["指标", "数值"], [list(x) for x in report.headline()]),
        count_table("按类别 By category", s.by_category, s.received),
        count_table("按来源渠道 By channel", s.by_channel, s.received),
        count_table("按下级中心 By center", s.by_center, s.received, keep_zero=True),
        count_table("按状态 By status", s.by_status, s.received),
        (
            f"热点网格 Top hot spots（对比 {spots.previous_period.label}）",
            ["网格", "本期", "上期", "变化"],
            [[h.label, str(h.count), str(h.previous), f"{h.change:+d}"] for h in spots.top(10) if h.count],
        ),
        (
            "上升最快网格 Fastest rising grids",
            ["网格", "本期", "上期", "变化"],
            [[h.label, str(h.count), str(h.previous), f"{h.change:+d}"] for h in spots.rising(10)],
        ),
        ("部门退回 Returns by department", ["部门", "退回次数"], [[r.name, str(r.count)] for r in s.returns]),
        case_table("超期案件 Overdue cases", report.overdue),
        case_table("高风险在办案件 High-risk open cases", report.high_risk),
    ]
    out.append(
        (
            "规则命中 Rule statistics",
            ["规则", "版本", "命中事件", "涉及案件", "动作", "成功", "出错"],
            [
                [
                    f"{r.ruleset}/{r.rule_id}",
                    f"v{r.version}",
                    *map(str, (r.firings, r.cases, r.actions, r.ok, r.errors)),
                ]
                for r in report.rules
            ],
        )
    )
    docking_rows = [[d.source, k, str(v)] for d in s.docking for k, v in d.figures.items()]
    docking_rows += [[d.source, "error", d.error] for d in s.docking if d.error]
    out.append(("对接数据 Docking figures", ["来源", "指标", "数值"], docking_rows))
    if report.practices is not None:
        out += practice_tables(report.practices)
    if report.parties is not None:
        out.append(
            (
                "重复涉事当事人 Repeated parties",
                ["姓名", "身份证号", "电话", "件数"],
                [[p.name, p.id_number, p.phone, str(p.cases)] for p in report.parties],
            )
        )
    return out
