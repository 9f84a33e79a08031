"""A recipe's `[request]` table: headers, cookies, user agent and proxy for
sites behind a login, and what a logged-out answer looks like.

Values may hold `{name}` placeholders filled from FEEDSVC_RECIPE_VARIABLES
(feedsvc.sources.placeholders), so a session cookie lives in the environment, not
in the recipe file. The filled values are kept in a private attribute:
dumps of the recipe (the API, the logs) show only what the file says, and
`redact` takes them out of any error message before it is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html
from cssselect import SelectorError
from lxml.cssselect import CSSSelector
from lxml.etree import ParserError
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from feedsvc.sources.placeholders import fill

REDACTED = "[redacted]"
_URL_PREFIXES = ("http://", "https://", "/")


@dataclass(frozen=True)
class FilledRequest:
    """What is sent: placeholders filled in. Never logged or shown."""

    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    user_agent: str | None = None
    proxy: str | None = None
    logged_out: str | None = None

    def secrets(self) -> list[str]:
        """Every value that must not appear in an error or a log line."""
        values = [*self.headers.values(), *self.cookies.values()]
        if self.proxy:
            parts = urlsplit(self.proxy)
            values += [self.proxy, parts.password or "", parts.username or ""]
        return sorted({v for v in values if len(v) >= 3}, key=len, reverse=True)

    def request_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return headers


class RequestOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    headers: dict[str, str] = Field(default_factory=dict)
    cookies: dict[str, str] = Field(default_factory=dict)
    user_agent: str | None = None
    # http(s)://[user:pass@]host:port. The proxy itself may be anywhere the
    # operator says; the SSRF guard still checks every target it is asked for.
    proxy: str | None = None
    # A URL prefix the site redirects a logged-out reader to (absolute, or
    # a path on the page's site), or a CSS selector found only on the login
    # page. Either means "not logged in": an `auth` error, nothing stored.
    logged_out: str | None = None
    _filled: FilledRequest = PrivateAttr(default_factory=FilledRequest)

    @field_validator("headers")
    @classmethod
    def _plain_header_names(cls, headers: dict[str, str]) -> dict[str, str]:
        for name in headers:
            if not name or not all(33 <= ord(ch) < 127 and ch not in ':"(),/;<=>?@[\\]{}' for ch in name):
                raise ValueError(f"{name!r} is not a header name")
            if name.lower() in ("host", "content-length", "transfer-encoding", "connection"):
                raise ValueError(f"{name} is set by feedsvc, not by recipes")
        return headers

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://", "{")):
            raise ValueError("proxy must be an http:// or https:// URL")
        return value

    @field_validator("logged_out")
    @classmethod
    def _prefix_or_selector(cls, value: str | None) -> str | None:
        if value is None or value.startswith(_URL_PREFIXES) or value.startswith("{"):
            return value
        try:
            CSSSelector(value)
        except (SelectorError, SyntaxError) as exc:
            raise ValueError(f"neither a URL prefix nor a CSS selector: {exc}") from None
        return value

    @model_validator(mode="after")
    def _fill(self, info: ValidationInfo) -> RequestOptions:
        variables = (info.context or {}).get("variables") if info.context else None
        filled = FilledRequest(
            headers={k: _checked(fill(v, variables)) for k, v in self.headers.items()},
            cookies={k: _checked(fill(v, variables)) for k, v in self.cookies.items()},
            user_agent=_checked(fill(self.user_agent, variables)) if self.user_agent else None,
            proxy=fill(self.proxy, variables) if self.proxy else None,
            logged_out=fill(self.logged_out, variables) if self.logged_out else None,
        )
        if filled.proxy and not filled.proxy.startswith(("http://", "https://")):
            raise ValueError("proxy must be an http:// or https:// URL")
        self._filled = filled
        return self

    @property
    def filled(self) -> FilledRequest:
        return self._filled

    def __bool__(self) -> bool:
        return bool(self.headers or self.cookies or self.user_agent or self.proxy or self.logged_out)

    @property
    def sends_credentials(self) -> bool:
        return bool(self.headers or self.cookies)


def _checked(value: str) -> str:
    # A line break in a header value would split the request.
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError("a value holds a line break or NUL")
    return value


def redact(text: str, filled: FilledRequest) -> str:
    for secret in filled.secrets():
        text = text.replace(secret, REDACTED)
    return text


def logged_out_reason(filled: FilledRequest, asked_url: str, final_url: str, content: bytes) -> str | None:
    """Why this answer is the site's logged-out page, or None."""
    marker = filled.logged_out
    if not marker:
        return None
    if marker.startswith(_URL_PREFIXES):
        prefix = urljoin(asked_url, marker)
        if final_url.startswith(prefix) and not asked_url.startswith(prefix):
            return f"redirected to the login page {prefix}"
        return None
    try:
        root = lxml.html.document_fromstring(content)
    except (ParserError, ValueError):
        return None
    if CSSSelector(marker)(root):
        return f"the page shows the logged-out marker {marker!r}"
    return None
