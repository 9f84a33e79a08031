"""The lines around a headline that Chinese portals write for people, not
machines: 来源/稿源 (the outlet), 作者/记者/撰文 (the author), 责任编辑/编辑
(the editors) and the publication time, plus English bylines.

Labels are only believed near the article — between the headline and the
body, and just after the body — because the same words appear all over a
portal (copyright notices say 来源：XXX, sidebars list other articles)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedsvc.extract.dates import looks_dated
from feedsvc.extract.tree import Run, class_id
from feedsvc.parsers.labels import LABELS as _LABELS, clip as _clip, names as _names, outlet_name as _outlet, segments
from feedsvc.parsers.text import char_len, squash

_SEP = r"\s*[:：︰]\s*"
_DATE_LABEL = re.compile(r"(?:发布|发表|出版|发稿)(?:时间|日期)" + _SEP)
_BYLINE = re.compile(
    r"(?:记者|通讯员|撰文|作者)\s*[:：]?\s*"
    r"(?P<names>[\u4e00-\u9fff·]{2,4}(?:[\s、,，和]+[\u4e00-\u9fff·]{2,4}){0,4})"
    r"(?=[\s）)】\]/|,，。、]|发自|报道|摄|电|综合|$)"
)
# A credit closing the article: （姚峰 上海报道）, (张三 李四), （记者 王五）.
_CLOSING_CREDIT = re.compile(
    r"[（(]\s*(?:记者|作者|文)?\s*(?P<names>[\u4e00-\u9fff·]{2,4}(?:[\s、,，]+[\u4e00-\u9fff·]{2,4}){0,4})"
    r"(?:\s*[\u4e00-\u9fff]{0,4}(?:报道|电|摄|整理|编译))?\s*[)）]\s*$"
)
_EN_BY = re.compile(r"^\s*by\s+", re.I)
_BYLINE_CLASS = re.compile(r"byline|author|writer|reporter|editor-name")


@dataclass
class Found:
    value: str | tuple
    run: Run | None = None


def labelled(runs: list[Run], backwards: bool = False) -> dict[str, Found]:
    """The first outlet, author, editors and issuer labelled within `runs` (the
    last ones with `backwards`, for when the body's start is the anchor)."""
    found: dict[str, Found] = {}
    order = range(len(runs) - 1, -1, -1) if backwards else range(len(runs))
    for index in order:
        run = runs[index]
        text = run.text
        if char_len(text) > 160:  # a label line, not prose quoting one
            continue
        parts = segments(text)
        for i, part in enumerate(parts):
            kind, value = part.kind, part.value
            if kind in found or kind == "time":  # times are read by dated_runs
                continue
            if not value and i + 1 == len(parts) and index + 1 < len(runs):
                value = runs[index + 1].text if char_len(runs[index + 1].text) <= 30 else ""
            parsed = _outlet(value) if kind in ("outlet", "issuer") else _names(_clip(value))
            if parsed:
                found[kind] = Found(parsed, run)
    return found


def byline(runs: list[Run], backwards: bool = False) -> Found | None:
    """记者 张三 / （记者 张三 李四）/ 本报记者张三报道 in the given runs."""
    for run in reversed(runs) if backwards else runs:
        if run.link_chars * 2 > char_len(run.text):  # a link to 记者训练营 is no byline
            continue
        for match in _BYLINE.finditer(run.text):
            names = _names(match.group("names"))
            if names:
                return Found(names, run)
    return None


# sohu-style date lines name the author in brackets: 2004年7月16日08:19 [ 黄宇 ].
_BRACKETED = re.compile(r"[\[【]\s*(?P<names>[\u4e00-\u9fff·]{2,4}(?:\s+[\u4e00-\u9fff·]{2,4}){0,3})\s*[\]】]")


def bracketed_name(run: Run | None) -> Found | None:
    if run is None:
        return None
    for match in _BRACKETED.finditer(run.text):
        names = _names(match.group("names"))
        if names and not _LABELS.search(run.text[max(0, match.start() - 4): match.start()]):
            return Found(names, run)
    return None


def closing_credit(runs: list[Run]) -> Found | None:
    for run in reversed(runs):
        match = _CLOSING_CREDIT.search(run.text)
        names = _names(match.group("names")) if match else ()
        if names:
            return Found(names, run)
    return None


def english_byline(root) -> str | None:
    """A short element whose class says byline/author, e.g. 'By Jane Doe'."""
    for el in root.iter("span", "div", "p", "a", "address"):
        if el.get("rel") == "author" or _BYLINE_CLASS.search(class_id(el)) or el.get("itemprop") == "author":
            text = squash(el.text_content())
            if 2 < len(text) <= 80 and not re.search(r"\d{4}|[:：]", text):
                return _EN_BY.sub("", text)
    return None


def clean_author(text: str | None) -> str | None:
    """'By A, B, and C, CNN' → 'A, B, C': names only, without the
    agency that often trails an English byline."""
    if not text:
        return None
    parts = [p.strip() for p in re.split(r",|;|\band\b|&", _EN_BY.sub("", squash(text))) if p.strip()]
    names = [p for p in parts if not re.fullmatch(r"[A-Z]{2,6}", p)]
    value = ", ".join(names)
    return value if 1 < len(value) <= 120 else None


def dated_runs(runs: list[Run], backwards: bool = False) -> list[tuple[Run, str]]:
    """Runs that may hold the publication time, with the text after any
    发布时间: label (so 成文日期 before it does not win). Prose is not a
    date line: a long run counts only if it starts with its date."""
    out = []
    for run in reversed(runs) if backwards else runs:
        text = run.text
        if char_len(text) > 80 and not looks_dated(text[:24]):
            continue
        label = _DATE_LABEL.search(text)
        out.append((run, text[label.end():] if label and label.end() < len(text) else text))
    return out
