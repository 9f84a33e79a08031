"""Finding the article body without selectors.

Each text run scores for the blocks around it the way Readability does
(one point, one per comma or stop, up to three for length), but commas and
stops include the Chinese ones and length counts characters, not words, so a
Chinese paragraph scores like an English one. A block's score is then damped
by its link density (navigation and "related" lists are mostly links) and
nudged by class names. The best block, with siblings that score nearly as
well, is the body; inside it, link lists, share bars and footers go."""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html

from feedsvc.extract.tree import PUNCTUATION, Run, ancestors, class_id, drop, runs_of, weighted_len
from feedsvc.parsers.text import char_len
from feedsvc.parsers.dom import absolute_http
from feedsvc.parsers.sanitize import clean_html

_POSITIVE = re.compile(r"article|body|content|entry|main|post|text|story|detail|zhengwen|\bzw|endtext|editor|txt")
_NEGATIVE = re.compile(
    r"comment|foot|sidebar|side-|share|social|related|relate|recommend|advert|\bads?\b|\bad[-_]|banner|\bnav|menu"
    r"|copyright|toolbar|tool-|breadcrumb|crumb|hotnews|\brank|\btags?\b|login|sponsor|promo|widget|popup|xgxw"
    r"|xgwz|\bmore\b|subscribe|newsletter|author-info|print|jubao|report-|\bhot\b"
)
_DROP_TAGS = {"nav", "aside", "form", "footer", "header"}
# Levels up from a text run's own block and the share of its score each gets.
_LEVEL_WEIGHTS = (1.0, 1.0, 0.5, 1 / 3, 0.25, 0.2)
_TAG_WEIGHTS = {"div": 5, "article": 10, "section": 3, "td": 3, "pre": 3, "blockquote": 3, "ol": -3, "ul": -3,
                "li": -3, "dl": -3, "form": -3, "th": -5, "h1": -5, "h2": -5, "h3": -5, "h4": -5, "body": -10}
_MIN_PARAGRAPH = 12  # weighted length of a run worth scoring (six ideographs)
# Lines that end articles without being part of them.
_BOILERPLATE = re.compile(
    r"^[\s(（\[【]*(?:责任编辑|责编|编辑|本文来源|来源|稿源|原标题)\s*[:：]|版权所有|版权声明|声明[:：]|免责声明|copyright|©|"
    r"未经.{0,10}(?:授权|许可).{0,10}(?:转载|使用)|转载请注明|分享到|扫一扫|关注我们|返回.{0,6}首页|展开全文|点击进入|相关阅读"
    r"|相关新闻|延伸阅读|热门推荐|推荐阅读|相关报道|相关链接|\[?打印\]?|\[?关闭\]?|想爆料|新闻热线|报料热线",
    re.I,
)
# Lines that are never the article wherever they sit in it: breadcrumbs,
# pagers, news-hotline and 爆料 boxes.
_NOT_ARTICLE = re.compile(
    r"^(?:您的位置|您现在的位置|您当前的位置|当前位置|所在位置|现在位置)\s*[:：]"
    r"|^(?=.*(?:上一页|下一页|页))(?:上一页|下一页|首页|尾页|末页|\d{1,3}|第\s*\d+\s*页|共\s*\d+\s*页|[<>«»‹›]+|\s)+$"
    r"|想爆料|我要爆料|新闻热线|报料热线|爆料热线|提供新闻线索|广告热线|诚邀合作伙伴"
)
_SUBTITLE_MAX = 60  # characters: a deck line, not a paragraph
_LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "data-url", "original")


@dataclass
class Stats:
    chars: int = 0
    links: int = 0
    score: float = 0.0
    runs: int = 0

    @property
    def link_density(self) -> float:
        return self.links / self.chars if self.chars else 1.0


def _stats(runs: list[Run], score: bool, muted=None) -> dict:
    """Per block: characters, link characters and score of the runs under it.
    Runs for which `muted(block)` holds count as text but score nothing."""
    stats: dict = {}
    for run in runs:
        chars = char_len(run.text)
        links = min(run.link_chars, chars)
        paragraph = 0.0
        if score and weighted_len(run.text) >= _MIN_PARAGRAPH and links * 2 < chars \
                and not (muted and muted(run.block)):
            paragraph = 1 + len(PUNCTUATION.findall(run.text)) + min(weighted_len(run.text) / 100, 3)
        for level, el in enumerate(ancestors(run.block)):
            entry = stats.get(el)
            if entry is None:
                entry = stats[el] = Stats()
            entry.chars += chars
            entry.links += links
            entry.runs += 1
            if level < len(_LEVEL_WEIGHTS):
                entry.score += paragraph * _LEVEL_WEIGHTS[level]
    return stats


