"""The demo has some of each practice: sweeps done and late, a 研判 meeting, the wall and 点单, reports held."""

from __future__ import annotations

from tests.conftest import _truncate
from zongzhi.platform.models import (
    AnalysisMeeting,
    CitizenReport,
    HomeUnitScore,
    MediatorChoice,
    MediatorProfile,
    Notification,
    SweepTask,
)
from zongzhi.platform.wiring import demo


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


async def test_a_category_a_plugin_adds_does_not_break_the_demo(platform, world):
    """The demo draws from the categories it has texts for; a plugin's own category is not one."""
    from zongzhi.platform.models import Case, User

    # As a loaded plugin's hook does; the category belongs to this test's platform only.
    platform.codes.categories.add("plugin_only", "插件类别")
    await _truncate()
    await demo.seed(n_cases=30)
    assert await Case.all().count() >= 30
    assert not await Case.filter(category="plugin_only").exists()
    assert not [u for u in await User.all() if "plugin_only" in (u.specialties or [])]
