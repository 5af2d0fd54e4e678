"""The demo has some of each practice: sweeps done and late, a 研判 meeting, the wall and 点单, reports held."""

from __future__ import annotations

from tests.conftest import _truncate
from zongzhi.platform import demo
from zongzhi.platform.models import (
    AnalysisMeeting,
    CitizenReport,
    HomeUnitScore,
    MediatorChoice,
    MediatorProfile,
    Notification,
    SweepTask,
)


async def test_demo_seeds_the_practices(world):
    await _truncate()
    await demo.seed(n_cases=60)
    assert await SweepTask.filter(status="done").exists()
    assert await SweepTask.filter(status="open").exists()
    assert await Notification.filter(message__contains="排查任务超期").exists()
    assert await AnalysisMeeting.exists()
    assert await MediatorProfile.all().count() == 3
    assert {c.status for c in await MediatorChoice.all()} >= {"accepted"}
    assert await HomeUnitScore.exists()
    assert await CitizenReport.filter(status="held").count() == 2
