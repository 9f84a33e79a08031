"""Text folding shared by the store (what it indexes) and the feed query
(what users type), so both sides compare the same way."""

from __future__ import annotations

from feedsvc.core.folding import fold
from feedsvc.parsers.text import split_names



def search_text(title: str | None, summary: str | None) -> str:
    return fold(f"{title or ''}\n{summary or ''}")


def author_keys(author: str | None) -> str | None:
    """'张三、李四' → '|张三|李四|', so one name matches exactly with LIKE."""
    names = split_names(author)
    return "|" + "|".join(fold(n) for n in names) + "|" if names else None
