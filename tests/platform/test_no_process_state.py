"""What the platform object promises: importing zongzhi does nothing, and no module keeps state.

Everything a process holds lives on one ``Platform`` (``zongzhi/platform/wiring/platform.py``), reached
through ``zongzhi.platform.base.current``. These tests read the package's source (no module may hold
mutable state at module level, outside an allowlist of what is per request or per process by
nature) and import every module in a clean process (nothing created, no setting read).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "zongzhi"

#: Module-level names that do hold mutable state, and why that is right.
ALLOWED: dict[tuple[str, str], str] = {
    ("platform/base/current.py", "_context"): "the accessor of the running platform (this context's)",
    ("platform/base/current.py", "_process"): "the accessor of the running platform (the process's)",
    ("platform/services/outbox.py", "_pending"): "per transaction: the outbox rows of the change in progress",
    ("platform/services/outbox.py", "_cause"): "per rule action: the event whose rule made the change",
    ("platform/base/observability/context.py", "_current"): "per request: its id, user and operation",
    ("platform/domain/workdays.py", "_memo"): "per worker batch: the calendars it has read",
    ("platform/rules/builtin_actions.py", "_grid_targets"): "per worker batch: the grids' routing targets",
    ("platform/base/observability/metrics.py", "_operations"): (
        "bounds the label values of the Prometheus instruments, which are per process by nature "
        "(each process writes its own samples for the scrape to add up)"
    ),
    **{
        (f"plugins/{plugin}/webhooks.py", "routes"): "the plugin's webhook routes, never changed"
        for plugin in ("court_docking", "police_docking", "petition_docking")
    },
}

MUTABLE_CALLS = {
    "dict",
    "list",
    "set",
    "defaultdict",
    "deque",
    "OrderedDict",
    "Counter",
    "ContextVar",
    "count",
    "WeakSet",
    "WeakValueDictionary",
    "WeakKeyDictionary",
}
MUTATORS = {
    "add",
    "append",
    "extend",
    "insert",
    "update",
    "setdefault",
    "clear",
    "pop",
    "popitem",
    "remove",
    "discard",
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _callee(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return None


def _is_mutable(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
        return True
    return _callee(value) in MUTABLE_CALLS if value is not None else False


def _module_bindings(tree: ast.Module) -> list[tuple[str, ast.expr | None, int]]:
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            found += [(t.id, node.value, node.lineno) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.append((node.target.id, node.value, node.lineno))
    return found


def _mutated_names(trees: dict[str, ast.Module]) -> set[str]:
    """Names (bare or as a module's attribute) that some code mutates in place."""
    names: set[str] = set()

    def name_of(node: ast.expr) -> str | None:
        return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None

    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                target = name_of(node.func.value)
                if target:
                    names.add(target)
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
                targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Subscript) and (target := name_of(t.value)):
                        names.add(target)
    return names


def test_no_module_keeps_mutable_state_outside_the_platform() -> None:
    trees = {str(p.relative_to(PACKAGE)): ast.parse(p.read_text(encoding="utf-8")) for p in _modules()}
    mutated = _mutated_names(trees)
    problems = []
    for rel, tree in trees.items():
        problems += [
            f"{rel}:{node.lineno}: `global {', '.join(node.names)}`"
            for node in ast.walk(tree)
            if isinstance(node, ast.Global)
        ]
        for name, value, line in _module_bindings(tree):
            if (rel, name) in ALLOWED or name == "__all__" or not _is_mutable(value):
                continue
            constant_by_name = name.lstrip("_").isupper()
            # A constant is written in capitals and never changed in place, here or anywhere else.
            if not constant_by_name or name in mutated:
                problems.append(f"{rel}:{line}: module-level mutable `{name}`")
    assert not problems, "state belongs on the Platform (zongzhi/platform/wiring/platform.py):\n" + "\n".join(problems)


def test_the_allowlist_names_what_is_there() -> None:
    for (rel, name), why in ALLOWED.items():
        tree = ast.parse((PACKAGE / rel).read_text(encoding="utf-8"))
        assert name in {n for n, _, _ in _module_bindings(tree)}, f"{rel}: {name} is gone; drop it ({why})"


def test_the_check_finds_state_of_the_old_kind(tmp_path: Path) -> None:
    """The AST check would have caught what the platform object replaced."""
    old = ast.parse(
        "_hub = Hub()\n_publishers: list = []\nPARTNER_CHANNELS: set[str] = {'court'}\n"
        "def load():\n    global _current\n    PARTNER_CHANNELS.add('x')\n"
    )
    mutated = _mutated_names({"old.py": old})
    flagged = [n for n, v, _ in _module_bindings(old) if _is_mutable(v) and (not n.isupper() or n in mutated)]
    assert flagged == ["_publishers", "PARTNER_CHANNELS"]
    assert any(isinstance(n, ast.Global) for n in ast.walk(old))


IMPORT_ALL = r"""
import importlib, json, os, pkgutil, sys

read = []


class Watched(dict):
    # os.environ's reads, recorded: a module that reads a setting when imported is caught here.
    def __getitem__(self, key):
        read.append(key)
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        read.append(key)
        return dict.get(self, key, default)

    def __contains__(self, key):
        read.append(key)
        return dict.__contains__(self, key)


os.environ = Watched(os.environ)
import zongzhi

failed = {}
names = []
for info in pkgutil.walk_packages(zongzhi.__path__, "zongzhi."):
    if info.name.endswith(".__main__"):  # ``python -m`` entry points run when imported, by design
        continue
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed[info.name] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"modules": names, "failed": failed, "read": sorted({k for k in read if isinstance(k, str) and "ZONGZHI" in k})}))
"""


def test_importing_every_module_creates_nothing_and_reads_no_setting(tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    home = tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        cwd=cwd,
        env={"HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "zongzhi.platform.wiring.worker" in report["modules"] and len(report["modules"]) > 150
    assert report["failed"] == {}, "a module needs the environment (or something else) to be imported"
    assert report["read"] == [], "importing reads a setting from the environment"
    created = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert created == ["cwd", "home"], f"importing created files: {created}"
