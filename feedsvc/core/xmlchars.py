"""Characters a feed cannot carry. XML 1.0 has no way to write C0 control
characters (other than tab, newline and return), lone surrogates or
U+FFFE/U+FFFF, and lxml refuses to build a document holding one: a single
such character from a site would break every feed that shows the item.
C1 controls go too; no news text means them."""

from __future__ import annotations

import re

_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _replacement(match: re.Match) -> str:
    # Word writes a line break inside a paragraph as \x0b: keep the words apart.
    return " " if match.group().isspace() else ""


def strip_invalid(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry; those that are
    whitespace (\\x0b, \\x0c, \\x1c-\\x1f, \\x85) become a space."""
    return _INVALID.sub(_replacement, text)


def has_invalid(text: str) -> bool:
    return _INVALID.search(text) is not None
