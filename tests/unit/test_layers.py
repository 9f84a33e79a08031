"""Imports go down the stack: recipes → fetch → parse → store → render →
HTTP. Every module of the package has a layer here and imports nothing
from a layer above its own; a new module fails this test until it is
placed."""

from __future__ import annotations

import ast
from pathlib import Path
from tests.support.paths import PACKAGE


# Lowest first. A module may import from its own layer and those below.
LAYERS = [
    ("foundation", ["feedsvc", "feedsvc.models", "feedsvc.errors", "feedsvc.xmlchars", "feedsvc.urls",
                    "feedsvc.encoding", "feedsvc.ssrf", "feedsvc.transfer", "feedsvc.outlets", "feedsvc.schema",
                    "feedsvc.engine", "feedsvc.tables", "feedsvc.logs", "feedsvc.auth",
                    "feedsvc.feedcache", "feedsvc.config", "feedsvc.server", "feedsvc.snapshot", "feedsvc.times",
                    "feedsvc.placeholders"]),
    ("recipes, fetch, parse, render", ["feedsvc.recipes", "feedsvc.fetch", "feedsvc.robots", "feedsvc.politeness",
                                       "feedsvc.parsers", "feedsvc.extract", "feedsvc.render", "feedsvc.search",
                                       "feedsvc.query", "feedsvc.metrics", "feedsvc.websub", "feedsvc.opml_import",
                                       "feedsvc.item_rows", "feedsvc.item_merge", "feedsvc.outlet_stats",
                                       "feedsvc.reading", "feedsvc.rules", "feedsvc.request_options",
                                       "feedsvc.proxying", "feedsvc.recipe_fetch", "feedsvc.browser",
                                       "feedsvc.browser_guard", "feedsvc.images.tokens", "feedsvc.images.rewrite",
                                       "feedsvc.images.sniff", "feedsvc.images.cache", "feedsvc.images"]),
    # migrate fills the search columns of an old store: it reads feedsvc.search.
    ("store", ["feedsvc.store", "feedsvc.migrate", "feedsvc.migrations", "feedsvc.filtered_feed",
               "feedsvc.images.keys"]),
    ("refresh", ["feedsvc.refresh", "feedsvc.leases", "feedsvc.retention", "feedsvc.reloader", "feedsvc.dry_run",
                 "feedsvc.rule_apply"]),
    ("runtime", ["feedsvc.runtime"]),
    ("web, scheduler, commands", ["feedsvc.web", "feedsvc.feed_ids", "feedsvc.images.proxy", "feedsvc.scheduler", "feedsvc.exporter", "feedsvc.extract.cli",
                                   "feedsvc.metrics_port"]),
    ("app", ["feedsvc.app", "feedsvc.images.app", "feedsvc.images.process"]),
    # The process entry point: it builds the app it runs.
    ("entry point", ["feedsvc.cli", "feedsvc.__main__"]),
]


def layer_of(module: str) -> int:
    """The layer of the longest listed prefix (feedsvc.extract.cli is not
    feedsvc.extract)."""
    best = max((prefix for _, prefixes in LAYERS for prefix in prefixes
                if module == prefix or module.startswith(prefix + ".")), key=len, default=None)
    assert best is not None, f"{module} has no layer in tests/unit/test_layers.py"
    return next(rank for rank, (_, prefixes) in enumerate(LAYERS) if best in prefixes)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str) -> set[str]:
    """Every feedsvc module the file imports, at the top or inside a function."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            if base == "feedsvc":  # `from feedsvc import refresh` names a module
                found |= {f"feedsvc.{alias.name}" for alias in node.names if (PACKAGE / alias.name).exists()
                          or (PACKAGE / f"{alias.name}.py").exists()}
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
    source.write_text("import feedsvc.app\nfrom feedsvc import refresh\n"
                      "def f():\n    from feedsvc.web.state import x\n", encoding="utf-8")
    assert imports_of(source, "feedsvc.models") == {"feedsvc", "feedsvc.app", "feedsvc.refresh",
                                                    "feedsvc.web.state"}
    assert layer_of("feedsvc.extract.cli") > layer_of("feedsvc.extract.tree")
    assert layer_of("feedsvc.app") > layer_of("feedsvc.store") > layer_of("feedsvc.models")
