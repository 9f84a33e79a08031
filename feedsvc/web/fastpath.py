"""A WSGI fast path in front of Flask for cached feeds.

Flask, Werkzeug's request and response objects and the app's hooks cost a
worker ~1 ms per request; a feed reader polling a cached feed needs none of
it. The first time a request is answered by Flask from the feed cache, the
fast path keeps what Flask sent: status and headers, exactly as they went
out (security headers and any other hook's included), under the request's
own method, URL, Host, Accept and Accept-Encoding. The same request is then
answered from that copy, with a fresh Date, for as long as the feed cache
entry it came from is current at the store's version: a store change seen
by the cache (within CACHE_CHECK_INTERVAL_SECONDS) ends it. 304s are learnt
the same way, and decided with Werkzeug's own validator comparison.

Anything else goes to Flask: other methods and paths, Range and If-Match
requests, the first request of each kind, and feeds the cache does not hold
(relative time windows, errors). Fast answers are counted like Flask's: a
feed cache hit and a feed request by format and status.

What is kept here is charged to the feed cache entry it came from (the
bodies are the entry's own bytes), and goes when that entry goes: one byte
budget bounds both. With FEEDSVC_BASE_URL set, the Host header is not part
of the key. A feed request this path cannot answer may need a render: a
client whose render bucket is empty is answered 429 here, before Flask,
so a flood of distinct queries costs next to nothing while it is refused."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from werkzeug.http import http_date, is_resource_modified

from feedsvc.core.auth import environ_client_address
from feedsvc.web.feedcache import KNOWN_KEYS, FeedCache
from feedsvc.metrics.registry import Metrics
from feedsvc.web.feeds import RENDER_LIMITED_BODY, metric_format
from feedsvc.web.ratelimit import RateLimiter, client_key, retry_after_header
from feedsvc.web.cors import ALLOW_ANY_ORIGIN
from feedsvc.web.state import FEED_RESPONSE

MAX_ENTRIES = 2048
# Status line, names and values beyond the bytes of the headers themselves.
_ANSWER_OVERHEAD_BYTES = 512


@dataclass
class _Answer:
    status: str
    before_date: list  # headers as Flask sent them, split around its Date header
    after_date: list
    dated: bool
    stamp: tuple = (-1, [])  # (second, the headers with that second's Date), made once a second

    def headers(self, second: int) -> list:
        stamp = self.stamp
        if stamp[0] != second:
            headers = [*self.before_date, ("Date", http_date(second)), *self.after_date] if self.dated \
                else self.before_date
            stamp = self.stamp = (second, headers)
        return stamp[1]


@dataclass
class _Learnt:
    cache_key: tuple
    cache_entry: tuple  # the feed cache's (version, RenderedFeed) the answers came from
    body: bytes
    fmt: str
    etag: str | None
    last_modified: str
    ok: _Answer | None = None  # 200
    not_modified: _Answer | None = None  # 304


class FeedFastPath:
    def __init__(self, app, cache: FeedCache, metrics: Metrics, max_entries: int = MAX_ENTRIES,
                 host_in_key: bool = True, render_limiter: RateLimiter | None = None, trusted_proxies=()):
        self.app = app  # the Flask WSGI app behind
        self._cache = cache
        self._metrics = metrics
        self._max_entries = max_entries
        self._host_in_key = host_in_key
        self._limiter = render_limiter if render_limiter is not None and render_limiter.enabled else None
        self._trusted = list(trusted_proxies)
        self._learnt: dict[tuple, _Learnt] = {}
        # Requests answered before, whatever version: kept past the store
        # changes that drop their answers, so their readers are never
        # rate-limited (a render they ask for again is free in Flask too).
        self._seen: OrderedDict[tuple, None] = OrderedDict()
        self._by_cache_key: dict[tuple, set] = {}
        self._version = -1
        self._lock = threading.Lock()
        self.served = 0  # answered here, without Flask
        cache.evicted.append(self._forget)

    def __len__(self) -> int:
        return len(self._learnt)

    def __call__(self, environ, start_response):
        get = environ.get
        method = get("REQUEST_METHOD")
        path = get("PATH_INFO", "")
        # Range and the If-Match family are Flask's to decide (206, 412): rare for feeds.
        if (method != "GET" and method != "HEAD") or not path.startswith("/feeds") or "HTTP_RANGE" in environ \
                or "HTTP_IF_MATCH" in environ or "HTTP_IF_RANGE" in environ or "HTTP_IF_UNMODIFIED_SINCE" in environ:
            return self.app(environ, start_response)
        key = (method, get("wsgi.url_scheme"), get("HTTP_HOST") if self._host_in_key else None, get("SCRIPT_NAME", ""), path,
               get("QUERY_STRING", ""), get("HTTP_ACCEPT"), get("HTTP_ACCEPT_ENCODING"))
        learnt = self._learnt.get(key)
        if learnt is not None and self._cache.holds(learnt.cache_key, learnt.cache_entry):
            if_none_match, if_modified_since = get("HTTP_IF_NONE_MATCH"), get("HTTP_IF_MODIFIED_SINCE")
            if not if_none_match and not if_modified_since:
                modified = True
            elif if_none_match == learnt.etag and not if_modified_since:
                modified = False
            else:  # what Response.make_conditional decides, by the same function
                modified = is_resource_modified(environ, learnt.etag, last_modified=learnt.last_modified)
            answer = learnt.ok if modified else learnt.not_modified
            if answer is not None:
                start_response(answer.status, answer.headers(int(time.time())))
                self._cache.stats.hits += 1
                self.served += 1
                self._metrics.observe_feed_request(learnt.fmt, 200 if modified else 304)
                return [learnt.body] if modified and method == "GET" else []
        # A variant answered before (its answer dropped as the store
        # changed) is a reader of that feed: Flask renders it again freely.
        if self._limiter is not None and learnt is None and key not in self._seen:
            wait = self._limiter.wait(client_key(environ_client_address(environ, self._trusted)))
            if wait:
                start_response("429 Too Many Requests", [
                    ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(RENDER_LIMITED_BODY))),
                    ("Retry-After", retry_after_header(wait)), ALLOW_ANY_ORIGIN])
                self._metrics.observe_feed_request(metric_format(path), 429)
                return [RENDER_LIMITED_BODY]
        return self._through_flask(key, environ, start_response)

    def _through_flask(self, key: tuple, environ, start_response):
        sent: list = []

        def capture(status, headers, exc_info=None):
            sent.append((status, headers))
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        offered = environ.get(FEED_RESPONSE)
        if offered is not None and sent:
            self._learn(key, offered, *sent[-1])
        return result

    def _learn(self, key: tuple, offered, status: str, headers: list) -> None:
        cache_key, rendered, body, fmt = offered
        code = int(status[:3])
        if code not in (200, 304):
            return
        names = [name.lower() for name, _ in headers]
        if code == 200 and key[0] == "GET" and dict(zip(names, (v for _, v in headers))).get(
                "content-length") != str(len(body)):
            return  # a hook changed the body: not a copy of the cached bytes
        current = self._cache.peek(cache_key)
        if current is None or current[1] is not rendered:
            return  # replaced while Flask answered
        dated = "date" in names
        cut = names.index("date") if dated else len(headers)
        answer = _Answer(status, list(headers[:cut]), list(headers[cut + 1:]), dated)
        size = _ANSWER_OVERHEAD_BYTES + sum(len(n) + len(v) for n, v in headers) + sum(len(part) for part in key if part)
        if not self._cache.charge(cache_key, current, size):
            return  # the entry went, or could not stay within the budget
        with self._lock:
            if current[0] > self._version:  # older versions are never served again
                self._learnt.clear()
                self._by_cache_key.clear()
                self._version = current[0]
            learnt = self._learnt.get(key)
            if learnt is None or learnt.cache_entry is not current:
                etag = next((v for n, v in headers if n.lower() == "etag"), None)
                learnt = _Learnt(cache_key, current, body, fmt, etag, http_date(rendered.last_modified))
                if len(self._learnt) >= self._max_entries:
                    self._unlearn(next(iter(self._learnt)))
                self._learnt[key] = learnt
                self._by_cache_key.setdefault(cache_key, set()).add(key)
                self._seen[key] = None
                self._seen.move_to_end(key)
                while len(self._seen) > KNOWN_KEYS:
                    self._seen.popitem(last=False)
            if code == 200:
                learnt.ok = answer
            else:
                learnt.not_modified = answer
        if self._cache.peek(cache_key) is not current:
            self._forget([cache_key])  # let go while this was learnt

    def _forget(self, cache_keys: list) -> None:
        """The feed cache let these entries go: so does the fast path."""
        with self._lock:
            for cache_key in cache_keys:
                for key in self._by_cache_key.pop(cache_key, ()):
                    self._learnt.pop(key, None)

    def _unlearn(self, key: tuple) -> None:
        learnt = self._learnt.pop(key)
        keys = self._by_cache_key.get(learnt.cache_key)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_cache_key[learnt.cache_key]
