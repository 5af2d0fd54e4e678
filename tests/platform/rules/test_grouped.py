"""Concurrent requests' events evaluated in one batch (``rules/grouped.py``).

The batches are observed through a stand-in for ``evaluate_committed`` that records what each batch
held and waits until the test lets it finish; a last test runs real intakes through the rules.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.casework import actor
from zongzhi.platform.models import Case
from zongzhi.platform.rules import grouped
from zongzhi.platform.services import cases as svc


class _Batches:
    def __init__(self) -> None:
        self.held: list[list[str]] = []
        self.release: list[asyncio.Event] = []
        self.fail: set[str] = set()
        self.on_finish = lambda: None

    async def evaluate(self, items: list[str]) -> None:
        gate = asyncio.Event()
        self.held.append(list(items))
        self.release.append(gate)
        await gate.wait()
        self.on_finish()
        if self.fail & set(items):
            raise RuntimeError("the batch failed")


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> _Batches:
    fake = _Batches()
    monkeypatch.setattr(grouped, "evaluate_committed", fake.evaluate)
    return fake


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_requests_that_commit_while_a_batch_runs_wait_and_go_in_the_next_one(batches: _Batches):
    groups = grouped.EvaluationGroups(limit=10)
    answered: list[str] = []

    async def request(name: str) -> None:
        await groups.evaluate([name])  # type: ignore[list-item]
        answered.append(name)

    first = asyncio.create_task(request("a"))
    await _settle()
    assert batches.held == [["a"]], "a request alone is evaluated at once"
    others = [asyncio.create_task(request(n)) for n in "bcd"]
    await _settle()
    assert batches.held == [["a"]] and answered == []
    batches.release[0].set()
    await _settle()
    assert answered == ["a"], "a request answers once its own batch is done"
    assert batches.held == [["a"], ["b", "c", "d"]], "those who waited go together"
    batches.release[1].set()
    await asyncio.gather(first, *others)
    assert sorted(answered) == ["a", "b", "c", "d"]
    assert not groups.leading and not groups.waiting


async def test_a_batch_holds_at_most_its_limit(batches: _Batches):
    groups = grouped.EvaluationGroups(limit=2)
    tasks = [asyncio.create_task(groups.evaluate([n])) for n in "abcde"]  # type: ignore[list-item]
    for _ in range(4):
        await _settle()
        for gate in batches.release:
            gate.set()
    await asyncio.gather(*tasks)
    assert batches.held == [["a"], ["b", "c"], ["d", "e"]]


async def test_a_failed_batch_fails_every_request_in_it_and_the_next_batch_still_runs(batches: _Batches):
    groups = grouped.EvaluationGroups(limit=10)
    batches.fail = {"c"}
    first = asyncio.create_task(groups.evaluate(["a"]))  # type: ignore[list-item]
    await _settle()
    failing = [asyncio.create_task(groups.evaluate([n])) for n in "bc"]  # type: ignore[list-item]
    await _settle()
    batches.release[0].set()
    await _settle()
    late = asyncio.create_task(groups.evaluate(["d"]))  # type: ignore[list-item]
    batches.release[1].set()
    await _settle()
    for task in failing:
        with pytest.raises(RuntimeError, match="the batch failed"):
            await task
    batches.release[2].set()
    await asyncio.gather(first, late)
    assert batches.held == [["a"], ["b", "c"], ["d"]]


async def _leader_and_two_waiting() -> tuple[
    grouped.EvaluationGroups, asyncio.Task, asyncio.Task, asyncio.Task
]:
    """Request "a" leads a batch; "b" (to be cancelled) and "c" wait behind it."""
    groups = grouped.EvaluationGroups(limit=10)
    first = asyncio.create_task(groups.evaluate(["a"]))  # type: ignore[list-item]
    await _settle()
    gone = asyncio.create_task(groups.evaluate(["b"]))  # type: ignore[list-item]
    kept = asyncio.create_task(groups.evaluate(["c"]))  # type: ignore[list-item]
    await _settle()
    return groups, first, gone, kept


async def test_a_request_cancelled_while_waiting_leaves_the_others_evaluated(batches: _Batches):
    groups, first, gone, kept = await _leader_and_two_waiting()
    gone.cancel()
    batches.release[0].set()
    await _settle()
    assert batches.held == [["a"], ["c"]]
    batches.release[1].set()
    await asyncio.wait_for(asyncio.gather(first, kept), 5)
    assert gone.cancelled() and not groups.leading and not groups.waiting


async def test_a_request_cancelled_just_as_it_is_handed_the_lead_hands_it_on(batches: _Batches):
    groups, first, gone, kept = await _leader_and_two_waiting()
    # Cancelled after the first batch ends and before the request it handed the lead to runs.
    batches.on_finish = lambda: asyncio.get_running_loop().call_soon(gone.cancel)
    batches.release[0].set()
    await _settle()
    batches.on_finish = lambda: None
    assert batches.held == [["a"], ["c"]], "the lead went on to the next request"
    batches.release[1].set()
    await asyncio.wait_for(asyncio.gather(first, kept), 5)
    assert gone.cancelled() and not groups.leading and not groups.waiting


async def test_concurrent_intakes_each_answer_with_their_rules_applied(rules):
    world = rules
    staff = await actor(world, "a_staff")

    async def intake(i: int) -> Case:
        data = svc.CaseInput(
            title=f"并发{i}",
            category="neighbor",
            channel="window",
            center_id=world.centers["ta"].id,
            grid_id=world.grids["a1g1"].id,
        )
        case, _ = await svc.intake(data, staff)
        return await Case.get(id=case.id)

    cases = await asyncio.gather(*(intake(i) for i in range(6)))
    assert {c.center_id for c in cases} == {world.centers["va1"].id}, "each routed before it answered"
    assert all(c.resolve_by is not None for c in cases), "each has its deadline before it answered"
