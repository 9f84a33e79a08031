"""The bundled snapshot site: saved portal pages served on loopback, so
the demo and the tests read real HTML over real HTTP without the internet."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE_DIR = Path(__file__).parent / "site"
RECIPES_DIR = Path(__file__).parent / "recipes"


class _Handler(SimpleHTTPRequestHandler):
    # Like the portals it copies, send no charset: pages declare their own
    # in <meta>, which is what the decoder has to cope with.
    extensions_map = {".shtml": "text/html", ".html": "text/html", ".xml": "application/xml",
                      ".rss": "application/rss+xml", ".atom": "application/atom+xml", "": "application/octet-stream"}
    index_pages = ("index.shtml", "index.html")
    server_version = "snapshot"

    def list_directory(self, path):
        self.send_error(404, "Not found")
        return None

    def log_message(self, format, *args):  # quiet: the demo prints its own lines
        pass


class SnapshotServer:
    """A threaded static server for `root` on 127.0.0.1; port 0 picks a
    free one. Use as a context manager or call start()/stop()."""

    def __init__(self, root: Path = SITE_DIR, host: str = "127.0.0.1", port: int = 0):
        self.httpd = ThreadingHTTPServer((host, port), partial(_Handler, directory=str(root)))
        self.httpd.daemon_threads = True
        # A short poll: stop() returns within 50 ms, not the default half second.
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="snapshot-site", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SnapshotServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SnapshotServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
