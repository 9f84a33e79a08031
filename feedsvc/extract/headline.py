"""The headline. The page's <title> and og:title usually carry it with the
site's name around it ("标题_新浪网", "Headline - The Paper"), and the page
shows it once more as a heading; the longest text on the page that the
<title> contains is the headline, in any language and whatever its tag."""

from __future__ import annotations

import re
import unicodedata

from feedsvc.extract.structured import Structured
from feedsvc.extract.tree import Run, class_id, weighted_len
from feedsvc.parsers.text import squash

# "——" is Chinese punctuation (破折号) inside a headline; a lone dash,
# "--" and the bars are what sites put between headline and site name.
_SITE_SEPARATORS = re.compile(r"\s*(?:[_|｜]|\s[-–—:]\s|::|：：|-{2,}|(?<!—)—(?!—)|－)\s*")
_TRAILING_DASHES = re.compile(r"\s*——\s*")
_HEADING_TAGS = {"h1": 3, "h2": 2, "h3": 1}
_MIN_HEADLINE = 8  # weighted: four ideographs
_MAX_LINES = 3  # a headline the page breaks over lines: main line and two more
_TITLE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:article[-_]?|news[-_]?|detail[-_]?)?(?:title|headline|heading|biaoti)(?:$|[\s_-])")
# What editors leave in <title> when they fill in none.
_PLACEHOLDER = re.compile(r"^(?:无标题文档|无标题页|未命名|untitled(?: document)?|new page ?\d*|document)$", re.I)
_QUOTES = str.maketrans("“”‘’「」", "\"\"''\"\"")


def key(text: str) -> str:
    """Comparison form: full-width punctuation and letters made half-width
    (（图） and (图) are one headline), no spaces (CJK titles are written
    with and without), case-folded, Chinese and Western quotes alike."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold().translate(_QUOTES)


def strip_site(title: str) -> str:
    """'标题_频道_新浪网' → '标题': the longest part between site separators.
    A 破折号 splits only the site's part ('标题_中国经济网——国家经济门户')."""
    parts = [p for p in _SITE_SEPARATORS.split(title) if p.strip()]
    parts = parts[:1] + [piece for part in parts[1:] for piece in _TRAILING_DASHES.split(part) if piece.strip()]
    return max(parts, key=weighted_len) if parts else title


def _span(raw: str, wanted: str) -> str | None:
    """The stretch of `raw` whose key is `wanted`, as `raw` writes it."""
    keys, origin = [], []
    for index, char in enumerate(raw):
        for piece in key(char):
            keys.append(piece)
            origin.append(index)
    at = "".join(keys).find(wanted)
    if at < 0 or not wanted:
        return None
    return squash(raw[origin[at]: origin[at + len(wanted) - 1] + 1])


def _follows(first: Run, second: Run) -> bool:
    """Whether `second` can be the next line of the same heading: after a
    <br> in it, inside it, or its next sibling (<p>标题</p><div>——副题</div>)."""
    block = second.block
    return block is first.block or first.block.getnext() is block or first.block in block.iterancestors()


def _whole(runs: list[Run], index: int, raws: list[str], refs: list[str]) -> tuple[str, int, int] | None:
    """A headline broken over lines ("主题<div>副题</div>") is found as its
    first line; grow it while the joined lines are still in a <title> or
    meta title, and give it as that title writes it."""
    first = last = index
    joined = key(runs[index].text)
    while last - first + 1 < _MAX_LINES:
        if last + 1 < len(runs) and _follows(runs[last], runs[last + 1]) \
                and any(joined + key(runs[last + 1].text) in ref for ref in refs):
            last += 1
            joined += key(runs[last].text)
        elif first > 0 and _follows(runs[first - 1], runs[first]) \
                and any(key(runs[first - 1].text) + joined in ref for ref in refs):
            first -= 1
            joined = key(runs[first].text) + joined
        else:
            break
    if first == last:
        return None
    text = next((span for raw in raws if (span := _span(raw, joined))), None)
    return (text, first, last) if text else None


def pick_title(root, runs: list[Run], found: Structured) -> tuple[str | None, int | None, int | None]:
    """(headline, index of its first and of its last run in `runs`, or None
    for both when the page does not show it)."""
    raw = [t for t in [*found.titles, found.page_title] if t]
    refs = [key(t) for t in raw]
    stems = {key(strip_site(t)): strip_site(t) for t in raw if weighted_len(strip_site(t)) >= _MIN_HEADLINE}
    best, best_rank, best_text = None, None, None
    for index, run in enumerate(runs[:4000]):
        text = run.text
        size = weighted_len(text)
        if size < _MIN_HEADLINE or size > 400:
            continue
        k = key(text)
        heading = _HEADING_TAGS.get(run.block.tag, 0)
        contained = any(k in ref for ref in refs)
        # A heading may be longer than a <title> the site truncated.
        stem = next((stem for stem in stems if stem in k), None) if heading and not contained else None
        if not (contained or stem):
            continue
        rank = (size, heading, -run.link_chars)
        if best_rank is None or rank > best_rank:
            # A heading with a label glued on (原创, the site's name) is
            # the headline the <title> gives.
            best, best_rank, best_text = index, rank, stems[stem] if stem else text
    if best is not None:
        whole = _whole(runs, best, raw, refs) if best_text == runs[best].text else None
        return whole or (best_text, best, best)
    fallback = _fallback(root, runs, found)
    if not fallback:
        return None, None, None
    index = next((i for i, r in enumerate(runs) if key(r.text) == key(fallback)), None)
    return fallback, index, index


_HOME = re.compile(r"^(?:(?:https?:)?//[^/]+)?/?(?:index\.\w+)?$", re.I)


def _is_logo(h1) -> bool:
    """The site's name in an <h1> linking to its home page, or an image."""
    return any(_HOME.match((a.get("href") or "").strip()) for a in h1.iter("a")) \
        or next(h1.iter("img"), None) is not None


def _fallback(root, runs: list[Run], found: Structured) -> str | None:
    """No text on the page matches a title the page declares: believe the
    declared title, else the first real <h1> (not an empty one or the logo's
    link), else <title>, else an element whose class says it is the title."""
    declared = next((strip_site(t) for t in found.titles if t), None)
    if declared:
        return declared
    for h1 in root.iter("h1"):
        text = squash(h1.text_content())
        if weighted_len(text) >= _MIN_HEADLINE / 2 and not _is_logo(h1):
            return text
    page = strip_site(found.page_title) if found.page_title else ""
    if page and not _PLACEHOLDER.match(page):
        return page
    for run in runs[:4000]:
        if _TITLE_CLASS.search(class_id(run.block)) and _MIN_HEADLINE <= weighted_len(run.text) <= 200 \
                and run.link_chars * 2 < len(run.text):
            return run.text
    return page or None
