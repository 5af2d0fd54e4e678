"""docs/rules.md: its example rulesets validate, its CLI output is what the CLI prints, and it
documents every built-in action and every operator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zongzhi.platform.rules.actions import builtin_actions
from zongzhi.platform.rules.model import COMBINATORS, OPERATORS
from zongzhi.platform.rules.versions import compile_source

DOC = Path(__file__).parents[2] / "docs" / "rules.md"
TEXT = DOC.read_text(encoding="utf-8")
RULESETS = re.findall(r"^```yaml\n(ruleset:.*?)^```", TEXT, re.MULTILINE | re.DOTALL)


def _section(title: str) -> str:
    start = TEXT.index(f"\n## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end != -1 else None]


def _ruleset(name: str) -> str:
    (source,) = [s for s in RULESETS if s.startswith(f"ruleset: {name}\n")]
    return source


def _zongzhi(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ZONGZHI_DATA_DIR": str(tmp), "ZONGZHI_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", *args],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_doc_has_examples():
    assert len(RULESETS) >= 5


@pytest.mark.parametrize("source", RULESETS, ids=[s.split("\n", 1)[0] for s in RULESETS])
def test_every_example_ruleset_validates(source):
    name, compiled = compile_source(source)
    assert source.startswith(f"ruleset: {name}\n") and compiled


def test_every_builtin_action_is_documented():
    actions = _section("Actions")
    headings = set(re.findall(r"^### (\w+)$", actions, re.MULTILINE))
    missing = sorted({spec.name for spec in builtin_actions()} - headings)
    assert not missing, f"actions without a '### name' section under '## Actions': {missing}"
    tour = _ruleset("actions_tour")
    assert all(f"- {spec.name}: " in tour for spec in builtin_actions()), "the tour uses every action"


def test_every_operator_and_combinator_is_documented():
    operators = _section("Conditions")
    first_cells = re.findall(r"^\| ([^|]*) \|", operators, re.MULTILINE)
    documented = {name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)}
    assert set(OPERATORS) <= documented, sorted(set(OPERATORS) - documented)
    for word in COMBINATORS:
        assert f"`{word}:" in operators, word


def test_cli_examples_print_what_the_doc_shows(tmp_path):
    cli = _section("The CLI")
    (tmp_path / "hazards.yaml").write_text(_ruleset("hazards"), encoding="utf-8")
    facts = re.search(r"cat > facts.jsonl <<'EOF'\n(.*?)^EOF$", cli, re.MULTILINE | re.DOTALL)
    assert facts
    (tmp_path / "facts.jsonl").write_text(facts.group(1), encoding="utf-8")
    simulated = _zongzhi(tmp_path, "rules", "simulate", "hazards.yaml", "--events", "facts.jsonl")
    assert simulated.returncode == 0, simulated.stderr
    shown = re.search(r"--events facts.jsonl\n```\n\n```\n(.*?)```", cli, re.DOTALL)
    assert shown and simulated.stdout == shown.group(1)

    (tmp_path / "hazards.yaml").write_text(
        _ruleset("hazards").replace("gte: 3", "gtee: 3", 1), encoding="utf-8"
    )
    linted = _zongzhi(tmp_path, "rules", "lint", "hazards.yaml")
    assert linted.returncode == 1
    assert f"# {linted.stdout.strip()}\n" in cli


def test_the_fact_table_is_generated_from_the_declared_fact():
    """The guide's table is ``zongzhi rules fact-schema --markdown`` with the built-in plugins."""
    from zongzhi.platform.base.settings import Settings
    from zongzhi.platform.pipeline import plugin_host as plugins
    from zongzhi.platform.rules.facts import fact_table

    loaded = plugins.load(Settings.from_env(), builtin_only=True)
    table = re.search(r"<!-- fact-table:start -->\n(.*?)<!-- fact-table:end -->", TEXT, re.DOTALL)
    assert table, "docs/rules.md has no generated fact table"
    assert table.group(1) == fact_table({"core", *loaded.names()}), (
        "regenerate the table with `zongzhi rules fact-schema --markdown`"
    )
