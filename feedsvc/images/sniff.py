"""What an image's bytes are, whatever its Content-Type says. Raster
formats only: an SVG is a document that can carry script, so it is never
served, however it is labelled."""

from __future__ import annotations

RASTER_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp",
                "image/x-icon")
# Labels a site may put on a raster image without lying about it.
_GENERIC_TYPES = ("application/octet-stream", "binary/octet-stream", "")


def sniff(data: bytes) -> str | None:
    """The raster type of `data` from its signature, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif"
    if data[:2] == b"BM" and len(data) > 14:
        return "image/bmp"
    if data[:4] == b"\x00\x00\x01\x00":
        return "image/x-icon"
    return None


def raster_type(declared: str | None, data: bytes) -> str:
    """The type to serve `data` as; ValueError when it is not a raster
    image or its label says it is something else (HTML, SVG, script)."""
    label = (declared or "").split(";", 1)[0].strip().lower()
    if "svg" in label:
        raise ValueError("SVG images are not served (they can carry script)")
    found = sniff(data)
    if found is None:
        raise ValueError(f"not a raster image (declared {label or 'no type'})")
    if not (label.startswith("image/") or label in _GENERIC_TYPES):
        raise ValueError(f"declared {label}, not an image")
    return found
