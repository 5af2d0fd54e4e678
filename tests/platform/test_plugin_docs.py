"""docs/plugins.md documents every hook of ``zongzhi.platform.hookspecs``, with its parameters in order."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from zongzhi.platform import hookspecs

DOC = Path(__file__).parents[2] / "docs" / "plugins.md"
HEADING = re.compile(r"^### (zongzhi_\w+)\((.*)\)\s*$", re.MULTILINE)


def _hookspecs() -> dict[str, list[str]]:
    """Each declared hook (functions carrying pluggy's ``zongzhi`` spec marker) and its parameters."""
    return {
        name: list(inspect.signature(fn).parameters)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if getattr(fn, "zongzhi_spec", None) is not None
    }


def _names(params: str) -> list[str]:
    return [re.split(r"[:=]", p)[0].strip() for p in params.split(",") if p.strip()]


def _documented() -> dict[str, list[str]]:
    """``### zongzhi_x(a, b: T = d)`` headings → ``{"zongzhi_x": ["a", "b"]}``."""
    found: dict[str, list[str]] = {}
    for name, params in HEADING.findall(DOC.read_text(encoding="utf-8")):
        assert name not in found, f"{name} is documented twice"
        found[name] = _names(params)
    return found


def test_hookspecs_are_found():
    assert {"zongzhi_codes", "zongzhi_case_event", "zongzhi_routes"} <= set(_hookspecs())


def test_every_hook_is_documented_with_its_signature():
    specs, documented = _hookspecs(), _documented()
    missing = sorted(set(specs) - set(documented))
    assert not missing, f"hooks without a '### name(params)' heading in docs/plugins.md: {missing}"
    for name, params in specs.items():
        assert documented[name] == params, (
            f"docs/plugins.md documents {name}({', '.join(documented[name])}), "
            f"hookspecs declares {name}({', '.join(params)})"
        )


def test_every_documented_hook_exists():
    unknown = sorted(set(_documented()) - set(_hookspecs()))
    assert not unknown, f"docs/plugins.md documents hooks that hookspecs does not declare: {unknown}"


def test_the_parser_reads_annotated_parameters():
    text = "### zongzhi_x(event: CaseEvent, case: Case = None)\n"
    assert [(name, _names(params)) for name, params in HEADING.findall(text)] == [
        ("zongzhi_x", ["event", "case"])
    ]
    assert _names("") == []
