"""Documentation stays true: every setting is in docs/configuration.md,
every recipe key in docs/recipes.md and every command in
docs/command-line.md; the README opens with the two set-up commands, stays
short and links every page of docs/."""

from __future__ import annotations

import re

from click.testing import CliRunner

from feedsvc.cli.commands import main
from feedsvc.core.config import ENV_PREFIX, SETTINGS
from feedsvc.sources.recipes import ArticleSelectors, ListingSelectors, Recipe
from tests.support.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCS = REPO / "docs"


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_setting_is_documented_in_one_place():
    doc = _doc("configuration.md")
    for setting in SETTINGS:
        assert f"`{ENV_PREFIX}{setting.name}`" in doc, setting.name
    assert "](docs/configuration.md)" in README
    # One place: the README points there instead of keeping a second table.
    assert not re.search(r"^\| `FEEDSVC_", README, re.M)


def test_no_setting_is_read_without_being_declared():
    declared = {ENV_PREFIX + s.name for s in SETTINGS}
    used = set()
    for path in (REPO / "feedsvc").rglob("*.py"):
        used |= set(re.findall(r"FEEDSVC_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    assert used <= declared, used - declared


def test_every_recipe_key_is_documented():
    recipes = _doc("recipes.md")
    for model in (Recipe, ArticleSelectors, ListingSelectors):
        for name in model.model_fields:
            if name != "path":
                assert re.search(rf"^(#? ?{name} = |\[{name}\])", recipes, re.M), name


def test_readme_opens_with_the_two_commands():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    assert "feedsvc serve --demo" in blocks[0]
    assert "pytest" in blocks[1] and "pip install" in blocks[1]
    assert README.index(blocks[1]) < README.index("---")
    assert "README.md" in (REPO / ".ci" / "run").read_text(encoding="utf-8")  # CI runs that very command


def test_every_command_is_documented():
    commands = _doc("command-line.md")
    for name, command in main.commands.items():
        assert f"`feedsvc {name}" in commands, name
        for sub in getattr(command, "commands", {}):
            assert f"`feedsvc {name} {sub}" in commands, f"{name} {sub}"
    for option in main.params:
        assert f"--{option.name}" in commands, option.name
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0


def test_readme_is_short_and_links_every_doc():
    assert len(README.splitlines()) <= 150
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", README))
    assert linked == {p.name for p in DOCS.glob("*.md")}
    for text in (README, *(_doc(name) for name in linked)):
        for target in re.findall(r"\]\(((?:docs/)?[\w-]+\.md)(?:#[\w-]+)?\)", text):
            path = REPO / target if target.startswith("docs/") or text is README else DOCS / target
            assert path.exists(), target
    for fact in ("Python 3.11", "instance folder", "../shared/corpus", "FEEDSVC_BASE_URL"):
        assert fact in README, fact
    deployment = _doc("deployment.md")
    assert "proxy_pass http://127.0.0.1:8000" in deployment and "ExecStart=" in deployment


def test_configuration_doc_has_the_settings_table():
    from feedsvc.core.config import markdown_document

    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc.rstrip("\n") == markdown_document(), \
        "regenerate with: python -m feedsvc.core.config > docs/configuration.md"


def test_readme_pictures_exist_and_stay_small():
    pictures = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", README)
    assert "docs/index.png" in pictures
    for picture in pictures:
        path = REPO / picture
        assert path.exists(), picture
        assert path.stat().st_size < 200_000, picture
