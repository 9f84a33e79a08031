"""The page as the extractor sees it: a cleaned lxml tree and its text cut
into *runs* — the text between two block boundaries, each attributed to its
nearest block element. Every heuristic (title, labels, body, listings) reads
runs, so the tree is walked once per page, never once per element.

Lengths are CJK-aware: spaces are not counted (a Chinese sentence has none),
and one ideograph counts as two Latin letters, since it carries about as
much as a short word does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from feedsvc.parsers.text import char_len, squash

# Never text of the page: code, styling, widgets.
SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "select", "textarea", "svg", "canvas", "object",
             "embed", "button", "input", "head", "map", "video", "audio", "title", "meta", "link"}
# Tags that end a line of text; everything else is inline.
BLOCK_TAGS = {"html", "body", "div", "p", "section", "article", "main", "header", "footer", "nav", "aside", "td",
              "th", "tr", "table", "tbody", "thead", "tfoot", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3",
              "h4", "h5", "h6", "blockquote", "pre", "form", "figure", "figcaption", "center", "address", "hr",
              "fieldset", "caption", "details", "summary", "menu", "hgroup"}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_SPACE = re.compile(r"[\s\u3000\u00a0\u200b]+")
# Commas and stops of running text, Western and Chinese: prose has many,
# navigation and link lists almost none.
PUNCTUATION = re.compile(r"[,，.。;；!！?？、:：]")


def weighted_len(text: str) -> int:
    """Length for scoring: non-space characters, CJK ones counting double."""
    bare = _SPACE.sub("", text)
    return len(bare) + len(_CJK.findall(bare))


@dataclass
class Run:
    block: object  # nearest block-level element
    parts: list[str] = field(default_factory=list)
    link_chars: int = 0
    elements: list = field(default_factory=list)  # inline elements holding the text, for selectors
    text: str = ""  # the parts joined and squashed, set once the run is complete


class _Walker:
    def __init__(self) -> None:
        self.runs: list[Run] = []

    def _add(self, block, text: str | None, in_link: bool, holder) -> None:
        if not text:
            return
        run = self.runs[-1] if self.runs else None
        if run is None or run.block is not block:
            run = Run(block)
            self.runs.append(run)
        run.parts.append(text)
        if holder is not None and (not run.elements or run.elements[-1] is not holder):
            run.elements.append(holder)
        if in_link:
            run.link_chars += char_len(text)

    def _break(self, block) -> None:
        self.runs.append(Run(block))

    def walk(self, root) -> None:
        # Iterative, not recursive: badly nested old pages (unclosed <font>)
        # are deeper than Python's recursion limit.
        stack = [(root, root, False, False)]
        while stack:
            el, block, in_link, closing = stack.pop()
            tag = el.tag.lower() if isinstance(el.tag, str) else None
            if closing:
                if tag in BLOCK_TAGS:
                    self._break(block)
                if el is not root:  # a subtree's tail belongs to its parent
                    self._add(block, el.tail, in_link, el.getparent())
                continue
            if tag is None or tag in SKIP_TAGS:
                if el is not root:
                    self._add(block, el.tail, in_link, el.getparent())
                continue
            own = el if tag in BLOCK_TAGS else block
            link = in_link or tag == "a"
            if tag in BLOCK_TAGS or tag == "br":
                self._break(own)
            self._add(own, el.text, link, el)
            stack.append((el, block, in_link, True))
            for child in reversed(el):
                stack.append((child, own, link, False))


def runs_of(root) -> list[Run]:
    """The text runs under `root`, in document order, empty ones dropped."""
    walker = _Walker()
    walker.walk(root)
    runs = []
    for run in walker.runs:
        if run.parts:
            run.text = squash("".join(run.parts))
            if run.text:
                runs.append(run)
    return runs


def text_lines(root) -> list[str]:
    return [run.text for run in runs_of(root)]


def drop(element) -> None:
    """Remove an element but keep its tail text in place."""
    parent = element.getparent()
    if parent is not None:
        element.drop_tree()


# Inline styles that hide an element from every reader.
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


_STRIPPED_TAGS = tuple(SKIP_TAGS - {"head"})


def strip_noise(root) -> None:
    """Remove what is never content: scripts, styles, comments, forms' widgets,
    and blocks the page hides."""
    for el in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        drop(el)
    for el in list(root.iter(*_STRIPPED_TAGS)):  # lxml matches tags in C; the HTML parser lower-cases them
        drop(el)
    _drop_hidden(root)


def _drop_hidden(root) -> None:
    """Hidden copies (print layers, pop-ups, "share" dialogs) repeat or pad
    the article. A page that hides its whole content until a script shows it
    keeps it: a hidden block holding most of the page's text is the page."""
    hidden = [el for el in root.iter("div", "section", "article", "ul", "table", "p", "span", "aside")
              if el.get("hidden") is not None or _HIDDEN_STYLE.search(el.get("style") or "")]
    if not hidden:
        return
    total = char_len(root.text_content())
    for el in hidden:
        if el.getparent() is not None and char_len(el.text_content()) * 2 < total:
            drop(el)


def class_id(element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}".lower()


def ancestors(element, limit: int = 64):
    """The element and its ancestors, nearest first."""
    while element is not None and limit > 0:
        yield element
        element = element.getparent()
        limit -= 1
