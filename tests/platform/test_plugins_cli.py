"""``zongzhi plugins list`` as an operator runs it: in a subprocess, with and without a disabled plugin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from zongzhi.platform import hookspecs
from zongzhi.platform.pipeline.plugin_host import BUILTIN_DISTRIBUTION, GROUP

HOOKS = {name for name in dir(hookspecs) if name.startswith("zongzhi_")}
ENTRY = re.compile(r"^(?P<name>\S+) (?P<version>\S+)  \((?P<dist>[^:]+): (?P<value>[^)]+)\)$")


def _plugins_list(tmp: Path, disabled: str = "") -> str:
    env = {**os.environ, "ZONGZHI_DATA_DIR": str(tmp), "ZONGZHI_LOG_LEVEL": "WARNING"}
    env.pop("ZONGZHI_DATABASE_URL", None)
    env["ZONGZHI_DISABLED_PLUGINS"] = disabled
    result = subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", "plugins", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _parse(out: str) -> dict[str, dict]:
    """``{name: {version, dist, value, hooks}}`` from the listing (a header line, then its hooks)."""
    plugins: dict[str, dict] = {}
    lines = out.splitlines()
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        match = ENTRY.match(line)
        if match:
            assert following.startswith("    hooks: "), f"no hooks line after {line!r}"
            hooks = following.removeprefix("    hooks: ").split(", ")
            plugins[match["name"]] = match.groupdict() | {"hooks": hooks}
    return plugins


def _builtin_entry_points() -> dict[str, str]:
    return {
        ep.name: ep.value
        for ep in entry_points(group=GROUP)
        if ep.dist is not None and ep.dist.name == BUILTIN_DISTRIBUTION
    }


def test_lists_every_builtin_plugin_with_version_source_and_hooks(tmp_path):
    listed = _parse(_plugins_list(tmp_path))
    builtin = _builtin_entry_points()
    assert "court_docking" in builtin
    for name, value in builtin.items():
        assert name in listed, f"built-in plugin {name} is not listed"
        entry = listed[name]
        assert entry["dist"] == BUILTIN_DISTRIBUTION and entry["value"] == value
        assert re.fullmatch(r"\d+\.\d+\.\d+\S*", entry["version"])
        assert entry["hooks"] and set(entry["hooks"]) <= HOOKS, entry["hooks"]
        assert entry["hooks"] == sorted(entry["hooks"])
    court = listed["court_docking"]
    assert court["value"] == "zongzhi.plugins.court_docking.plugin"
    assert {"zongzhi_codes", "zongzhi_rulesets", "zongzhi_routes", "zongzhi_graphql_queries"} <= set(
        court["hooks"]
    )


def test_disabled_plugin_is_not_listed(tmp_path):
    out = _plugins_list(tmp_path, disabled="court_docking")
    listed = _parse(out)
    assert "court_docking" not in listed
    assert set(_builtin_entry_points()) - {"court_docking"} <= set(listed), "the others stay"
    assert out.splitlines()[-1] == "disabled: court_docking"
