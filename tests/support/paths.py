"""Where things are, for tests in any folder."""

from __future__ import annotations

from pathlib import Path

SUPPORT = Path(__file__).resolve().parent
TESTS = SUPPORT.parent
REPO = TESTS.parent
PACKAGE = REPO / "feedsvc"
SPEC = SUPPORT / "spec"  # the Atom RELAX NG schema and the JSON Feed schema
CORPUS_DIR = TESTS / "corpus"
PAGES = CORPUS_DIR / "pages"  # parser expectations, one file per page
EXTRACT_PAGES = CORPUS_DIR / "extract_pages"  # extractor expectations, one file per page
SHARED_CORPUS = REPO.parent / "shared" / "corpus"  # real pages and feeds, beside the checkout when present
