"""Plugins use only the platform's public plugin API, never its internals.

Every module of the shipped plugins (``zongzhi/plugins/``) and of the example plugin
(``examples/procuratorate_docking``) is parsed with ``ast``; whatever it imports from
``zongzhi.platform`` must be one of the API modules. A plugin module is free to import its own
package and third-party libraries.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PLUGIN_DIRS = [ROOT / "zongzhi" / "plugins", ROOT / "examples" / "procuratorate_docking"]
API = {"zongzhi.platform.plugin_api", "zongzhi.platform.hookspecs"}


def platform_imports(source: str) -> list[str]:
    """The ``zongzhi.platform`` modules (or names taken from the package itself) a module imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("zongzhi.platform")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "zongzhi.platform":
                found += [f"zongzhi.platform.{alias.name}" for alias in node.names]
            elif node.module.startswith("zongzhi.platform."):
                found.append(node.module)
    return found


def _modules() -> list[Path]:
    return sorted(p for d in PLUGIN_DIRS for p in d.rglob("*.py") if "build" not in p.parts)


def test_the_plugins_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert "zongzhi/plugins/court_docking/webhooks.py" in names
    assert "examples/procuratorate_docking/procuratorate_docking/plugin.py" in names


@pytest.mark.parametrize("module", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_plugin_imports_only_the_plugin_api(module: Path):
    internal = sorted(set(platform_imports(module.read_text(encoding="utf-8"))) - API)
    assert not internal, f"{module.relative_to(ROOT)} imports platform internals: {internal}"


def test_the_check_sees_every_form_of_import():
    source = (
        "import zongzhi.platform.models\n"
        "from zongzhi.platform import partners, plugin_api\n"
        "from zongzhi.platform.services import cases as svc\n"
        "from zongzhi.platform.plugin_api import hookimpl\n"
        "from . import schema\n"
        "def f():\n    from zongzhi.platform.services.outbox import change\n"
    )
    assert sorted(set(platform_imports(source)) - API) == [
        "zongzhi.platform.models",
        "zongzhi.platform.partners",
        "zongzhi.platform.services",
        "zongzhi.platform.services.outbox",
    ]


def test_the_partner_helpers_import_neither_the_schema_nor_the_plugin_host():
    """``partners.py`` sits under the plugins' API: it must not reach back up into GraphQL or the host."""
    source = (ROOT / "zongzhi" / "platform" / "partners.py").read_text(encoding="utf-8")
    upward = [
        m
        for m in platform_imports(source)
        if m in {"zongzhi.platform.pipeline.plugin_host", "zongzhi.platform.plugin_api"}
        or m.startswith("zongzhi.platform.schema")
    ]
    assert not upward, f"partners.py imports {upward}"
