"""Article extraction, measured: feedsvc's extractor and (when importable)
trafilatura and gne over the shared corpus of real pages with ground truth.

    .venv/bin/python -m bench.extract [--only feedsvc] [--verbose]

Prints, per extractor: title accuracy, publish-time accuracy (the
components the truth gives, year to minute), author accuracy (a match with
the byline or with any editor), body character-bigram F1, and pages per
second in this process. Null truths and the fields in the corpus's
errata.json are skipped. A second title figure scores the pages without a
usable title truth against the headlines read off those pages
(bench/extract_headlines.json). A second table scores feedsvc's related
lists and page outlets on the hand-labelled pages of corpus/related.
Nothing is written to disk."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from feedsvc.fetch.encoding import decode_document

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
HEADLINES = Path(__file__).with_name("extract_headlines.json")
_TRUTH_TIME = re.compile(
    r"^(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<m>\d{1,2})(?:\s*[-/.月]\s*(?P<d>\d{1,2})日?)?"
    r"(?:[\sT]*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*\d{1,2}(?:\.\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d\d:?\d\d)?"
)
_NAME_SEPARATORS = re.compile(r"[\s,，、;；/|·.]+")


# ---------------------------------------------------------------- truths

def load_pages(corpus: Path = CORPUS) -> list[dict]:
    """Every article with its truth, the bytes, and the fields to skip."""
    errata = json.loads((corpus / "errata.json").read_text(encoding="utf-8"))["skip"]
    headlines = json.loads(HEADLINES.read_text(encoding="utf-8"))["headlines"]
    pages = []
    for truth_file in sorted((corpus / "articles").glob("*/*.json")):
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        key = f"articles/{truth_file.parent.name}/{truth_file.stem}"
        pages.append({"key": key, "truth": truth, "skip": set(errata.get(key, {})), "headline": headlines.get(key),
                      "data": (truth_file.parent / truth["html_file"]).read_bytes()})
    return pages


def time_parts(text: str | None, date_only_midnight: bool = False) -> tuple[dict, timezone | None] | None:
    """The components a time string gives, and its offset if it has one."""
    if not text:
        return None
    match = _TRUTH_TIME.match(text.strip())
    if not match:
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None and k != "tz"}
    if date_only_midnight and parts.get("H") == 0 and parts.get("M") == 0:
        parts.pop("H"), parts.pop("M")  # newspaper4k writes date-only pages as T00:00:00
    tz = match.group("tz")
    if tz:
        sign = -1 if tz.startswith("-") else 1
        digits = tz.replace(":", "")[1:] if tz != "Z" else "0000"
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return parts, tz


def time_match(truth: str, got: str | None, date_only_midnight: bool) -> bool:
    want = time_parts(truth, date_only_midnight)
    have = time_parts(got)
    if not want or not have:
        return False
    want_parts, want_tz = want
    have_parts, have_tz = have
    if want_tz and have_tz and {"y", "m", "d", "H", "M"} <= have_parts.keys():
        # Both zoned: compare the same instant, in the truth's offset.
        moment = datetime(have_parts["y"], have_parts["m"], have_parts["d"], have_parts["H"], have_parts["M"],
                          tzinfo=have_tz).astimezone(want_tz)
        have_parts = {"y": moment.year, "m": moment.month, "d": moment.day, "H": moment.hour, "M": moment.minute}
    return all(have_parts.get(k) == v for k, v in want_parts.items())


def norm_title(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).casefold()


def norm_name(text: str | None) -> str:
    return _NAME_SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "")).casefold()


def author_match(truth: str, author: str | None, editors: list[str]) -> bool:
    want = norm_name(truth)
    for candidate in [author, *editors, "".join(editors)]:
        have = norm_name(candidate)
        if len(have) >= 2 and (have in want or want in have):
            return True
    return False


def bigram_f1(truth: str, got: str | None) -> float:
    def grams(text: str) -> Counter:
        bare = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))
        return Counter(bare[i:i + 2] for i in range(len(bare) - 1))

    want, have = grams(truth), grams(got or "")
    common = sum((want & have).values())
    if not common:
        return 0.0
    precision, recall = common / sum(have.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def load_related_pages(corpus: Path = CORPUS) -> list[dict]:
    """Every page of corpus/related with its hand labels and bytes."""
    pages = []
    for label_file in sorted((corpus / "related").glob("*/*.json")):
        truth = json.loads(label_file.read_text(encoding="utf-8"))
        if "related" not in truth:
            continue
        key = f"related/{label_file.parent.name}/{label_file.stem}"
        pages.append({"key": key, "truth": truth, "data": label_file.with_suffix(".html").read_bytes()})
    return pages


def outlet_match(truth: str, got: str | None) -> bool:
    return bool(got) and norm_name(truth) == norm_name(got)


def score_related(pages: list[dict], verbose: bool = False) -> dict:
    """Related items found (recall), returned items that are labelled
    related (precision; links the labels ignore count neither way), their
    titles, dates (labelled day, or none where the item shows none), their
    outlets where the item names one, and the page's own outlet."""
    from feedsvc.extract import extract_page

    tally = Counter()
    for page in pages:
        truth = page["truth"]
        url = truth.get("link_base") or truth.get("url") or truth.get("fetched_url")
        got = extract_page(page["data"], url)
        found = {e.link: e for e in got.related}
        found_href = {e.href: e for e in got.related}
        labelled = {item["link"] for item in truth["related"]} | {item["href"] for item in truth["related"]}
        ignored = {item["title"] for item in truth.get("ignore", [])}
        for item in truth["related"]:
            entry = found.get(item["link"]) or found_href.get(item["href"])
            tally["related"] += 1
            tally["recalled"] += entry is not None
            if verbose and entry is None:
                print(f"  {page['key']} related missed: {item['title']!r} {item['link']}")
            if entry is None:
                continue
            tally["titles"] += 1
            tally["title_ok"] += norm_title(entry.title) == norm_title(item["title"])
            if verbose and norm_title(entry.title) != norm_title(item["title"]):
                print(f"  {page['key']} related title: want {item['title']!r} got {entry.title!r}")
            day = entry.published.value.date().isoformat() if entry.published else None
            if item["date_iso"] or not item["date"]:
                tally["dates"] += 1
                tally["date_ok"] += day == item["date_iso"]
                if verbose and day != item["date_iso"]:
                    print(f"  {page['key']} related date: want {item['date_iso']!r} ({item['date']!r}) got {day!r}")
            if item["outlet"]:
                tally["outlets"] += 1
                tally["outlet_ok"] += outlet_match(item["outlet"], entry.outlet)
                if verbose and not outlet_match(item["outlet"], entry.outlet):
                    print(f"  {page['key']} related outlet: want {item['outlet']!r} got {entry.outlet!r}")
        for entry in got.related:
            if entry.title in ignored:
                continue
            tally["returned"] += 1
            right = entry.link in labelled or entry.href in labelled
            tally["precise"] += right
            if verbose and not right:
                print(f"  {page['key']} related wrongly returned: {entry.title!r} {entry.link}")
        if truth.get("outlet"):
            tally["page_outlets"] += 1
            tally["page_outlet_ok"] += outlet_match(truth["outlet"], got.outlet)
            if verbose and not outlet_match(truth["outlet"], got.outlet):
                print(f"  {page['key']} outlet: want {truth['outlet']!r} got {got.outlet!r}")
    return dict(tally)


