"""Imports go down the pipeline: recipes → fetch → parse/extract → store →
render → ingest → service → HTTP and command line. The package is cut into
folders by stage, and each folder is one layer: every module of a folder
has its folder's layer, and imports nothing from a layer above it. A new
folder or top-level module fails this test until it is placed."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import PACKAGE

# Lowest first: (layer, what it holds). A folder's name is its layer's;
# the few top-level modules assemble the rest.
LAYERS = [
    ("feedsvc.core", "the shared vocabulary: models, errors, settings, times, outlet names, networks, text folding, logging"),
    ("feedsvc.snapshot", "the bundled snapshot site the demo serves"),
    ("feedsvc.sources", "recipes, their reloading, OPML import, rules and request options"),
    ("feedsvc.fetch", "HTTP with limits, the SSRF guard, robots.txt and politeness, encodings"),
    ("feedsvc.parsers", "pure parsers: feeds, selector recipes, dates, labelled lines, outlet names"),
    ("feedsvc.extract", "the pure extractor: pages without selectors, and recipes' fallback to it"),
    ("feedsvc.store", "the store: schema, migrations, items, outlets, keyword search, queries, retention"),
    ("feedsvc.render", "Atom, RSS, JSON Feed and OPML, and their format registry"),
    ("feedsvc.metrics", "Prometheus metrics and the worker's metrics port"),
    ("feedsvc.ingest", "refresh (the one orchestrator), the scheduler, WebSub"),
    ("feedsvc.service", "the service: store, refresher, reloader and metrics built from settings"),
    ("feedsvc.images", "the image proxy, a process of its own"),
    ("feedsvc.web", "Flask: feeds, API, pages, caches, the HTTP server"),
    ("feedsvc.app", "the web app around a service"),
    ("feedsvc.cli", "the command line"),
    ("feedsvc.__main__", "python -m feedsvc"),
]
ROOT_MODULE = "feedsvc"  # the package's __init__: the version only


def layer_of(module: str) -> int:
    """The layer of the folder (or top-level module) `module` is in."""
    if module == ROOT_MODULE:
        return 0
    for rank, (prefix, _) in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return rank
    raise AssertionError(f"{module} has no layer in tests/test_layers.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_only(tree: ast.AST) -> set[int]:
    """Ids of the nodes under `if TYPE_CHECKING:`: imports for annotations
    only, which never run."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return skipped


def imports_of(path: Path, module: str) -> set[str]:
    """Every feedsvc module the file imports, at the top or inside a
    function (not those under `if TYPE_CHECKING:`)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_only(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            if base.startswith("feedsvc"):  # `from feedsvc.store import migrate` names a module
                folder = PACKAGE.joinpath(*base.split(".")[1:])
                found |= {f"{base}.{alias.name}" for alias in node.names if (folder / alias.name).exists()
                          or (folder / f"{alias.name}.py").exists()}
    return {name for name in found if name == "feedsvc" or name.startswith("feedsvc.")}


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def test_every_import_goes_down_the_stack():
    upward = []
    for module, path in sorted(modules().items()):
        own = layer_of(module)
        for imported in sorted(imports_of(path, module)):
            if layer_of(imported) > own:
                upward.append(f"{module} ({LAYERS[own][0]}) imports {imported} ({LAYERS[layer_of(imported)][0]})")
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path):
    """The parser above must find imports written every way the package
    writes them, or the test above would pass on nothing."""
    source = tmp_path / "probe.py"
    source.write_text("import feedsvc.app\nfrom feedsvc.ingest import refresh\n"
                      "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from feedsvc.service import Service\n"
                      "def f():\n    from feedsvc.web.state import x\n", encoding="utf-8")
    assert imports_of(source, "feedsvc.core.models") == {"feedsvc.app", "feedsvc.ingest", "feedsvc.ingest.refresh",
                                                         "feedsvc.web.state"}
    assert layer_of("feedsvc.cli.extract") > layer_of("feedsvc.extract.tree")
    assert layer_of("feedsvc.app") > layer_of("feedsvc.store.store") > layer_of("feedsvc.core.models")


def test_every_folder_is_one_layer():
    """Folders by stage: each package folder is a layer of its own, and
    only the modules that assemble the service sit at the top."""
    folders = {f"feedsvc.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    top = {f"feedsvc.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert folders | top == {prefix for prefix, _ in LAYERS}


def test_the_architecture_doc_lists_the_layers():
    """docs/architecture.md's table names each layer, lowest first, with
    what it holds, as this file does."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| `feedsvc")]
    expected = [prefix.replace(".", "/") + ("/" if (PACKAGE.parent / prefix.replace(".", "/")).is_dir() else ".py")
                for prefix, _ in LAYERS]
    assert [row.split("`")[1] for row in rows] == expected
    for row, (_, holds) in zip(rows, LAYERS):
        assert holds in row, row
