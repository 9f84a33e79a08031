"""Turn page bytes into text the way browsers do, with the fixes Chinese
portals need: GB2312 and GBK pages routinely use characters outside those
sets, so both are decoded as their superset GB18030."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# WHATWG's labels for GBK, which browsers decode as GB18030; Python knows
# only some of them.
_GBK_LABELS = {"chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gbk", "iso-ir-58",
               "x-gbk", "euc-cn", "cp936", "gb18030"}
_SUPERSETS = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# The HTML spec's prescan looks at the first 1024 bytes; real portals put
# long scripts first, so look further.
_PRESCAN_BYTES = 8192
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_CONTENT_TYPE_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def normalize_encoding(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _GBK_LABELS:
        return "gb18030"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "gb18030" if name in _GBK_LABELS else _SUPERSETS.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CONTENT_TYPE_CHARSET.search(content_type)
    return match.group(1) if match else None


def sniff_declared_encoding(content: bytes) -> str | None:
    """The charset a document declares about itself (XML declaration or
    `<meta>`), without decoding it."""
    head = content[:_PRESCAN_BYTES]
    for pattern in (_XML_DECL, _META_CHARSET):
        match = pattern.search(head)
        if match:
            return match.group(1).decode("ascii", "replace")
    return None


def _is_utf8_with_non_ascii(content: bytes) -> bool:
    if content.isascii():
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(content: bytes, header_charset: str | None = None, override: str | None = None) -> str:
    """Pick the codec: BOM, recipe override, HTTP header, in-document
    declaration, then detection. Valid UTF-8 beats a declaration that
    contradicts it, since a mislabelled UTF-8 page is far more common than
    legacy text that happens to be valid UTF-8."""
    for bom, name in _BOMS:
        if content.startswith(bom):
            return name
    if override:
        return normalize_encoding(override) or "utf-8"
    declared = normalize_encoding(header_charset) or normalize_encoding(sniff_declared_encoding(content))
    if declared:
        if declared != "utf-8" and _is_utf8_with_non_ascii(content):
            return "utf-8"
        return declared
    if content.isascii() or _is_utf8_with_non_ascii(content):
        return "utf-8"
    best = from_bytes(content[:65536]).best()
    return normalize_encoding(best.encoding if best else None) or "gb18030"


def decode_document(content: bytes, header_charset: str | None = None, override: str | None = None) -> tuple[str, str]:
    """Return (text, codec). Undecodable bytes become U+FFFD rather than
    failing the whole page."""
    encoding = detect_encoding(content, header_charset, override)
    text = content.decode(encoding, errors="replace")
    return text.removeprefix("\ufeff"), encoding
