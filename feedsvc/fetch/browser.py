"""render = "browser": pages built by JavaScript, fetched by the system's
headless Chromium driven by Selenium (the optional extra
`feedsvc[browser]`; no browser is ever downloaded).

Every request the page makes goes through feedsvc.fetch.browser_guard's proxy,
which applies the SSRF guard; file: and other local schemes are never
navigated to. At most FEEDSVC_BROWSER_PAGES pages render at once; a page
gets FEEDSVC_FETCH_TIMEOUT_SECONDS in all and is cut there, and its DOM
may be at most FEEDSVC_FETCH_MAX_BYTES. The rendered DOM is handed to the
same parsers and extractor as a fetched page."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time

from feedsvc.fetch.browser_guard import GuardProxy
from feedsvc.core.errors import FetchError, FetchRefused, FetchTooLarge
from feedsvc.fetch.page import FetchedPage, FetchSettings

log = logging.getLogger(__name__)
# Debian's packages (apt-get install chromium chromium-driver).
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
_SETTLE_SECONDS = 0.3
_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage", "--window-size=1200,1600",
          # Loopback is not exempt from the proxy: the guard decides.
          "--proxy-bypass-list=<-loopback>",
          # WebRTC would open UDP around the proxy.
          "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
          "--webrtc-ip-handling-policy=disable_non_proxied_udp")


class BrowserUnavailable(FetchError):
    kind = "browser"



class BrowserPool:
    """Up to `pages` Chromium instances, each rendering one page at a time."""

    def __init__(self, settings: FetchSettings, pages: int = 2):
        self.settings = settings
        self.guard = GuardProxy(settings.allowed_networks, settings.max_bytes, settings.timeout_seconds)
        self._slots = threading.BoundedSemaphore(max(1, pages))
        self._idle: list = []
        self._all: list = []
        self._lock = threading.Lock()

    def _start(self):
        if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
            raise BrowserUnavailable(CHROMIUM, "Chromium or chromedriver is not installed "
                                               "(apt-get install chromium chromium-driver)")
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        profile = tempfile.mkdtemp(prefix="feedsvc-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*_FLAGS, f"--proxy-server=http://{self.guard.address}", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.page_load_strategy = "normal"
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.feedsvc_profile = profile
        driver.set_page_load_timeout(self.settings.timeout_seconds)
        driver.set_script_timeout(self.settings.timeout_seconds)
        with self._lock:
            self._all.append(driver)
        return driver

    def render(self, url: str, filled=None) -> FetchedPage:
        """The page's DOM after its scripts ran, as a FetchedPage (UTF-8)."""
        if not url.lower().startswith(("http://", "https://")):
            raise FetchRefused(url, "only http and https URLs are rendered")
        with self._slots:
            with self._lock:
                driver = self._idle.pop() if self._idle else None
            driver = driver or self._start()
            healthy = False
            try:
                page = self._render(driver, url, filled)
                healthy = True
                return page
            finally:
                with self._lock:
                    if healthy:
                        self._idle.append(driver)
                    else:
                        self._quit(driver)

    def _render(self, driver, url: str, filled) -> FetchedPage:
        from selenium.common.exceptions import TimeoutException, WebDriverException

        self._prepare(driver, url, filled)
        started = time.monotonic()
        cut = False
        try:
            driver.get(url)
        except TimeoutException:
            cut = True  # the page never finished loading: keep what it built so far
            driver.execute_script("window.stop();")
        except WebDriverException as exc:
            raise FetchError(url, f"browser could not load the page: {exc.msg or type(exc).__name__}") from None
        self._settle(driver, started)
        final_url = driver.current_url
        if not final_url.startswith(("http://", "https://")):
            raise FetchRefused(url, f"the page went to {final_url.split(':', 1)[0]}:, which is not rendered")
        html = driver.execute_script("return document.documentElement.outerHTML;") or ""
        content = ("<!DOCTYPE html>" + html).encode("utf-8")
        if len(content) > self.settings.max_bytes:
            raise FetchTooLarge(url, f"rendered page is over the {self.settings.max_bytes}-byte limit")
        if cut:
            log.info("browser_page_cut url=%s timeout_seconds=%g", url, self.settings.timeout_seconds)
        return FetchedPage(url=url, final_url=final_url, status=200, content=content,
                           content_type="text/html; charset=utf-8", headers={"x-feedsvc-rendered": "browser"})

    def _prepare(self, driver, url: str, filled) -> None:
        """A clean page with the recipe's user agent, headers and cookies
        (cookies for the page's own site only)."""
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        headers = dict(filled.headers) if filled else {}
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": headers})
        driver.execute_cdp_cmd("Network.setUserAgentOverride",
                               {"userAgent": (filled.user_agent if filled else None) or self.settings.user_agent})
        for name, value in (filled.cookies.items() if filled else ()):
            driver.execute_cdp_cmd("Network.setCookie", {"name": name, "value": value, "url": url})

    def _settle(self, driver, started: float) -> None:
        """Wait, within the time limit, until scripts stop changing the DOM."""
        deadline = started + self.settings.timeout_seconds
        last, stable_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            size = driver.execute_script("return document.documentElement.outerHTML.length;")
            now = time.monotonic()
            if size != last:
                last, stable_since = size, now
            elif now - stable_since >= _SETTLE_SECONDS:
                return
            time.sleep(0.1)

    def _quit(self, driver) -> None:
        try:
            driver.quit()
        except Exception:  # noqa: BLE001 - a dead browser is being let go anyway
            pass
        shutil.rmtree(getattr(driver, "feedsvc_profile", ""), ignore_errors=True)
        with self._lock:
            if driver in self._all:
                self._all.remove(driver)

    def close(self) -> None:
        with self._lock:
            drivers, self._idle = list(self._all), []
        for driver in drivers:
            self._quit(driver)
        self.guard.close()
