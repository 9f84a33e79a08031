"""Block and keep rules: which items a source (or the whole service) never
stores, and the `regex:` filters of feed queries.

A pattern is a substring (case and width folded, as feed filters are), a
`word:` (the same, but not inside a longer run of letters or digits) or a
`regex:` run by RE2, whose time grows linearly with the text whatever the
pattern: `(a+)+$` cannot backtrack for ever on a crafted title. Pure: text
in, verdicts out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import lxml.html
import re2
from lxml.etree import ParserError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from feedsvc.core.models import ItemRecord

RuleField = Literal["title", "summary", "body", "author", "outlet", "link"]
RULE_FIELDS: tuple[str, ...] = ("title", "summary", "body", "author", "outlet", "link")
REGEX, WORD = "regex:", "word:"
PATTERN_MAX_CHARS = 1000
# RE2 refuses a pattern whose automaton would need more memory than this,
# so one rule cannot take a worker's memory either.
REGEX_MAX_MEMORY_BYTES = 8 << 20


def fold(text: str) -> str:
    # feedsvc.store.search's fold, imported when first used: recipes import this
    # module, and search imports the parsers, which import recipes.
    from feedsvc.core.folding import fold as search_fold

    return search_fold(text)


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is reported to whoever wrote it, not to stderr
    options.max_mem = REGEX_MAX_MEMORY_BYTES
    return options


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern; `source` is what was written."""

    source: str
    kind: Literal["text", "word", "regex"]
    needle: str  # folded text for "text"; unused otherwise
    compiled: object | None = None  # an RE2 pattern for "word" and "regex"

    def search(self, text: str | None) -> bool:
        if not text:
            return False
        if self.kind == "text":
            return self.needle in fold(text)
        target = fold(text) if self.kind == "word" else text
        return self.compiled.search(target) is not None


def compile_pattern(source: str) -> Pattern:
    """'regex:…', 'word:…' or a plain substring; ValueError (RE2's own
    words) when a regular expression is malformed or too large."""
    if not isinstance(source, str) or not source.strip():
        raise ValueError("pattern is empty")
    if len(source) > PATTERN_MAX_CHARS:
        raise ValueError(f"pattern is longer than {PATTERN_MAX_CHARS} characters")
    if source.startswith(REGEX):
        expression = source[len(REGEX):]
        if not expression:
            raise ValueError("regex: is empty")
        try:
            return Pattern(source, "regex", "", re2.compile(expression, _options()))
        except re2.error as exc:
            reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            raise ValueError(f"bad regular expression {expression[:60]!r}: {reason}") from None
    if source.startswith(WORD):
        word = fold(source[len(WORD):].strip())
        if not word:
            raise ValueError("word: is empty")
        # Letters and digits of any script bound a word, not just ASCII ones.
        expression = rf"(?:^|[^\p{{L}}\p{{N}}]){re2.escape(word)}(?:[^\p{{L}}\p{{N}}]|$)"
        return Pattern(source, "word", word, re2.compile(expression, _options()))
    return Pattern(source, "text", fold(source.strip()))


class Rule(BaseModel):
    """`match` looked for in `fields` (all six when not given)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str
    fields: tuple[RuleField, ...] = RULE_FIELDS

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str) -> str:
        compile_pattern(value)
        return value

    @property
    def pattern(self) -> Pattern:
        return cached_pattern(self.match)


_PATTERNS: dict[str, Pattern] = {}


def cached_pattern(source: str) -> Pattern:
    # Rules are few and reused on every item: compile each once.
    found = _PATTERNS.get(source)
    if found is None:
        if len(_PATTERNS) > 4096:
            _PATTERNS.clear()
        found = _PATTERNS[source] = compile_pattern(source)
    return found


def _as_rule(value):
    return {"match": value} if isinstance(value, str) else value


class RuleSet(BaseModel):
    """`block`: an item matching any is not stored. `keep`: when given, an
    item must match one of them to be stored. Block wins over keep."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    block: tuple[Rule, ...] = Field(default=())
    keep: tuple[Rule, ...] = Field(default=())

    @field_validator("block", "keep", mode="before")
    @classmethod
    def _strings_are_rules(cls, value):
        if isinstance(value, (list, tuple)):
            return [_as_rule(v) for v in value]
        return value

    def __bool__(self) -> bool:
        return bool(self.block or self.keep)


def parse_rule_set(data: dict) -> RuleSet:
    """A rule set from settings (FEEDSVC_RULES); ValueError naming the rule."""
    from pydantic import ValidationError

    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None


def matches_all(patterns: Iterable[str], text: str) -> bool:
    return all(cached_pattern(p).search(text) for p in patterns)


def matches_any(patterns: Iterable[str], text: str) -> bool:
    return any(cached_pattern(p).search(text) for p in patterns)


def _body_text(html: str | None) -> str | None:
    if not html:
        return None
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div").text_content()
    except (ParserError, ValueError):
        return html


def record_fields(record: ItemRecord) -> dict[str, str | None]:
    """The texts rules look at, by field name. The body is read as text,
    so a rule never matches inside a tag or an attribute."""
    return {"title": record.title, "summary": record.summary, "body": _body_text(record.body_html),
            "author": record.author, "outlet": record.outlet, "link": record.url}


def _first_match(rules: Iterable[Rule], texts: dict[str, str | None]) -> Rule | None:
    for rule in rules:
        pattern = rule.pattern
        if any(pattern.search(texts.get(name)) for name in rule.fields):
            return rule
    return None


def blocked_by(rule_sets: Sequence[RuleSet], record: ItemRecord) -> str | None:
    """Why `record` must not be stored ("block: 广告" or "keep: none
    matched"), or None to store it. Every set applies: the service's and
    the recipe's."""
    active = [s for s in rule_sets if s]
    if not active:
        return None
    texts = record_fields(record)
    for rules in active:
        hit = _first_match(rules.block, texts)
        if hit is not None:
            return f"block: {hit.match}"
    for rules in active:
        if rules.keep and _first_match(rules.keep, texts) is None:
            return "keep: no rule matched"
    return None


def sift(rule_sets: Sequence[RuleSet], records: Iterable[ItemRecord]) -> tuple[list[ItemRecord], list[ItemRecord]]:
    """(records to store, records blocked)."""
    kept, blocked = [], []
    for record in records:
        (blocked if blocked_by(rule_sets, record) else kept).append(record)
    return kept, blocked
