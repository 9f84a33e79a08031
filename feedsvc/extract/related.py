"""The related list of an article page: the links a page attaches to its
article (相关新闻, 延伸阅读, a bare list of cards under the text), not the
site's recommendation sidebars, hot lists, tag links or 上一篇/下一篇.

A block starts at a heading line (or, without one, at a list whose class
says it is related and that follows the article in its own column) and
holds the article links after it up to the next heading. Each link's item
is the largest element around it holding no other item; a `<br>` list has
no such element, so there the item is the link's own line."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from feedsvc.extract import items as item_mod
from feedsvc.parsers.outlet_names import KnownOutlets
from feedsvc.extract.tree import Run, ancestors, class_id, weighted_len
from feedsvc.core.models import ListingEntry
from feedsvc.parsers.dom import absolute_http
from feedsvc.parsers.text import squash

_DECOR = re.compile(r"[\s\u3000\xa0【】\[\]『』「」《》<>〈〉·•●■□▌▍▎|｜:：>＞»›\-—_~^*#]+")
# Headings of a list that belongs to the article.
_STRONG = re.compile(
    r"(?:相关|相關)(?:新闻|新聞|阅读|閱讀|报道|報道|文章|内容|內容|推荐|推薦|链接|鏈接|资讯|資訊|稿件|消息|图集|视频|专题)(?:推荐)?"
    r"|延伸阅读|延伸閱讀|推荐阅读|推薦閱讀|扩展阅读|拓展阅读|关键词阅读|关联阅读|深度阅读|更多相关(?:新闻|阅读|报道|文章)?"
    r"|related(?:stories|articles|news|content|links|coverage|reading)?|readmore|seealso|moreonthis(?:story)?",
    re.I,
)
# Recommendations: the page's related list only when it has no other and
# the list sits in the article's own column.
_WEAK = re.compile(r"为你推荐|为您推荐|你可能(?:会|還|还)?(?:喜欢|喜歡|想看|感兴趣)|猜你喜欢|可能感兴趣的?(?:文章|新闻)?"
                   r"|recommended(?:foryou)?|youmayalsolike|youmightalsolike", re.I)
# Headings of other lists: where a related block ends.
_OTHER = re.compile(r"热门|熱門|热点|熱點|排行|热榜|点击|最新|24小时|今日|要闻|头条|推荐|推薦|图片|视频|专题|精彩|热评|评论"
                    r"|作者|更多|popular|trending|most|latest", re.I)
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_HEADING_MAX = 12  # ideographs (24 Latin letters) of a heading once its decoration is gone
# Where a sidebar or a site-wide box sits (a weak heading there is no related list).
_SIDE = re.compile(r"side|aside|\bright|\bfr\b|col-?r\b|r-?box|\brbox|\bsd\b|widget|rank|\bhot|paihang|popular")
# Class or id words of site chrome, as whole words ("nav", "footer-links";
# not "blq-navigation-wrapper" on the <body> of a page).
_CHROME = re.compile(r"(?:^|\s)(?:nav|navbar|menu|header|footer|breadcrumbs?|crumbs?|copyright|friend-?links?|toolbar"
                     r"|topbar|login|sitemap)(?:$|[\s_-])")
_CHROME_TAGS = {"nav", "header", "footer"}
_RELATED_CLASS = re.compile(r"relat|xgxw|xgwz|xglj|xiangguan|yanshen|xgyd", re.I)
_MIN_TITLE = 10  # weighted: five ideographs
_PAGER = re.compile(r"^\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇|前一篇|后一篇|previous|next)\s*[:：]?", re.I)
_MAX_CLIMB = 6
# Links in an item that are not its title: tags, the source's or author's
# page, comment counts, share buttons, ads.
_ASIDE_CLASS = re.compile(r"(?:^|[\s_-])(?:tags?|keywords?|label|cmnt|comments?|source|author|user|avatar|share"
                          r"|ads?|advert\w*|sponsor\w*|promo\w*|gemini\w*|native-ad\w*)(?:$|[\s_-])")
_ASIDE_LINK = re.compile(r"^https?://(?:tags?|tag\.[^/]+)\.|/(?:tags?|keywords?|search|user|author)[/?=_-]"
                         r"|/(?:ad)?click\?|doubleclick|/adclick", re.I)
_MAX_GAP = 200  # elements between a heading and its first link


@dataclass
class Block:
    """One related block: its items (item element, title link) in page order."""

    container: object
    heading: object | None
    items: list = field(default_factory=list)
    strong: bool = True
    aside: bool = False  # in a sidebar rather than the article's column


def _heading_kind(text: str) -> str | None:
    """'strong', 'weak' or 'other' for a short heading line, else None."""
    bare = _DECOR.sub("", text)
    if not bare or weighted_len(bare) > _HEADING_MAX * 2:
        return None
    if _STRONG.fullmatch(bare):
        return "strong"
    if _WEAK.fullmatch(bare):
        return "weak"
    return "other" if _OTHER.search(bare) else None


def _lead_heading(text: str) -> str | None:
    """'关键词阅读：如何玩转 互联网' and '相关新闻：<a>…</a>': a heading that
    leads a line of links."""
    match = re.match(r"^[\s【\[『「<·•■▌|]*([^:：\s]{2,8})\s*[:：]", text)
    if match and _STRONG.fullmatch(_DECOR.sub("", match.group(1))):
        return "strong"
    return None


class _Page:
    """Document order and subtrees as ranges of it, so 'the title links
    inside this element after that one' is a bisection, not a walk."""

    def __init__(self, root, base: str, page_url: str | None):
        self.root = root
        self.order: dict = {}
        self.end: dict = {}
        self.base = base
        self.page_url = page_url
        self.anchors = []  # title links in page order
        self.positions: list[int] = []
        self.link_of: dict = {}
        self.title_of: dict = {}

    def index(self) -> None:
        """Number the elements (only on pages that may hold a related list)."""
        elements = list(self.root.iter())
        for index, el in enumerate(elements):
            self.order[el] = index
        for el in reversed(elements):
            last = el[-1] if len(el) else None
            self.end[el] = self.end[last] if last is not None else self.order[el]

    def find_links(self, after: int) -> None:
        """The title links after document position `after` (nothing before
        the first heading can be an item)."""
        for a in self.root.iter("a"):
            if self.order[a] <= after or weighted_len(a.text_content() or a.get("title") or "") < _MIN_TITLE:
                continue
            link = self._article_link(a)
            if not link:
                continue
            title = item_mod.link_title(a)
            if weighted_len(title) >= _MIN_TITLE and not _PAGER.match(title) and not _is_aside(a, link):
                self.anchors.append(a)
                self.link_of[a] = link
                self.title_of[a] = title
        self.positions = [self.order[a] for a in self.anchors]

    def _article_link(self, a) -> str | None:
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            return None
        link = absolute_http(href, self.base)
        if not link or link in (self.page_url, self.base):
            return None
        path = re.sub(r"^https?://[^/]+", "", link)
        if re.fullmatch(r"/?(?:index\.\w+)?(?:\?.*)?", path):  # a home page is no article
            return None
        return link

    def inside(self, el, after: int = -1) -> list:
        """Title links inside `el`, after document position `after`."""
        lo = bisect_right(self.positions, max(after, self.order[el]))
        hi = bisect_right(self.positions, self.end[el])
        return self.anchors[lo:hi]

    def contains(self, outer, inner) -> bool:
        return self.order[outer] <= self.order[inner] <= self.end[outer]