# Readers' comments are prose too: a class or id token that starts with
# one of these words marks a comment section ("comment-text", "commentlist",
# "user-reply", "评论区"), and everything inside it is the readers' text.
_COMMENTS = re.compile(r"(?:^|[\s_-])(?:comment|reply|replies|discuss|pinglun|cmt|留言|评论|回复)")
_DOMINANT_SCORE, _DOMINANT_CHARS = 0.8, 0.6


def _in_comments(el, cache: dict) -> bool:
    """Whether `el` or a block around it (below <body>) marks a comment section."""
    path = []
    found = False
    while el is not None and el.tag not in ("body", "html"):
        if el in cache:
            found = cache[el]
            break
        path.append(el)
        if _COMMENTS.search(class_id(el)):
            found = True
            break
        el = el.getparent()
    for seen in path:
        cache[seen] = found
    return found


def _class_weight(el) -> int:
    names = class_id(el)
    weight = _TAG_WEIGHTS.get(el.tag, 0) if isinstance(el.tag, str) else 0
    if _NEGATIVE.search(names):
        weight -= 25
    if _POSITIVE.search(names):
        weight += 25
    return weight


def find_body(runs: list[Run]) -> list:
    """The element(s) holding the article text, in document order."""
    in_comments: dict = {}
    # Comments score for nobody, not even the wrapper holding the article
    # and its comments; a page that is all "comments" (a mislabelled
    # wrapper) is scored as if it had none.
    stats = _stats(runs, score=True, muted=lambda block: _in_comments(block, in_comments))
    if not any(entry.score > 0 for entry in stats.values()):
        stats = _stats(runs, score=True)
    finals = {el: (entry.score + _class_weight(el)) * (1 - entry.link_density)
              for el, entry in stats.items() if entry.score > 0}
    if not finals:
        return []
    best = _dominant_child(max(finals, key=finals.get), stats)
    best_score = finals[best]
    parent = best.getparent()
    if parent is None:
        return [best]
    # Articles split into several sibling blocks (paged text, a photo block
    # between two text blocks) keep every sibling that scores nearly as well.
    threshold = max(10.0, best_score * 0.2)
    # Raw scores here: a class name alone (article-info) does not make a sibling text.
    # Readers' comments often sit right after the text, as its sibling.
    return [s for s in parent if s is best or s in stats and stats[s].score * (1 - stats[s].link_density)
            >= threshold and _is_prose(stats[s]) and not _in_comments(s, in_comments)]


def _dominant_child(best, stats: dict):
    """A wrapper (an <article> holding the text, then a comment form and
    "more stories") outscores the text block by a little; when one child
    carries nearly all of the score in a much smaller share of the text,
    that child is the body."""
    while True:
        entry = stats[best]
        child = next((c for c in best if c in stats and stats[c].score >= entry.score * _DOMINANT_SCORE
                      and stats[c].chars <= entry.chars * _DOMINANT_CHARS), None)
        if child is None:
            return best
        best = child


def _is_prose(entry: Stats) -> bool:
    """Few links and long lines: text, not a list of headlines and dates."""
    return entry.link_density < 0.25 and entry.chars >= 25 * entry.runs


def _is_noise(el, entry: Stats, body_chars: int) -> bool:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _DROP_TAGS:
        return True
    names = class_id(el)
    if _COMMENTS.search(names):  # a comment thread inside the chosen block
        return True
    if _NEGATIVE.search(names) and not _POSITIVE.search(names):
        return entry.link_density > 0.3 or entry.chars * 4 < body_chars
    if tag in ("ul", "ol", "div", "table", "dl", "section", "p", "li", "td"):
        # A list of links (related stories, tags, share buttons).
        return entry.link_density > 0.5 and (entry.chars - entry.links) < 60
    return False


def _drop_boilerplate_tail(node) -> None:
    """Copyright lines, editor credits and 'related' headings at the end."""
    for _ in range(8):
        runs = runs_of(node)
        if not runs or not _BOILERPLATE.search(runs[-1].text) or char_len(runs[-1].text) > 120:
            return
        block = runs[-1].block
        if block is node:
            return
        drop(block)


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,，:：;；!！?？、]+", text) if c]


