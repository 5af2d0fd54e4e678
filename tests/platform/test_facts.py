"""The fact an event becomes: the center's chain, and the grid's code only when a rule reads it."""

from __future__ import annotations

from tests.casework import new_case
from zongzhi.platform.models import Case, CaseEvent
from zongzhi.platform.rules.facts import build_fact


async def _received(world, **kw) -> tuple[CaseEvent, Case]:
    case = await new_case(world, **kw)
    return await CaseEvent.get(case_id=case.id, type="case.received"), case


async def test_center_chain_and_grid(world):
    event, case = await _received(world)
    fact = await build_fact(event, case)
    county, ta, va1 = (world.centers[k] for k in ("county", "ta", "va1"))
    assert fact["center"] == {
        "id": va1.id,
        "code": va1.code,
        "level": "village",
        "ancestors": [county.code, ta.code, va1.code],
        "has_parent": True,
    }
    assert fact["grid"] == {"id": world.grids["a1g1"].id, "code": "A1-G1"}


async def test_grid_code_is_read_only_when_a_rule_reads_it(world):
    event, case = await _received(world)
    grid_id = world.grids["a1g1"].id
    assert (await build_fact(event, case, paths=frozenset({"grid.id"})))["grid"] == {"id": grid_id}
    wanted = await build_fact(event, case, paths=frozenset({"grid.code"}))
    assert wanted["grid"] == {"id": grid_id, "code": "A1-G1"}


async def test_a_stale_center_path_on_the_case_does_not_change_the_chain(world):
    event, case = await _received(world)
    case.center_path = world.centers["vb1"].path  # as if copied before a move
    fact = await build_fact(event, case)
    codes = [world.centers[k].code for k in ("county", "ta", "va1")]
    assert fact["center"]["ancestors"] == codes


def _leaves(value, prefix: str = "") -> set[str]:
    if isinstance(value, dict) and value:
        return {leaf for k, v in value.items() for leaf in _leaves(v, f"{prefix}.{k}" if prefix else k)}
    return {prefix}


async def test_the_built_fact_has_exactly_the_declared_paths(world):
    """The published schema is the builder's: every path built is declared, every declared one built."""
    from datetime import datetime

    import jsonschema

    from zongzhi.platform.domain.workdays import CHINA
    from zongzhi.platform.rules.facts import FACT_FIELDS, fact_schema

    event, case = await _received(world)
    event.at = datetime(2025, 12, 15, 9, 30, tzinfo=CHINA)  # the official schedule covers the year ahead
    fact = await build_fact(event, case)
    built = _leaves(fact)
    declared = {p for p, f in FACT_FIELDS.items() if f.type != "object"}
    assert built - declared == set(), "paths built but not declared"
    core = {p for p in declared if not p.startswith("payload.")}
    assert core - built == set(), "paths declared but never built"
    assert {"payload.channel", "payload.category", "payload.parties"} <= built
    jsonschema.Draft202012Validator(fact_schema()).validate(fact)
