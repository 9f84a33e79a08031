"""`{name}` placeholders in recipe values, filled from
FEEDSVC_RECIPE_VARIABLES: start URLs that point at a mirror, and request
options whose secrets stay out of recipe files. One mechanism for both."""

from __future__ import annotations

from collections.abc import Mapping


def fill(text: str, variables: Mapping[str, str] | None) -> str:
    """`text` with its `{name}` placeholders filled; ValueError naming a
    placeholder without a value (never a value). `{{` and `}}` are literal
    braces."""
    try:
        return text.format_map(dict(variables or {}))
    except KeyError as exc:
        raise ValueError(f"placeholder {{{exc.args[0]}}} has no value (set it in FEEDSVC_RECIPE_VARIABLES)") from None
    except (IndexError, ValueError) as exc:
        raise ValueError(f"malformed placeholder: {exc}") from None