def _is_aside(a, link: str) -> bool:
    if _ASIDE_LINK.search(link):
        return True
    return any(_ASIDE_CLASS.search(class_id(el)) for el in list(ancestors(a))[:4])


def _in_chrome(el) -> bool:
    return any(anc.tag in _CHROME_TAGS or _CHROME.search(class_id(anc)) for anc in ancestors(el)
               if anc.tag not in ("body", "html"))


def _in_sidebar(el, body, page: _Page) -> bool:
    """Whether a box between `el` and the column it shares with the body is
    a sidebar (aside, .right, .sidebar, a widget, a hot list)."""
    for anc in ancestors(el):
        if body is not None and page.contains(anc, body):
            return False
        if anc.tag == "aside" or _SIDE.search(class_id(anc)):
            return True
    return False


def _headings(runs: list[Run]) -> list[tuple[int, Run, str]]:
    """(index, run, kind) of every heading line; a heading may also be the
    first element of a line (a tab <a>相关新闻</a> beside an app link)."""
    found = []
    for index, run in enumerate(runs):
        kind = _lead_heading(run.text)
        if not kind and len(run.text) <= 24 and (run.link_chars * 2 <= len(run.text) or len(run.text) <= 16):
            kind = _heading_kind(run.text)
        inline = next((el for el in run.elements if el is not run.block and isinstance(el.tag, str)), None)
        if not kind and inline is not None and run.text.startswith(squash(inline.text_content())[:4] or "\0"):
            first = squash(inline.text_content())
            kind = _heading_kind(first) if len(first) <= 16 else None
        if kind == "other" and run.link_chars * 2 > len(run.text) and run.block.tag not in _HEADING_TAGS:
            kind = None  # a link line (光明网 ⋅ 0评论 ⋅ 相关) is an item's, not a box's heading
        if kind:
            found.append((index, run, kind))
    return found


