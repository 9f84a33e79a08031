"""Text folding: NFKC then case-folded, so what the store indexes, what
users type in a query and what rules match all compare the same way."""

from __future__ import annotations

import unicodedata


def fold(text: str | None) -> str:
    """NFKC (full-width Ａ → A, ① → 1) then case-folded."""
    return unicodedata.normalize("NFKC", text or "").casefold()
