"""Source recipes: one TOML file per site in the recipes folder.

A recipe says which pages to read, how often, and where each field sits in
them. Every problem is reported with its file, key and reason. A broken
recipe stops start-up rather than silently dropping a source; a broken edit
to a running service is refused and the previous version keeps running."""

from __future__ import annotations

import codecs
import hashlib
import json
import importlib.util
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cssselect import SelectorError
from lxml.cssselect import CSSSelector
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic import ValidationInfo

from feedsvc.core.errors import RecipeError
from feedsvc.core.models import DEFAULT_ZONE_NAME
from feedsvc.sources.placeholders import fill
from feedsvc.sources.request_options import RequestOptions
from feedsvc.sources.rules import RuleSet

# auto: the extractor reads every page (a channel page for its article
# links, an article for its fields and related list); selectors are optional.
RecipeKind = Literal["auto", "article_page", "listing_page", "feed"]

BROWSER_EXTRA = "feedsvc[browser]"


def browser_extra_installed() -> bool:
    try:
        return importlib.util.find_spec("selenium") is not None
    except (ImportError, ValueError):  # ValueError: blocked in sys.modules
        return False


def require_extra() -> None:
    """A browser recipe without the extra is refused at load."""
    if not browser_extra_installed():
        raise ValueError(f'render = "browser" needs the optional extra: pip install "{BROWSER_EXTRA}" '
                         "(and the system's chromium and chromium-driver)")


