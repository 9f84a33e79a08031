"""The suite's own layout, read from its source: each test module sits in
the folder of its kind, `slow` means exactly "starts processes" (feedsvc
servers, schedulers, browsers), no test module imports another one or
conftest, and conftest holds only fixtures."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import TESTS

KINDS = ("unit", "corpus", "integration", "processes", "reliability")
PROCESS_KINDS = ("processes", "reliability")
# What starts a process: the helpers that run feedsvc or a browser, and the
# subprocess module itself (jing, run by tests.support.checks, is a checker).
STARTERS = {"tests.support.processes": {"running", "web_process", "probe", "run_measured", "start_feedsvc", "upgrade_store"},
            "tests.support.browser": {"chromium"}}
PROCESS_MODULES = {"subprocess", "pty"}


def modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "support" not in p.relative_to(TESTS).parts)


def kind(path: Path) -> str:
    return path.relative_to(TESTS).parts[0]


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def is_slow_mark(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "slow" for n in ast.walk(node))


def module_is_slow(module: ast.Module) -> bool:
    return any(isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets)
               and is_slow_mark(node.value) for node in module.body)


def starter_names(module: ast.Module) -> set[str]:
    """Names in this module that start a process when called."""
    names = set()
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module in STARTERS:
            names |= {a.asname or a.name for a in node.names if a.name in STARTERS[node.module]}
        elif isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name in PROCESS_MODULES}
    return names


def functions(module: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in module.body if isinstance(n, ast.FunctionDef)}


def starts_processes(module: ast.Module) -> set[str]:
    """Functions of the module (tests, fixtures and helpers) that start a
    process themselves or through a function or fixture of the module."""
    starters = starter_names(module)
    funcs = functions(module)
    uses = {name: {n.id for n in ast.walk(f) if isinstance(n, ast.Name)} | {a.arg for a in f.args.args}
            for name, f in funcs.items()}
    found = {name for name, used in uses.items() if used & starters}
    while True:
        more = {name for name, used in uses.items() if used & found} - found
        if not more:
            return found
        found |= more


def test_every_test_module_is_in_the_folder_of_its_kind():
    misplaced = [str(p.relative_to(TESTS)) for p in modules() if kind(p) not in KINDS or len(p.relative_to(TESTS).parts) != 2]
    assert not misplaced, f"test modules outside {KINDS}: {misplaced}"
    assert all((TESTS / k / "__init__.py").is_file() for k in KINDS)


def test_every_module_under_processes_is_marked_slow():
    unmarked = [p.name for p in modules() if kind(p) == "processes" and not module_is_slow(tree(p))]
    assert not unmarked, f"tests/processes/ modules without pytestmark = pytest.mark.slow: {unmarked}"


def test_only_processes_and_reliability_start_processes():
    starting = [f"{p.relative_to(TESTS)}: {sorted(starter_names(tree(p)))}" for p in modules()
                if kind(p) not in PROCESS_KINDS and starter_names(tree(p))]
    assert not starting, f"modules that start processes belong in tests/processes/: {starting}"


def test_slow_means_starts_processes():
    """Outside processes/ nothing is slow but a reliability test that
    starts a process, and every such test is."""
    wrong = []
    for path in modules():
        if kind(path) == "processes":
            continue
        module = tree(path)
        starting = starts_processes(module)
        for name, func in functions(module).items():
            if not name.startswith("test_"):
                continue
            slow = module_is_slow(module) or any(is_slow_mark(d) for d in func.decorator_list)
            if slow != (name in starting):
                wrong.append(f"{path.relative_to(TESTS)}::{name} {'marked' if slow else 'not marked'} slow")
        if module_is_slow(module) and not starting:
            wrong.append(f"{path.relative_to(TESTS)} is marked slow and starts no process")
    assert not wrong, wrong


def test_no_test_module_imports_another_or_conftest():
    bad = []
    for path in [*modules(), *(TESTS / "support").glob("*.py")]:
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else ["." * node.level + (node.module or "")]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if name.startswith(".") or "conftest" in parts or any(p.startswith("test_") for p in parts) \
                        or (parts[0] == "tests" and parts[1:2] != ["support"]):
                    bad.append(f"{path.relative_to(TESTS)} imports {name}")
    assert not bad, bad


def test_conftest_holds_only_fixtures():
    module = tree(TESTS / "conftest.py")
    helpers = [f.name for f in functions(module).values() if not any("fixture" in ast.dump(d) for d in f.decorator_list)]
    assert not helpers, f"helpers belong in tests/support/: {helpers}"