def _is_subtitle(line: str, title: str, following: str | None = None) -> bool:
    """A deck line that repeats part of a headline the page breaks up
    (标题 主题，副题 → 主题，其他 / 副题), not the headline itself and not
    its 原标题 note, both of which belong to the text as published."""
    if char_len(line) > _SUBTITLE_MAX or "。" in line or "原标题" in line \
            or re.sub(r"\s", "", line) == re.sub(r"\s", "", title):
        return False
    line_clauses, title_clauses = _clauses(line), _clauses(title)
    if not line_clauses or not title_clauses:
        return False
    if set(line_clauses) <= set(title_clauses):
        return True  # 副题 alone
    # 主题，more words — when the next line is the headline's other part
    return bool(following) and line_clauses[0] == title_clauses[0] \
        and set(_clauses(following)) <= set(title_clauses[1:])


_DECK_LINES = 4  # a deck has at most this many lines above the text
# What a short line above the text is when it is no deck line: a byline or dateline.
_NOT_DECK = re.compile(r"[。！？!?]|记者|通讯员|[讯电]\s*[（(]?|报道|摄|^\s*[（(]")


def _deck(runs: list[Run], title: str | None) -> int:
    """How many lines at the body's start are the headline's deck: short
    lines without a full stop (主题 / 副题 / 引题), one of which repeats
    part of the headline."""
    count = 0
    while count < min(_DECK_LINES, len(runs)) and char_len(runs[count].text) <= _SUBTITLE_MAX \
            and not _NOT_DECK.search(runs[count].text):
        count += 1
    repeats = any(_is_subtitle(run.text, title, runs[i + 1].text if i + 1 < len(runs) else None)
                  for i, run in enumerate(runs[:count])) if title else False
    # The text itself must follow, or the "deck" is all there is.
    return count if repeats and count < len(runs) else 0


def _drop_lines(node, title: str | None) -> None:
    """Breadcrumbs, pagers and hotline boxes anywhere in the body, and deck
    lines at its start when one of them repeats the headline."""
    runs = runs_of(node)
    deck = _deck(runs, title)
    for index, run in enumerate(runs):
        block = run.block
        if block is node or block.getparent() is None or char_len(run.text) > 200:
            continue
        following = runs[index + 1].text if index + 1 < len(runs) else None
        repeats = index < deck or (index < 3 and title and _is_subtitle(run.text, title, following))
        if (repeats or _NOT_ARTICLE.search(run.text)) and len(runs_of(block)) == 1:
            drop(block)


def clean(nodes: list, drop_blocks: list, title: str | None = None) -> None:
    """Remove noise inside the body nodes, plus `drop_blocks` (the headline,
    label lines and related lists when the body holds them)."""
    for block in drop_blocks:
        if block is not None and block.getparent() is not None and block not in nodes:
            drop(block)
    for node in nodes:
        _drop_lines(node, title)
        stats = _stats(runs_of(node), score=False)
        total = stats[node].chars if node in stats else 0
        for el in list(node.iterdescendants()):
            if el.getparent() is not None and el in stats and _is_noise(el, stats[el], total):
                drop(el)
        _drop_boilerplate_tail(node)


def _fix_images(node, base: str) -> None:
    for img in node.iter("img"):
        src = img.get("src") or ""
        if not src or src.startswith("data:") or "blank" in src or "placeholder" in src:
            lazy = next((img.get(a) for a in _LAZY_SRC if img.get(a)), None)
            if lazy:
                img.set("src", lazy)


def render(nodes: list, base: str) -> tuple[str | None, str | None, str | None]:
    """(sanitized HTML with absolute links, plain text, first image)."""
    html_parts, lines, image = [], [], None
    for node in nodes:
        _fix_images(node, base)
        # A link no URL parser reads ("http://[::1") is dropped, not fatal.
        node.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
        html_parts.append(lxml.html.tostring(node, encoding="unicode", with_tail=False))
        lines.extend(run.text for run in runs_of(node))
        for img in node.iter("img"):
            image = image or absolute_http(img.get("src"), base)
    html = clean_html("".join(html_parts))
    text = "\n".join(line for line in lines if line)
    return html or None, text or None, image
