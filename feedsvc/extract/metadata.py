"""The lines around a headline that Chinese portals write for people, not
machines: 来源/稿源 (the outlet), 作者/记者/撰文 (the author), 责任编辑/编辑
(the editors) and the publication time, plus English bylines.

Labels are only believed near the article — between the headline and the
body, and just after the body — because the same words appear all over a
portal (copyright notices say 来源：XXX, sidebars list other articles)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedsvc.extract.dates import DATE_HINT, looks_dated
from feedsvc.extract.outlet_names import KnownOutlets, default_outlets
from feedsvc.extract.tree import Run, char_len, class_id, is_cjk_text
from feedsvc.parsers.text import squash

_SEP = r"\s*[:：︰]\s*"
_LOOSE_SEP = r"\s*[:：︰︱｜|/／]\s*"  # 文/张三, 作者︱春春
_LABELS = re.compile(
    r"(?P<outlet>(?:来源|稿源|来自|出处|转自|新闻来源|信息来源|文章来源|本文来源)" + _SEP
    + r"|(?:本文|文章|稿件)?来源于\s*[:：]?\s*)"
    r"|(?P<editor>(?:责任编辑|责编|值班编辑|编辑|责任编缉|编审|审核|校对)" + _SEP + r")"
    r"|(?P<author>(?:(?<![\u4e00-\u9fff])文|作者|撰文|撰稿|撰稿人|记者|采写|通讯员|执笔|执笔人)" + _LOOSE_SEP + r")"
    # The issuing body of a government document (政府信息公开 tables): its
    # author when no person signs it.
    r"|(?P<issuer>(?:发文机关|发文单位|发布机关|发布机构|发文机构)" + _SEP + r")",
)
_DATE_LABEL = re.compile(r"(?:发布|发表|出版|发稿)(?:时间|日期)" + _SEP)
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


def _clip(value: str) -> str:
    end = _VALUE_END.search(value)
    return squash(value[: end.start()] if end else value)


def _names(value: str, limit: int = 5) -> tuple[str, ...]:
    """Names from a label's value: Chinese names are 2–4 characters
    separated by spaces or 、; stop at the first token that is no name."""
    names = []
    for token in re.split(r"[\s、,，;；/]+", value):
        token = _EDITOR_CODE.sub("", token.strip("　 ·.。"))
        if not token:
            continue
        if is_cjk_text(token) and (not _NAME.fullmatch(token) or set(token) & _NOT_NAME):
            break
        names.append(token)
        if len(names) == limit:
            break
    return tuple(names)


def _outlet(value: str) -> str | None:
    value = _clip(value.strip().lstrip("[【(（《<「 ").replace("》", " "))
    if is_cjk_text(value):
        value = value.split(" ")[0]  # Chinese outlet names have no spaces
    value = value.strip("　 .。,，;；:：")
    if default_outlets().is_placeholder(value):  # 来源：转载文章 names nobody
        return None
    return value if 1 < char_len(value) <= 30 else None


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
        matches = list(_LABELS.finditer(text))
        for i, match in enumerate(matches):
            kind = match.lastgroup
            if kind in found:
                continue
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            value = text[match.end():end].strip()
            if not value and i + 1 == len(matches) and index + 1 < len(runs):
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


_NAME_SPLIT = re.compile(r"[\s|｜/·•⋅,，、()（）\[\]【】]+")
# A lead that opens with its outlet: 新浪科技讯 北京时间…, 北京商报讯（记者 …）, 新华社北京5月20日电.
_LEAD_OUTLET = re.compile(r"^[\s（(【\[]*(?P<name>[\u4e00-\u9fffA-Za-z0-9]{2,12}?)(?:讯|消息|[\u4e00-\u9fff]{2,4}\d{1,2}月\d{1,2}日电)")


def outlet_beside(runs: list[Run], index: int | None, known: KnownOutlets) -> Found | None:
    """An unlabelled outlet on the article's date line or the line next to it
    (<span>中国网</span> <span>2019-11-25 10:37</span>): a name the outlet
    directory knows, so a reporter's name or a channel is never taken."""
    if index is None:
        return None
    for near in (index, index - 1, index + 1):
        if not 0 <= near < len(runs) or char_len(runs[near].text) > 60:
            continue
        text = DATE_HINT.sub(" ", runs[near].text)
        for token in _NAME_SPLIT.split(re.sub(r"\d{1,2}:\d\d(?::\d\d)?|\d+", " ", text)):
            if known.is_outlet(token):
                return Found(token, runs[near])
    return None


def lead_outlet(runs: list[Run], known: KnownOutlets) -> Found | None:
    """新浪科技讯 … at the start of the body's first lines."""
    for run in runs[:2]:
        match = _LEAD_OUTLET.match(run.text)
        if match and known.is_outlet(match.group("name")):
            return Found(match.group("name"), run)
    return None
