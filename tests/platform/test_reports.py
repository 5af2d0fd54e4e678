"""Reports: the same report as Markdown, CSV and PDF, from the CLI and from GraphQL."""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gql import GraphQLErrors, gql
from tests.platform.stats.dataset import build
from tests.world import World
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.reports import build_report, render
from zongzhi.platform.stats import parse_period, scope_of_center

MARCH = parse_period("2026-03")


@pytest.fixture
async def report(world: World):
    await build(world)
    return await build_report(await scope_of_center(world.centers["county"]), MARCH)


async def test_markdown(report) -> None:
    md = render(report, "md").decode("utf-8")
    assert md.startswith("# 示范县综治中心 矛盾纠纷分析研判报告（2026-03）\n")
    assert "统计期间：2026-03-01 至 2026-03-31" in md
    for line in (
        "| 受理案件 Received | 10 |",
        "| 化解成功率 Resolution rate | 80.0%（4/5） |",
        "| 办结率 Closure rate | 25.0%（2/8） |",
        "| 按期办结率 On-time rate | 50.0%（2/4） |",
        "| 平均受理时长 Avg time to accept | 10.2 小时 |",
        "| 满意度 Satisfaction | 3.00 / 5（2 次回访） |",
        "| 邻里纠纷 | 9 | 90.0% |",
        "| 甲一村第一网格 | 9 | 1 | +8 |",
        "| 县住建局 | 1 |",
        "| 2026-03-13 | 0 | 1 | 1 |",
    ):
        assert line in md, line
    overdue = md.split("## 超期案件 Overdue cases")[1].split("##")[0]
    assert "楼上漏水" in overdue and "办理中" in overdue
    assert "**resolutionRate**: 化解成功率 = resolved / concluded" in md


async def test_csv(report) -> None:
    data = render(report, "csv")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "section"
    headline = {r[1]: r[2] for r in rows if r[0] == "核心指标 Headline figures"}
    assert headline["化解成功率 Resolution rate"] == "80.0%（4/5）"
    assert headline["超期 Overdue now"] == "1"
    by_channel = [r[1:] for r in rows if r[0] == "按来源渠道 By channel"]
    assert by_channel == [["项目", "件数", "占比"], ["网格上报", "10", "100.0%"]]
    trend = [r for r in rows if r[0] == "趋势 Trend"]
    assert len(trend) == 1 + 31


async def test_pdf_pages_text_and_charts(report, tmp_path: Path) -> None:
    data = render(report, "pdf")
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", data)) == 4  # headline; charts; tables; lists
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed: page text not checked")
    pages = [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, 5)
    ]
    assert "矛盾纠纷分析研判报告" in pages[0] and "化解成功率" in pages[0] and "80.0%" in pages[0]
    assert "按类别受理件数" in pages[1] and "邻里纠纷" in pages[1]  # the bar chart's labels
    assert "调处成功 resolved" in pages[1]  # the trend chart's legend
    assert "热点网格" in pages[2]
    assert "超期案件" in "".join(pages[2:]) and "高风险在办案件" in "".join(pages[2:])


async def test_empty_period_renders(world: World) -> None:
    empty = await build_report(await scope_of_center(world.centers["tb"]), parse_period("2025-01"))
    md = render(empty, "md").decode()
    assert "| 化解成功率 Resolution rate | —（无数据） |" in md
    assert render(empty, "pdf").startswith(b"%PDF-")


async def test_graphql_report_matches(client, world: World, report) -> None:
    query = """query($c: ID) { report(period: "2026-03", centerId: $c) {
        title markdown csv pdfBase64
        statistics { received resolutionRate { value numerator denominator } closureRate { value } }
        hotSpots { rising(limit: 1) { key change } geojson }
        overdue { number status }
    } }"""
    county = base64.b64encode(f"Center:{world.centers['county'].id}".encode()).decode()
    data = (await gql(client, world.tokens["county_staff"], query, {"c": None}))["report"]
    assert data["title"] == report.title
    assert data["statistics"]["received"] == 10
    assert data["statistics"]["resolutionRate"] == {"value": 0.8, "numerator": 4, "denominator": 5}
    assert data["statistics"]["closureRate"]["value"] == 0.25
    assert data["hotSpots"]["rising"] == [{"key": "A1-G1", "change": 8}]
    assert data["hotSpots"]["geojson"]["features"][0]["properties"]["count"] == 9
    assert [o["status"] for o in data["overdue"]] == ["办理中"]
    md = render(report, "md").decode()
    strip = re.compile(r"生成时间：[^\n]*")
    assert strip.sub("", data["markdown"]) == strip.sub("", md)
    assert base64.b64decode(data["pdfBase64"]).startswith(b"%PDF-")
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, world.tokens["a_staff"], query, {"c": county})
    assert refused.value.code == "FORBIDDEN"


async def test_cli_writes_each_format(settings: Settings, world: World, report, tmp_path: Path) -> None:
    env = dict(
        os.environ, ZONGZHI_DATA_DIR=str(settings.data_dir), ZONGZHI_DATABASE_URL=settings.database_url
    )
    env["ZONGZHI_SECRET_KEY"] = settings.secret_key
    exe = str(Path(sys.executable).parent / "zongzhi")
    for fmt in ("md", "csv", "pdf"):
        out = tmp_path / f"r.{fmt}"
        done = subprocess.run(
            [
                exe,
                "report",
                "--center",
                "330110000000",
                "--period",
                "2026-03",
                "--format",
                fmt,
                "-o",
                str(out),
            ],
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()
        assert out.stat().st_size > 0
    assert "| 化解成功率 Resolution rate | 80.0%（4/5） |" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    bad = subprocess.run(
        [exe, "report", "--center", "999999999999", "--period", "2026-03"], env=env, capture_output=True
    )
    assert bad.returncode == 2 and b"no center" in bad.stderr
