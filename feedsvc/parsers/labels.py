"""Labelled lines: the one splitter for 来源/稿源/来自 (the outlet), 作者/记者/
通讯员/撰文 (the author), 时间/发布时间 (the time) and 责任编辑/编辑/审核 (the
editors), however many of them share a line.

Portals write several on one line (`来源:济南日报 作者:王小明 2024-05-01
10:00`), so a recipe whose selectors for outlet, author and time all match
that line must get each its own part, and the extractor reads the same
lines the same way. Each value runs to the next label; a value is then
clipped where a date or a page widget (分享, 字号…) starts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedsvc.parsers.text import char_len, is_cjk_text, split_names, squash, strip_label

_SEP = r"\s*[:：︰]\s*"
_LOOSE_SEP = r"\s*[:：︰︱｜|/／]\s*"  # 文/张三, 作者︱春春
LABELS = re.compile(
    r"(?P<outlet>(?:来源|稿源|来自|出处|转自|新闻来源|信息来源|文章来源|本文来源)" + _SEP + r")"
    r"|(?P<editor>(?:责任编辑|责编|值班编辑|编辑|责任编缉|编审|审核|校对)" + _SEP + r")"
    r"|(?P<author>(?:(?<![\u4e00-\u9fff])文|作者|撰文|撰稿|撰稿人|记者|采写|通讯员|执笔|执笔人)" + _LOOSE_SEP + r")"
    # The issuing body of a government document (政府信息公开 tables): its
    # author when no person signs it.
    r"|(?P<issuer>(?:发文机关|发文单位|发布机关|发布机构|发文机构)" + _SEP + r")"
    # 时间: alone or after 发布/发表/…, never the tail of 成文日期.
    r"|(?P<time>(?<![\u4e00-\u9fff])(?:发布|发表|发稿|出版|更新)?(?:时间|日期)" + _SEP + r")",
)
# Where a label's value ends: another label, a bracket, a date, or one of
# the widgets that sit on the same line.
_VALUE_END = re.compile(
    r"[\]】)）|｜<>「」\[【(（]|(?:19|20)\d\d[-/.年]|\d{1,2}月\d|\d{1,2}:\d\d"
    r"|(?:发布|时间|日期|字号|打印|分享|举报|评论|收藏|浏览|阅读|点击|参与|关注|原标题|手机看)"
)
_EDITOR_CODE = re.compile(r"_[A-Za-z]*\d[A-Za-z0-9]*$")  # 杨倩_NF4425: the portal's staff id
_NAME = re.compile(r"[\u4e00-\u9fff·]{2,5}")
# Characters that almost never occur in a personal name but do in the
# words that follow 记者 in running text (记者发现, 记者从…了解到).
_NOT_NAME = set("的了在是从向对说问到也就都而及与将已被把这那们时后日月年表示获悉发现解看采访调查注意梳理走访致电得知询证实介绍称曾还又再并或我你他她它会")
OUTLET_MAX_CHARS = 30


@dataclass(frozen=True)
class Segment:
    kind: str  # outlet, editor, author, issuer or time
    start: int  # where its label starts in the line
    value: str  # what follows the label, up to the next label


def segments(text: str) -> list[Segment]:
    """Every labelled part of a line, in order."""
    matches = list(LABELS.finditer(text))
    return [Segment(m.lastgroup, m.start(), text[m.end(): matches[i + 1].start() if i + 1 < len(matches) else len(text)]
                    .strip()) for i, m in enumerate(matches)]


def clip(value: str) -> str:
    end = _VALUE_END.search(value)
    return squash(value[: end.start()] if end else value)


def names(value: str, limit: int = 5) -> tuple[str, ...]:
    """Names from a label's value: Chinese names are 2–4 characters
    separated by spaces or 、; stop at the first token that is no name."""
    found = []
    for token in re.split(r"[\s、,，;；/]+", value):
        token = _EDITOR_CODE.sub("", token.strip("　 ·.。"))
        if not token:
            continue
        if is_cjk_text(token) and (not _NAME.fullmatch(token) or set(token) & _NOT_NAME):
            break
        found.append(token)
        if len(found) == limit:
            break
    return tuple(found)


def outlet_name(value: str) -> str | None:
    """An outlet's name from a label's value, or None when what is there
    cannot be one (too long, a sentence, nothing left after clipping)."""
    value = clip(value.strip().lstrip("[【(（《<「 ").replace("》", " "))
    if is_cjk_text(value):
        value = value.split(" ")[0]  # Chinese outlet names have no spaces
    value = value.strip("　 .。,，;；:：")
    return value if 1 < char_len(value) <= OUTLET_MAX_CHARS else None


# What a recipe field reads from a line: the segment kinds that are its own.
_FIELD_KINDS = {"outlet": ("outlet",), "author": ("author",), "published": ("time",), "editors": ("editor",)}


def own_part(text: str | None, field: str) -> str | None:
    """The part of a selector's text that belongs to `field` (outlet,
    author, published or editors): its own label's value; the unlabelled
    start of the line when the line labels only other fields; the whole
    text when it has no labels. None when the line labels other fields
    only and starts with one of them."""
    text = squash(text)
    if not text:
        return None
    parts = segments(text)
    if not parts:
        return text
    own = next((part.value for part in parts if part.kind in _FIELD_KINDS[field]), None)
    if own is not None:
        return own
    if field == "published":  # the time is often the one unlabelled part: 来源:X 作者:Y 2024-05-01
        return text
    head = text[: parts[0].start].strip()
    return head or None


def outlet_of(text: str | None) -> str | None:
    part = own_part(text, "outlet")
    return outlet_name(part) if part else None


def author_of(text: str | None) -> str | None:
    part = own_part(text, "author")
    return (clip(strip_label(part) or "") or None) if part else None


def editors_of(text: str | None) -> tuple[str, ...]:
    part = own_part(text, "editors")
    return split_names(part) if part else ()