def _check_selector(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError("selector is empty")
    try:
        CSSSelector(value)
    except (SelectorError, SyntaxError) as exc:
        raise ValueError(f"invalid CSS selector {value!r}: {exc}") from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Selectors(_Strict):
    """A table of CSS selectors plus `required`: the fields every match must
    have, or the recipe is reported as no longer matching the site."""

    required: tuple[str, ...] = ()

    @field_validator("*")
    @classmethod
    def _valid_selector(cls, value, info: ValidationInfo):
        return value if info.field_name == "required" else _check_selector(value)

    @model_validator(mode="after")
    def _required_are_fields(self):
        fields = [name for name in type(self).model_fields if name != "required"]
        for name in self.required:
            if name not in fields:
                raise ValueError(f"required: {name!r} is not one of {', '.join(fields)}")
            if getattr(self, name) is None:
                raise ValueError(f"required: {name!r} has no selector in this table")
        return self


class ArticleSelectors(_Selectors):
    """Where the fields of an article page are. Only `title` is needed
    (and always required); `summary` defaults to the body's first
    substantial paragraph."""

    title: str
    outlet: str | None = None
    author: str | None = None
    published: str | None = None
    body: str | None = None
    editors: str | None = None
    summary: str | None = None


class ListingSelectors(_Selectors):
    """Where the entries of a listing are. Field selectors are relative to
    each `item`; `link` defaults to the first link in `title`."""

    item: str
    title: str
    link: str | None = None
    summary: str | None = None
    outlet: str | None = None
    date: str | None = None


class Recipe(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1)
    kind: RecipeKind
    start_urls: list[str] = Field(min_length=1)
    # Fractions are allowed (0.5 = 30 s) for feeds of one's own; politeness
    # limits (robots.txt, per-host delay) still apply.
    refresh_interval_minutes: float = Field(default=30, ge=0.05, le=7 * 24 * 60)
    timezone: str = DEFAULT_ZONE_NAME
    language: str | None = None
    encoding: str | None = None
    outlet: str | None = None
    follow_links: bool = True
    max_follow: int = Field(default=30, ge=0, le=500)  # new articles read per refresh
    # kind = "feed": read each entry's own page for its body, author and
    # outlet ([article] selectors if given, else the extractor).
    full_text: bool = False
    # robots.txt is honoured unless the recipe opts out, e.g. for a site
    # that has agreed to be read.
    obey_robots_txt: bool = True
    # Retention: items older than this many days, or beyond the newest this
    # many, are pruned; what a default feed still shows is always kept.
    retention_days: float | None = Field(default=None, gt=0, le=100 * 365)
    retention_max_items: int | None = Field(default=None, ge=1)
    article: ArticleSelectors | None = None
    listing: ListingSelectors | None = None
    related: ListingSelectors | None = None
    # Block/keep rules for this source's items (feedsvc.sources.rules), besides
    # the service's FEEDSVC_RULES.
    rules: RuleSet = RuleSet()
    # Headers, cookies, user agent, proxy and what a logged-out answer
    # looks like (feedsvc.sources.request_options).
    request: RequestOptions = RequestOptions()
    # The Referer the image proxy sends for this source's images: None for
    # the item's own page (what the site's pages send), "" for none.
    image_referer: str | None = None
    # "browser": the page is built by JavaScript; render it in headless
    # Chromium (feedsvc.fetch.browser, the optional extra feedsvc[browser]).
    render: Literal["html", "browser"] = "html"
    path: str = Field(default="", exclude=True)
    # Start URLs hold FEEDSVC_RECIPE_VARIABLES values (a private mirror's
    # address, a key): shown only to holders of the refresh token.
    _placeholders_filled: bool = PrivateAttr(default=False)

    @property
    def placeholders_filled(self) -> bool:
        return self._placeholders_filled

    @field_validator("start_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (use an IANA name such as {DEFAULT_ZONE_NAME})") from None
        return name

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            codecs.lookup(name)
        except LookupError:
            raise ValueError(f"unknown encoding {name!r}") from None
        return name

    @model_validator(mode="after")
    def _sections_for_kind(self) -> Recipe:
        if self.kind == "article_page" and self.article is None:
            raise ValueError("kind 'article_page' needs an [article] table of selectors")
        if self.kind == "listing_page" and self.listing is None:
            raise ValueError("kind 'listing_page' needs a [listing] table of selectors")
        if self.kind == "auto" and self.listing is not None:
            raise ValueError("kind 'auto' finds listings itself: use kind 'listing_page' for a [listing] table")
        if self.full_text and self.kind != "feed":
            raise ValueError("full_text is for kind 'feed' (listing pages use follow_links)")
        return self

    @model_validator(mode="after")
    def _browser_available(self) -> Recipe:
        if self.render == "browser":
            require_extra()
            if self.request.proxy:
                raise ValueError('render = "browser" does not take request.proxy: the browser\'s requests '
                                 "go through feedsvc's own guard")
        return self

    @property
    def fingerprint(self) -> str:
        """Changes with anything that decides what is fetched or how a page
        is read: validators stored under another fingerprint are not sent,
        so the first fetch after an edit is a full one."""
        data = self.model_dump(mode="json", exclude=_NOT_READING)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# Keys that change neither what is fetched nor how it is read. (Rules
# count: after an edit, the first full fetch applies them to every page.)
_NOT_READING = {"name", "refresh_interval_minutes", "retention_days", "retention_max_items", "path",
                "image_referer"}


def _error_key(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(recipe)"


def parse_recipe(text: str, path: str, variables: dict[str, str] | None = None) -> Recipe:
    """Validate one recipe's TOML text. `variables` fill `{name}`
    placeholders in start URLs (the demo points recipes at its own port)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(path, "(syntax)", f"not valid TOML: {exc}") from None
    urls = data.get("start_urls")
    if isinstance(urls, list) and (variables or any(isinstance(u, str) and "{" in u for u in urls)):
        written = list(urls)
        try:
            data["start_urls"] = [fill(u, variables) if isinstance(u, str) else u for u in urls]
        except ValueError as exc:
            raise RecipeError(path, "start_urls", str(exc)) from None
        filled = data["start_urls"] != written
    else:
        filled = False
    try:
        # The variables reach request options through the context: their
        # filled values are kept apart from what the recipe file says.
        recipe = Recipe.model_validate({**data, "path": path}, context={"variables": variables or {}})
        recipe._placeholders_filled = filled
        return recipe
    except ValidationError as exc:
        first = exc.errors()[0]
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling against docs/recipes.md)"
        raise RecipeError(path, _error_key(first["loc"]), reason) from None
    except TypeError as exc:  # e.g. a top-level key named like a keyword
        raise RecipeError(path, "(recipe)", str(exc)) from None


def load_recipes(folder: str | Path, variables: dict[str, str] | None = None) -> list[Recipe]:
    """Load every `*.toml` in `folder`, sorted by file name. Raises the
    first RecipeError; an id used twice is an error too."""
    loaded = read_recipe_folder(folder, variables)
    if loaded.errors:
        raise loaded.errors[0]
    return list(loaded.recipes)


@dataclass(frozen=True)
class RecipeFolder:
    """What a recipes folder holds: the recipes to run and the files refused."""

    recipes: tuple[Recipe, ...]
    errors: tuple[RecipeError, ...]


def read_recipe(path: Path, variables: dict[str, str] | None = None) -> Recipe:
    """One recipe file; any problem, reading included, is a RecipeError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RecipeError(str(path), "(file)", "not UTF-8 text") from None
    except OSError as exc:  # removed or unreadable between listing and reading
        raise RecipeError(str(path), "(file)", exc.strerror or str(exc)) from None
    return parse_recipe(text, str(path), variables)


def read_recipe_folder(folder: str | Path, variables: dict[str, str] | None = None,
                       previous: Mapping[str, Recipe] | None = None) -> RecipeFolder:
    """Every usable recipe in `folder`, and an error for each file that is
    not. A refused file keeps its `previous` version (recipes by file
    path), so a broken edit never stops a source that was running."""
    folder, previous = Path(folder), previous or {}
    if not folder.is_dir():
        error = RecipeError(str(folder), "(folder)", "recipes folder does not exist")
        return RecipeFolder(tuple(previous.values()), (error,))
    recipes: list[Recipe] = []
    errors: list[RecipeError] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            recipe = read_recipe(path, variables)
            if recipe.id in seen:
                raise RecipeError(str(path), "id", f"id {recipe.id!r} is already used by {seen[recipe.id]}")
        except RecipeError as exc:
            errors.append(exc)
            recipe = previous.get(str(path))
            if recipe is None or recipe.id in seen:
                continue
        seen[recipe.id] = str(path)
        recipes.append(recipe)
    return RecipeFolder(tuple(recipes), tuple(errors))


def known_start_urls(folder: str | Path) -> dict[str, Path]:
    """Start URLs written in the folder's recipe files, by URL, whether or
    not the file is valid: what an import must not add a second time."""
    urls: dict[str, Path] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        start_urls = data.get("start_urls")
        for url in start_urls if isinstance(start_urls, list) else ():
            if isinstance(url, str):
                urls.setdefault(url.strip(), path)
    return urls


def folder_fingerprint(folder: str | Path) -> tuple | None:
    """Changes whenever a recipe file is added, removed, edited or replaced:
    names, inodes, sizes and modification times. None if the folder cannot
    be listed."""
    try:
        stats = [(path.name, path.stat()) for path in sorted(Path(folder).glob("*.toml"))]
    except OSError:
        return None
    return tuple((name, st.st_ino, st.st_size, st.st_mtime_ns) for name, st in stats)
