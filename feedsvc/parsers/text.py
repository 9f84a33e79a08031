"""Text clean-up shared by the HTML parsers: labels such as 来源: and
[责任编辑: …], "more" links, whitespace, and summary length."""

from __future__ import annotations

import re

from feedsvc.xmlchars import strip_invalid

SUMMARY_MAX_CHARS = 200

_SPACE = re.compile(r"[\s\u3000\u00a0\u200b]+")
_LABEL = re.compile(
    r"^[\s\[【(（]*(?:(?:来源|稿源|来自|出处|作者|文|记者|撰文|责任编辑|责编|编辑|source|author)\s*[:：]|by\s)\s*",
    re.I,
)
_TRAILING_BRACKET = re.compile(r"[\s\]】)）]+$")
_NAME_SEPARATORS = re.compile(r"[、,，;；/|\s]+")
_MORE_LINK = re.compile(r"\s*(?:[\[【]\s*(?:详细|详情|全文|更多)\s*[\]】]|阅读全文|查看全文|详情\s*>+)\s*$")
_SENTENCE_END = re.compile(r"[。！？!?；;]")


def squash(text: str | None) -> str:
    """Collapse every run of whitespace (full-width included) to one space;
    characters no feed can carry go (see feedsvc.xmlchars)."""
    return _SPACE.sub(" ", strip_invalid(text or "")).strip()


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