def _ratio(tally: dict, hit: str, total: str) -> str:
    whole = tally.get(total, 0)
    return f"{tally.get(hit, 0) / whole:.0%} ({tally.get(hit, 0)}/{whole})" if whole else "n/a"


def print_related(tally: dict) -> None:
    print("\n| related (corpus/related, feedsvc) | recall | precision | titles | dates | outlets where named "
          "| page outlet where named |")
    print("|---|---|---|---|---|---|---|")
    print(f"| feedsvc | {_ratio(tally, 'recalled', 'related')} | {_ratio(tally, 'precise', 'returned')} "
          f"| {_ratio(tally, 'title_ok', 'titles')} | {_ratio(tally, 'date_ok', 'dates')} "
          f"| {_ratio(tally, 'outlet_ok', 'outlets')} | {_ratio(tally, 'page_outlet_ok', 'page_outlets')} |")


# ------------------------------------------------------------ extractors

def run_feedsvc(page: dict) -> dict:
    from feedsvc.extract import extract_page

    result = extract_page(page["data"], page["truth"].get("url")).as_json()
    return {"title": result["title"], "time": result["published"], "author": result["author"],
            "editors": result["editors"], "body": result["body_text"]}


def run_trafilatura(page: dict) -> dict:
    import trafilatura

    html, _ = decode_document(page["data"])
    doc = trafilatura.bare_extraction(html, url=page["truth"].get("url"), with_metadata=True)
    if doc is None:
        return {}
    get = doc.get if isinstance(doc, dict) else lambda k: getattr(doc, k, None)
    return {"title": get("title"), "time": get("date"), "author": get("author"), "editors": [], "body": get("text")}


_GNE = None


def run_gne(page: dict) -> dict:
    global _GNE
    if _GNE is None:
        from gne import GeneralNewsExtractor

        _GNE = GeneralNewsExtractor()
    html, _ = decode_document(page["data"])
    result = _GNE.extract(html)
    return {"title": result.get("title"), "time": result.get("publish_time"), "author": result.get("author"),
            "editors": [], "body": result.get("content")}


EXTRACTORS = {"feedsvc": run_feedsvc, "trafilatura": run_trafilatura, "gne": run_gne}


