"""Text clean-up shared by the HTML parsers: labels such as 来源: and
[责任编辑: …], "more" links, whitespace, and summary length."""

from __future__ import annotations

import re
import unicodedata

from feedsvc.core.xmlchars import strip_invalid

SUMMARY_MAX_CHARS = 200
# Outlet names are keys, slugs and index rows: a site may not make one a page long.
OUTLET_NAME_MAX_CHARS = 80

_SPACE = re.compile(r"[\s\u3000\u00a0]+")
# Format characters (Unicode category Cf, as of Unicode 14): bidi controls
# (U+202A-202E, U+2066-2069) that make "gpj.exe" show as "exe.jpg", zero-width
# characters (U+200B-200D, U+2060, U+FEFF) that make two names look alike,
# soft hyphens, invisible tags. They go from every text the parsers read; a
# test checks the class against the running Python's Unicode tables.
FORMAT_CHARACTERS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
_LABEL = re.compile(
    r"^[\s\[【(（]*(?:(?:来源|稿源|来自|出处|作者|文|记者|撰文|责任编辑|责编|编辑|source|author)\s*[:：]|by\s)\s*",
    re.I,
)
_TRAILING_BRACKET = re.compile(r"[\s\]】)）]+$")
_NAME_SEPARATORS = re.compile(r"[、,，;；/|\s]+")
_MORE_LINK = re.compile(r"\s*(?:[\[【]\s*(?:详细|详情|全文|更多)\s*[\]】]|阅读全文|查看全文|详情\s*>+)\s*$")
_SENTENCE_END = re.compile(r"[。！？!?；;]")
# Full-width letters and digits, and half-width katakana: their NFKC form
# means the same (Ａ is A). Full-width punctuation is left alone, as
# Chinese text writes it that way.
_WIDTH_VARIANTS = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff65-\uff9f]+")


def squash(text: str | None) -> str:
    """Collapse every run of whitespace (full-width included) to one space;
    characters no feed can carry (see feedsvc.core.xmlchars) and format
    characters go."""
    return _SPACE.sub(" ", FORMAT_CHARACTERS.sub("", strip_invalid(text or ""))).strip()


def clean_name(text: str | None, limit: int | None = None) -> str:
    """A title, author or outlet name as it is stored and keyed: NFC,
    width variants of letters and digits as ASCII, format characters
    (Unicode category Cf: bidi controls such as U+202E, zero-width U+200B
    and U+FEFF, soft hyphens) removed, so no name can be spoofed or made
    to look like another; whitespace squashed; at most `limit` characters."""
    value = text or ""
    if not value.isascii():
        value = _WIDTH_VARIANTS.sub(lambda m: unicodedata.normalize("NFKC", m.group()),
                                    unicodedata.normalize("NFC", value))
    value = squash(value)
    return value[:limit].rstrip() if limit is not None else value


def strip_label(text: str | None) -> str | None:
    """'来源:大众日报' → '大众日报'; '[责任编辑:杨凡]' → '杨凡'."""
    value = _TRAILING_BRACKET.sub("", _LABEL.sub("", squash(text)))
    return value or None


def split_names(text: str | None) -> tuple[str, ...]:
    value = strip_label(text)
    if not value:
        return ()
    return tuple(name for name in _NAME_SEPARATORS.split(value) if name)


def strip_more_link(text: str | None) -> str | None:
    value = _MORE_LINK.sub("", squash(text))
    return value or None


def shorten(text: str | None, limit: int = SUMMARY_MAX_CHARS) -> str | None:
    """At most `limit` characters, cut at a sentence end when one is near."""
    value = squash(text)
    if not value:
        return None
    if len(value) <= limit:
        return value
    head = value[: limit - 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] >= limit * 0.6:
        return head[: ends[-1]]
    return head.rstrip() + "…"


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def char_len(text: str) -> int:
    """Characters without spaces: a Chinese sentence has none."""
    return len(_SPACE.sub("", text))


def is_cjk_text(text: str) -> bool:
    bare = _SPACE.sub("", text)
    return bool(bare) and len(_CJK.findall(bare)) * 3 >= len(bare)
