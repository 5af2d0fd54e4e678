"""Case numbers: one sequence per county and day, no gaps or repeats under concurrent intake."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.casework import new_case
from zongzhi.platform.models import CaseCounter


def _seq(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


async def test_concurrent_intakes_take_consecutive_numbers(world):
    first = await new_case(world)
    county, day = first.number.split("-")[1:3]
    cases = await asyncio.gather(*(new_case(world) for _ in range(12)))
    numbers = sorted(_seq(c.number) for c in cases)
    assert numbers == list(range(_seq(first.number) + 1, _seq(first.number) + 13))
    assert all(c.number.startswith(f"ZZ-{county}-{day}-") for c in cases)
    assert (await CaseCounter.get(scope=f"{county}-{day}")).seq == numbers[-1]


async def test_each_day_starts_its_own_sequence(world):
    first = await new_case(world, received_at=datetime(2026, 3, 1, 2, tzinfo=UTC))
    second = await new_case(world, received_at=datetime(2026, 3, 1, 5, tzinfo=UTC))
    other_day = await new_case(world, received_at=datetime(2026, 3, 2, 5, tzinfo=UTC))
    assert (_seq(first.number), _seq(second.number), _seq(other_day.number)) == (1, 2, 1)
    assert other_day.number.split("-")[2] == "20260302"