def available(name: str) -> bool:
    if name == "feedsvc":
        return True
    try:
        __import__(name)
    except Exception:  # noqa: BLE001 - any import failure means "not installed here"
        return False
    return True


# --------------------------------------------------------------- scoring

def score(pages: list[dict], run, verbose: bool = False) -> dict:
    hits = {"title": [], "time": [], "author": [], "body": [], "read_title": [], "title_not_gne": []}
    run(pages[0])  # warm up: imports and caches are not per-page work
    started = time.perf_counter()
    outputs = []
    for page in pages:
        try:
            outputs.append(run(page))
        except Exception as exc:  # noqa: BLE001 - a crash on a page scores zero, it does not stop the run
            outputs.append({"error": repr(exc)})
    elapsed = time.perf_counter() - started
    for page, got in zip(pages, outputs):
        truth, skip = page["truth"], page["skip"]
        n4k = truth["ground_truth_origin"].get("kind", "").startswith("newspaper4k") or "/n4k-" in page["key"]
        checks = {
            "title": lambda: norm_title(truth["title"]) == norm_title(got.get("title")),
            "time": lambda: time_match(truth["publish_time"], got.get("time"), n4k),
            "author": lambda: author_match(truth["author"], got.get("author"), got.get("editors") or []),
        }
        for field, truth_key in (("title", "title"), ("time", "publish_time"), ("author", "author")):
            if truth.get(truth_key) is not None and truth_key not in skip:
                ok = checks[field]()
                hits[field].append(ok)
                if field == "title" and "/gne-" not in page["key"]:
                    # GNE truths are gne's own output: this part of the title set
                    # is labelled by someone other than one of the contenders.
                    hits["title_not_gne"].append(ok)
                if verbose and not ok:
                    print(f"  {page['key']} {field}: want {truth[truth_key]!r} got "
                          f"{got.get(field) if field != 'author' else (got.get('author'), got.get('editors'))!r}")
        if page.get("headline"):
            ok = norm_title(page["headline"]) == norm_title(got.get("title"))
            hits["read_title"].append(ok)
            if verbose and not ok:
                print(f"  {page['key']} read title: want {page['headline']!r} got {got.get('title')!r}")
        if truth.get("content") and "content" not in skip:
            f1 = bigram_f1(truth["content"], got.get("body"))
            hits["body"].append(f1)
            if verbose and f1 < 0.9:
                print(f"  {page['key']} body F1 {f1:.2f}")
    return {
        "title": sum(hits["title"]) / len(hits["title"]),
        "time": sum(hits["time"]) / len(hits["time"]),
        "author": sum(hits["author"]) / len(hits["author"]),
        "body": sum(hits["body"]) / len(hits["body"]),
        "read_title": sum(hits["read_title"]) / len(hits["read_title"]),
        "title_not_gne": sum(hits["title_not_gne"]) / len(hits["title_not_gne"]),
        "pages_per_second": len(pages) / elapsed,
        "counts": {k: len(v) for k, v in hits.items()},
    }


def _fraction(result: dict, field: str) -> str:
    total = result["counts"][field]
    return f"{round(result[field] * total)}/{total}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(EXTRACTORS), help="run only these extractors")
    parser.add_argument("--verbose", action="store_true", help="print each miss")
    args = parser.parse_args(argv)
    if not (CORPUS / "articles").is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 1
    pages = load_pages()
    print(f"{len(pages)} pages from {CORPUS.name}/articles")
    rows = []
    for name in args.only or list(EXTRACTORS):
        if not available(name):
            print(f"{name}: not installed, skipped")
            continue
        if args.verbose:
            print(f"{name}:")
        rows.append((name, score(pages, EXTRACTORS[name], args.verbose)))
    counts = rows[0][1]["counts"] if rows else {}
    print(f"\n| extractor | title ({counts.get('title')}) | time to the minute ({counts.get('time')}) "
          f"| author or editor ({counts.get('author')}) | body bigram F1 ({counts.get('body')}) | pages/s "
          f"| headline read off the page ({counts.get('read_title')}) "
          f"| title, truths not from gne ({counts.get('title_not_gne')}) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['title']:.0%} | {r['time']:.0%} | {r['author']:.0%} | {r['body']:.3f} "
              f"| {r['pages_per_second']:.1f} | {_fraction(r, 'read_title')} | {_fraction(r, 'title_not_gne')} |")
    speeds = {name: r["pages_per_second"] for name, r in rows}
    if "feedsvc" in speeds and "trafilatura" in speeds:
        print(f"\nfeedsvc is {speeds['feedsvc'] / speeds['trafilatura']:.1f}x trafilatura's pages/s in this run")
    if (CORPUS / "related").is_dir() and (not args.only or "feedsvc" in args.only):
        if args.verbose:
            print("\nfeedsvc, related lists:")
        print_related(score_related(load_related_pages(), args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
