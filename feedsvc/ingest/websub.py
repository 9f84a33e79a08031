"""WebSub publishing: after a refresh changed feeds, tell the hub which
topic URLs to fetch again (hub.mode=publish)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from urllib.parse import quote, urlencode

import httpx

from feedsvc.core.models import RefreshReport
from feedsvc.core.outlets import OutletDirectory
from feedsvc.fetch.transfer import tls_context
from feedsvc.render import FORMATS

log = logging.getLogger(__name__)


def changed_topics(base_url: str, report: RefreshReport, outlet_slug: Callable[[str], str | None]) -> list[str]:
    """Every URL the feeds a refresh changed are advertised at (their
    canonical URLs: name and alias URLs of an outlet feed redirect to its
    slug URL, so subscribers never hold them): everything, its source, and
    the outlets of the items it added or changed, by their slugs,
    `outlet_slug` mapping a stored name (aliases resolved)."""
    slugs = sorted({slug for slug in map(outlet_slug, report.outlets_changed) if slug})
    stems = ["/feeds/all", f"/feeds/source/{quote(report.source_id)}", *(f"/feeds/outlet/{slug}" for slug in slugs)]
    return [f"{base_url.rstrip('/')}{stem}.{fmt}" for stem in stems for fmt in FORMATS]


def publish(client: httpx.Client, hub_url: str, topics: Iterable[str]) -> bool:
    """One publish request naming every topic; False (logged) on failure,
    since a hub being down must not fail the refresh."""
    data = [("hub.mode", "publish"), *(("hub.url", topic) for topic in topics)]
    try:
        # Repeated hub.url keys: encode the form by hand, httpx's data= wants a dict.
        response = client.post(hub_url, content=urlencode(data), timeout=10,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    except httpx.HTTPError as exc:
        log.warning("websub_publish_failed hub=%s error=%s", hub_url, exc)
        return False
    if response.status_code >= 300:
        log.warning("websub_publish_failed hub=%s status=%d", hub_url, response.status_code)
        return False
    log.info("websub_published hub=%s topics=%d", hub_url, len(data) - 1)
    return True


class Publisher:
    """A refresh listener: pings the hub when a refresh changed items.
    `outlets` gives the outlet directory as it is after the refresh."""

    def __init__(self, hub_url: str, base_url: str, outlets: Callable[[], OutletDirectory]):
        self.hub_url, self.base_url, self.outlets = hub_url, base_url, outlets
        self.client = httpx.Client(trust_env=False, verify=tls_context())

    def __call__(self, report: RefreshReport) -> None:
        if report.status == "ok" and (report.new or report.updated):
            directory = self.outlets()

            def outlet_slug(name: str) -> str | None:
                outlet = directory.owner(name)
                return outlet.slug if outlet else None

            publish(self.client, self.hub_url, changed_topics(self.base_url, report, outlet_slug))
