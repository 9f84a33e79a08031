"""Brief sampling profiles with py-spy (optional: `pip install py-spy`).

`sample(pid, seconds)` attaches py-spy to a running process (a web
worker, or this very process from the outside) and returns the collapsed
stacks summarised: the functions most often on the CPU (self) and most often
on the stack (inclusive), as shares of the samples."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _frame(text: str) -> str:
    # "respond (feedsvc/web/feeds.py:120)" -> "respond (feedsvc/web/feeds.py)"
    name, _, where = text.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    if path.startswith("feedsvc/"):  # py-spy gives paths relative to sys.path
        short = path
    elif "/feedsvc/" in path:
        short = "feedsvc/" + path.rsplit("/feedsvc/", 1)[1]
    else:
        short = "/".join(path.split("/")[-2:])
    return f"{name} ({short})"


# What a sample is spent on: the first rule that matches, whole-stack rules
# first (a function anywhere on the stack), then from the leaf upwards.
STACK_RULES = (("store.outlets() (outlet directory rebuild)", ("Store.outlets ",)),
               ("OutletDirectory (pinyin slugs)", ("OutletDirectory.__init__ ",)))
LEAF_RULES = (
    ("gzip", ("gzip.py", "zlib")),
    ("ETag hash", ("hashlib", "blake2b")),
    ("feedgen (Atom/RSS tree building, serialising)", ("feedgen/",)),
    ("feedsvc.render", ("feedsvc/render/",)),
    ("SQL + row decoding (SQLAlchemy, driver)", ("sqlalchemy/", "sqlite3", "psycopg")),
    ("feedparser", ("feedparser/",)),
    ("nh3 sanitising", ("nh3",)),
    ("feedsvc.parsers", ("feedsvc/parsers/",)),
    ("feedsvc.store.search (folding)", ("feedsvc/store/search.py",)),
    ("werkzeug/flask request and response handling", ("werkzeug/", "flask/")),
    ("granian (Python side of the WSGI bridge)", ("granian/",)),
    ("feedsvc.web.fastpath (cached feed answers)", ("feedsvc/web/fastpath.py",)),
    ("prometheus_client (counting)", ("prometheus_client/",)),
    ("feedsvc (other)", ("feedsvc/",)),
)


def _area(frames: list[str]) -> str:
    for name, needles in STACK_RULES:
        if any(n in f for f in frames for n in needles):
            return name
    for frame in reversed(frames):
        for name, needles in LEAF_RULES:
            if any(n in frame for n in needles):
                return name
    return "other (interpreter, stdlib, idle)"


def summarise(raw: str, top: int = 12, within: str | None = None) -> dict:
    """Self and inclusive shares per function from py-spy's raw output.
    `within`: keep only stacks that pass through a frame containing it."""
    self_counts: Counter = Counter()
    inclusive: Counter = Counter()
    areas: Counter = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        raw_frames = [f for f in stack.split(";") if f]
        if within and not any(within in f for f in raw_frames):
            continue
        frames = [_frame(f) for f in raw_frames]
        n = int(count)
        total += n
        areas[_area(raw_frames)] += n
        self_counts[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    share = (lambda c: round(100 * c / total, 1)) if total else (lambda c: 0.0)
    return {
        "samples": total,
        "by_area_percent": [[a, share(c)] for a, c in areas.most_common()],
        "self_percent": [[f, share(c)] for f, c in self_counts.most_common(top)],
        "inclusive_percent": [[f, share(c)] for f, c in inclusive.most_common(top * 2)],
    }


@contextmanager
def sampling(pid: int, seconds: float, out: dict, key: str, within: str | None = None, rate: int = 250,
             gil: bool = False):
    """Profile `pid` for `seconds` while the with-block runs; puts the
    summary in out[key] (nothing when py-spy is not installed). `gil`:
    sample only the thread holding the GIL, so threads waiting for it (in a
    multi-threaded server) do not show up as busy where they wait."""
    exe = py_spy()
    if exe is None:
        out[key] = {"error": "py-spy not installed (pip install py-spy)"}
        yield
        return
    folder = tempfile.mkdtemp(prefix="feedsvc-bench-prof-")
    target = os.path.join(folder, "stacks.txt")
    proc = subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(int(max(1, seconds))),
                             "--rate", str(rate), "--format", "raw", "--output", target, "--nonblocking",
                             *(["--gil"] if gil else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield
    finally:
        try:
            _, err = proc.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if os.path.exists(target):
            out[key] = summarise(Path(target).read_text(encoding="utf-8", errors="replace"), within=within)
        else:
            out[key] = {"error": (err or "py-spy wrote nothing").strip()[-300:]}
        shutil.rmtree(folder, ignore_errors=True)


def print_summary(title: str, summary: dict, top: int = 8) -> None:
    if "error" in summary:
        print(f"  profile {title}: {summary['error']}")
        return
    print(f"  profile {title} ({summary['samples']} samples), by area %:")
    for area, pct in summary["by_area_percent"]:
        print(f"    {pct:5.1f}  {area}")
    print("  self %:")
    for frame, pct in summary["self_percent"][:top]:
        print(f"    {pct:5.1f}  {frame}")
    print("  inclusive % (feedsvc functions):")
    for frame, pct in [(f, p) for f, p in summary["inclusive_percent"] if "(feedsvc/" in f][:top]:
        print(f"    {pct:5.1f}  {frame}")
