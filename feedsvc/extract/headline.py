"""The headline. The page's <title> and og:title usually carry it with the
site's name around it ("标题_新浪网", "Headline - The Paper"), and the page
shows it once more as a heading; the longest text on the page that the
<title> contains is the headline, in any language and whatever its tag."""

from __future__ import annotations

import re

from feedsvc.extract.structured import Structured
from feedsvc.extract.tree import Run, weighted_len
from feedsvc.parsers.text import squash

_SITE_SEPARATORS = re.compile(r"\s*(?:[_|｜]|\s[-–—:]\s|::|：：|—|－)\s*")
_HEADING_TAGS = {"h1": 3, "h2": 2, "h3": 1}
_MIN_HEADLINE = 8  # weighted: four ideographs


def key(text: str) -> str:
    """Comparison form: no spaces (CJK titles are written with and without),
    case-folded, and Chinese and Western quotes made alike."""
    return re.sub(r"[\s\u3000\u00a0]+", "", text).casefold().translate(str.maketrans("“”‘’「」", "\"\"''\"\""))


def strip_site(title: str) -> str:
    """'标题_频道_新浪网' → '标题': the longest part between site separators."""
    parts = [p for p in _SITE_SEPARATORS.split(title) if p.strip()]
    return max(parts, key=weighted_len) if parts else title


def pick_title(root, runs: list[Run], found: Structured) -> tuple[str | None, int | None]:
    """(headline, index of its run in `runs` or None)."""
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
        return best_text, best
    fallback = next((strip_site(t) for t in found.titles if t), None)
    if fallback is None:
        h1 = root.find(".//h1")
        fallback = squash(h1.text_content()) if h1 is not None else strip_site(found.page_title)
    if not fallback:
        return None, None
    index = next((i for i, r in enumerate(runs) if key(r.text) == key(fallback)), None)
    return fallback, index