def _start(page: _Page, run: Run) -> int:
    holder = run.elements[0] if run.elements else run.block
    return page.order.get(holder, page.order.get(run.block, 0))


def _tab_pane(run: Run, heading_runs: list[Run], page: _Page):
    """Tabs (相关推荐 | 热点推荐) name their panes in a row above them: the
    n-th title is the n-th pane after the row."""
    row = run.block.getparent()
    if row is None:
        return None
    titles = [r for r in heading_runs if r.block.getparent() is row]
    if len(titles) < 2 or page.inside(row):
        return None
    index = next((i for i, r in enumerate(titles) if r is run), 0)
    pane = row.getnext()
    while pane is not None and index:
        pane = pane.getnext()
        index -= 1
    return pane


def _block_after(page: _Page, run: Run, stops: list[int], heading_runs: list[Run]) -> Block | None:
    start = _start(page, run)
    if not _lead_heading(run.text):  # the heading's own line holds no item (a tab row's app link)
        start = max([start] + [page.end[el] for el in run.elements if isinstance(el.tag, str) and el is not run.block])
    pane = _tab_pane(run, heading_runs, page)
    if pane is not None:
        return Block(pane, run.block, [(None, a) for a in page.inside(pane)])
    el = run.block
    for _ in range(_MAX_CLIMB):
        if el is None or el.tag in ("body", "html"):
            return None
        found = page.inside(el, start)
        if found:
            limit = stops[bisect_right(stops, start)] if bisect_right(stops, start) < len(stops) else None
            found = [a for a in found if limit is None or page.order[a] < limit]
            if found and page.order[found[0]] - start > _MAX_GAP:
                return None  # the next links are another part of the page
            return Block(el, run.block, [(None, a) for a in found]) if found else None
        el = el.getparent()
    return None


def _items(block: Block, page: _Page) -> list:
    """(item element or None for a line of a <br> list, link) per distinct link."""
    links = {page.link_of[a] for _, a in block.items}
    out, seen = [], set()
    for _, a in block.items:
        item = a
        while True:
            parent = item.getparent()
            if parent is None or parent is block.container or parent.tag in ("body", "html"):
                break
            inner = {page.link_of[x] for x in page.inside(parent)} if parent is not a else {page.link_of[a]}
            inner |= {page.link_of[a]}
            if len(inner & links) > 1:
                break
            item = parent
        if _in_prose(a, item) or (id(item), page.link_of[a]) in seen:
            continue  # a link inside a sentence is the text's, not a list's
        seen.add((id(item), page.link_of[a]))
        out.append((item if item is not a else None, a))
    return _same_tag(out)


def _in_prose(a, item) -> bool:
    """Whether running text leads up to the link inside its item (…, with
    <a>solar geoengineering</a>), where an item's title comes first or
    after no more than its source and date."""
    before = []
    for piece in item_mod.pieces_of(item if item is not a else a.getparent()):
        if piece.link is a:
            break
        if piece.link is None:
            before.append(piece.text)
    text = squash(" ".join(before))
    return weighted_len(text) > 24 and bool(re.search(r"[,，.。;；]\s*\S", text))


def _same_tag(items: list) -> list:
    """A list of <li> with a <div> slipped in between is a list and a promo:
    when three quarters or more of the items share one tag, the rest go."""
    tags = [(item.tag if item is not None else "a") for item, _ in items]
    if len(tags) < 4:
        return items
    common = max(set(tags), key=tags.count)
    if tags.count(common) * 4 < len(tags) * 3:
        return items
    return [pair for pair, tag in zip(items, tags) if tag == common]


def _related_class(container) -> bool:
    return any(_RELATED_CLASS.search(class_id(el)) for el in list(ancestors(container))[:3])


_BETWEEN_MAX = 80  # weighted: an editor credit or a share bar between the text and its list


def _headed(elements) -> bool:
    """Whether any of `elements` is or holds a heading (a list under one is
    that heading's, not the article's)."""
    for el in elements:
        if not isinstance(el.tag, str):
            continue
        if el.tag in _HEADING_TAGS or any(h.tag in _HEADING_TAGS for h in el.iterdescendants()):
            return True
        text = squash(el.text_content())
        if text and (_heading_kind(text) or _lead_heading(text)):
            return True
    return False


