"""Every feed as static files, for static hosting. Feeds and the OPML are
rendered by the app's own routes, so exported bytes equal served ones; a file is
rewritten only when its bytes changed, and nothing is rendered when the
store has not changed since the last export."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from feedsvc.core.outlets import OutletDirectory
from feedsvc.fetch.transfer import tls_context
from feedsvc.render import FORMATS
from feedsvc.service import EXTENSION

MANIFEST = ".feedsvc-export.json"
# feeds.opml lists the outlet feeds, feeds-more.opml the others (feedsvc.web.subscriptions).
OPML_FILES = ("feeds.opml", "feeds-more.opml")


@dataclass
class ExportResult:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped_all: bool = False
    pinged: bool = False  # the hub was told of the feed files written


def _paths(app) -> list[str]:
    rt = app.extensions[EXTENSION]
    directory = OutletDirectory(rt.store.outlets(), app.config["OUTLET_ALIASES"])
    # Slugs, not names, for file names: static hosts and URLs stay ASCII.
    stems = ["feeds/all", *(f"feeds/outlet/{o.slug}" for o in directory),
             *(f"feeds/source/{source_id}" for source_id in rt.recipes)]
    return [*(f"{stem}.{fmt}" for stem in stems for fmt in FORMATS), *OPML_FILES]


def _pinged(app, base_url: str) -> bool:
    """Exported files name the hub only when the hub hears of their changes:
    WEBSUB_EXPORT_BASE_URL names where they are served."""
    export_base = (app.config.get("WEBSUB_EXPORT_BASE_URL") or "").rstrip("/")
    return bool(app.config["WEBSUB_HUB"]) and export_base == base_url


def _write_if_changed(target: Path, body: bytes, hashes: dict, name: str, result: ExportResult) -> None:
    digest = hashlib.sha256(body).hexdigest()
    if hashes.get(name) == digest and target.exists():
        result.unchanged += 1
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(body)
    tmp.replace(target)  # readers of the static site never see half a file
    hashes[name] = digest
    result.written.append(name)


def export_feeds(app, folder: Path, base_url: str) -> ExportResult:
    """Render through `app` (feedsvc.app.create_app) into `folder`."""
    base_url = base_url.rstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    version = app.extensions[EXTENSION].store.version()
    result = ExportResult()
    if manifest.get("store_version") == version and manifest.get("base_url") == base_url:
        result.skipped_all = True
        return result
    hashes = manifest.get("files", {})
    app.config["BASE_URL"] = base_url  # self links point at the static host
    pinged = _pinged(app, base_url)
    if not pinged:
        app.config["WEBSUB_HUB"] = None  # a hub that never hears of these files must not be named in them
    client = app.test_client()
    feeds_written = []
    for path in _paths(app):
        response = client.get(f"/{path}")
        if response.status_code != 200:
            raise RuntimeError(f"/{path} answered {response.status_code}: {response.get_data(as_text=True)}")
        before = len(result.written)
        _write_if_changed(folder / path, response.data, hashes, path, result)
        if len(result.written) > before and path not in OPML_FILES:
            feeds_written.append(f"{base_url}/{path}")
    # The stylesheet the Atom and RSS files name, and the CSS it links, so
    # browsers show them as pages there too.
    for name in ("feed.xsl", "feed.css"):
        static = Path(app.static_folder) / name
        _write_if_changed(folder / "static" / name, static.read_bytes(), hashes, f"static/{name}", result)
    manifest_path.write_text(json.dumps({"store_version": version, "base_url": base_url, "files": hashes},
                                        indent=1))
    if pinged and feeds_written:
        import httpx

        from feedsvc.ingest.websub import publish

        with httpx.Client(trust_env=False, verify=tls_context()) as http:
            result.pinged = publish(http, app.config["WEBSUB_HUB"], feeds_written)
    return result
