"""docs/reliability.md and tests/reliability/ name the same cases."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from tests.support.paths import REPO

HERE = Path(__file__).parent
DOC = REPO / "docs" / "reliability.md"
ROW_TEST = re.compile(r"`(test_[a-z0-9_]+\.py)::(test_[A-Za-z0-9_]+)`")


def documented() -> set[tuple[str, str]]:
    found = set()
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            found.update(ROW_TEST.findall(line))
    return found


def collected() -> set[tuple[str, str]]:
    tests = set()
    for path in HERE.glob("test_*.py"):
        if path.name == Path(__file__).name:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                tests.add((path.name, node.name))
    return tests


def test_every_documented_case_has_its_test():
    missing = documented() - collected()
    assert not missing, f"docs/reliability.md names tests that do not exist: {sorted(missing)}"


def test_every_reliability_test_is_documented():
    undocumented = collected() - documented()
    assert not undocumented, f"tests missing from docs/reliability.md: {sorted(undocumented)}"