def _follows_body(group, body) -> bool:
    """A list right under the article in the article's own box: after the
    body among its siblings, with no heading on the way and no more between
    them than a credit line or a share bar."""
    parent = body.getparent() if body is not None else None
    if parent is None or parent.tag in ("body", "html"):
        return False
    child = group.container
    while child is not None and child.getparent() is not parent:
        child = child.getparent()
    if child is None or child is body:
        return False
    siblings = list(parent)
    at, start = siblings.index(child), siblings.index(body)
    if at <= start:
        return False
    between = siblings[start + 1: at]
    text = "".join(squash(el.text_content()) for el in between if isinstance(el.tag, str))
    if weighted_len(text) > _BETWEEN_MAX or _headed(between):
        return False
    # Nor a heading inside the list's own box before its first item.
    first = group.items[0][0]
    before = []
    for el in child.iter():
        if el is first:
            break
        before.append(el)
    return not any(isinstance(el.tag, str) and (el.text or "").strip() for el in before) \
        and not any(el.tag in _HEADING_TAGS for el in before)


def _unheaded(groups, body, page: _Page) -> list[Block]:
    """Lists without a heading whose class says related, or that follow the
    article right under it, after the body and in its column."""
    blocks = []
    end_of_body = page.end.get(body, -1) if body is not None else -1
    for group in groups:
        container = group.container
        if page.order.get(container, -1) <= end_of_body or _in_chrome(container):
            continue
        if not (_related_class(container) or _follows_body(group, body)) or _in_sidebar(container, body, page):
            continue
        blocks.append(Block(container, None, [(None, a) for _, a in group.items if a in page.link_of]))
    return blocks


def find_blocks(root, runs: list[Run], groups, body, base: str, page_url: str | None) -> tuple[list[Block], _Page]:
    """Every related block, in page order: the headed ones; lists with a weak
    heading (为你推荐) only when there is none and they are in the article's
    column; a list without heading only when there is neither."""
    page = _Page(root, base, page_url)
    headings = _headings(runs)
    if not any(kind != "other" for _, _, kind in headings) \
            and not any(_related_class(g.container) or _follows_body(g, body) for g in groups):
        return [], page
    page.index()
    wanted = [_start(page, run) for _, run, kind in headings if kind != "other"]
    after_body = page.end.get(body, len(page.order)) if body is not None else len(page.order)
    page.find_links(min(wanted + [after_body]))
    if not page.anchors:
        return [], page
    stops = sorted(_start(page, run) for _, run, _ in headings)
    heading_runs = [run for _, run, _ in headings]
    strong, weak = [], []
    for _, run, kind in headings:
        if kind == "other":
            continue
        block = _block_after(page, run, stops, heading_runs)
        if block is None or _in_chrome(block.container):
            continue
        block.strong = kind == "strong"
        block.aside = _in_sidebar(block.container, body, page)
        if kind == "weak" and block.aside:
            continue
        (strong if block.strong else weak).append(block)
    # A 推荐阅读 box in the sidebar is the site's, when the article has its own list.
    strong = [b for b in strong if not b.aside] or strong
    blocks = strong or weak or _unheaded(groups, body, page)
    for block in blocks:
        block.items = _items(block, page)
    return blocks, page


def related_entries(blocks: list[Block], page: _Page, zone: tzinfo, around: datetime | None, now: datetime | None,
                    known: KnownOutlets) -> tuple[ListingEntry, ...]:
    """The entries of every block, in page order, each link once."""
    found: dict[str, ListingEntry] = {}
    pairs = sorted(((item, a) for block in blocks for item, a in block.items), key=lambda p: page.order[p[1]])
    siblings = {}
    for item, a in pairs:
        if item is None:
            siblings.setdefault(a.getparent(), []).append(a)
    for item, a in pairs:
        link = page.link_of[a]
        details = item_mod.read_item(item, a, siblings.get(a.getparent(), [a]) if item is None else None,
                                     zone, around, now, known)
        title = details.title or page.title_of[a]
        if link in found:  # an item's first title link is its title; a second one is its summary
            continue
        outlet = details.outlet or known.outlet_of_link(link, page.base)
        found[link] = ListingEntry(title=squash(title), link=link, href=a.get("href").strip(),
                                   summary=details.summary, outlet=outlet, published=details.published)
    return tuple(found.values())


def block_elements(blocks: list[Block]) -> list:
    """What the body loses to the related blocks: headings and items."""
    out = []
    for block in blocks:
        if block.heading is not None:
            out.append(block.heading)
        out.extend(item if item is not None else a for item, a in block.items)
    return out

