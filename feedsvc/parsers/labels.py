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

from feedsvc.parsers.outlet_names import default_outlets
from feedsvc.parsers.text import char_len, is_cjk_text, split_names, squash, strip_label

_SEP = r"\s*[:：︰]\s*"
_LOOSE_SEP = r"\s*[:：︰︱｜|/／]\s*"  # 文/张三, 作者︱春春
LABELS = re.compile(
    r"(?P<outlet>(?:来源|稿源|来自|出处|转自|新闻来源|信息来源|文章来源|本文来源)" + _SEP
    + r"|(?:本文|文章|稿件)?来源于\s*[:：]?\s*)"
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


# Words that sit among names without being one: roles (赵雪、通讯员、刘丽),
# channels and the portal's own name in an author slot, and verbs a label
# runs into (作者通过…).
_ROLE = re.compile(r"^(?:本报|本台|本网|特约|见习|实习|首席|驻站|摄影)?(?:记者|通讯员|实习生|摄影|编辑|主持人|摄像)")
_NOT_PERSON = {
    "通过", "表示", "报道", "介绍", "综合", "整理", "编译", "来源", "转载", "原创", "本网", "本报", "本台", "本站", "网络",
    "佚名", "未知", "匿名", "网友", "小编", "房产", "财经", "科技", "体育", "娱乐", "汽车", "教育", "健康", "旅游",
    "时尚", "军事", "国际", "国内", "社会", "本地", "新闻", "时政", "文化", "游戏", "数码", "手机", "家居", "美食",
    "评论", "视频", "图片", "专题", "股票", "基金", "理财", "资讯", "频道",
}
_CODE = re.compile(r"[A-Za-z]{1,6}\d{1,8}|\d+")  # PK155, an editor's staff code


def is_person(token: str) -> bool:
    """Whether a token in an author or editor slot can be a person's name."""
    return bool(token) and "@" not in token and token not in _NOT_PERSON and not _CODE.fullmatch(token) \
        and not _ROLE.fullmatch(token) and not default_outlets().is_outlet(token)


def names(value: str, limit: int = 5) -> tuple[str, ...]:
    """Names from a label's value: Chinese names are 2–4 characters
    separated by spaces or 、; role words, codes and e-mail addresses among
    them are skipped; stop at the first other token that is no name."""
    found = []
    for token in re.split(r"[\s、,，;；/]+", value):
        token = _EDITOR_CODE.sub("", token.strip("　 ·.。"))
        if _ROLE.match(token) and _NAME.fullmatch(_ROLE.sub("", token) or "-"):
            token = _ROLE.sub("", token)  # 通讯员刘丽
        if not token or _ROLE.fullmatch(token) or "@" in token or _CODE.fullmatch(token):
            continue
        if token in _NOT_PERSON or default_outlets().is_outlet(token):
            break
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
    if default_outlets().is_placeholder(value):  # 来源：转载文章 names nobody
        return None
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
