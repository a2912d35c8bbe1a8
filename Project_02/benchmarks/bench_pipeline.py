"""Benchmark the podcast pipeline against the baselines and goals of issues 6 and 19, in one run.

Measures, side by side:
  * the whole CLI (``podcast_summary.py --no-download``: start, fetch from 127.0.0.1,
    parse, store) on a 16 MB feed of 50,000 short items, wall time and the peak RSS of
    that process (``ru_maxrss`` from ``os.wait4``), then its re-sync (a 304 answer);
  * parse of a 50,000-item (~127 MB) realistic feed: the original approach
    (``xmltodict.parse(response.text)``, whole tree) against ours (bytes, items
    streamed, parsed and stored in one process), with time, CPU time and peak RSS,
    each run in its own process;
  * store: one commit per row (measured on a subset and extrapolated, because it
    takes minutes), one transaction with executemany (no FTS), and ours (upsert,
    change detection, FTS5 index) -- ours is timed together with the parse;
  * re-sync of the same feed: a 304 answer, the same bytes from a server without
    validators, and the same feed with one item changed;
  * four episode downloads from a local server throttled per connection, sequential
    against four workers.

Every line with a goal ends in PASS or FAIL. The exit status is 0 either way (a shared
machine misses goals by chance); with ``--strict`` it is 1 when any goal FAILs.

    python Project_02/benchmarks/bench_pipeline.py            # the full run
    python Project_02/benchmarks/bench_pipeline.py --strict   # exit 1 if a goal fails
    python Project_02/benchmarks/bench_pipeline.py --items 5000 --repeat 1   # quick look
"""
import argparse
import http.server
import importlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import requests
import xmltodict

PROJECT_DIR = Path(__file__).resolve().parents[1]
GOALS = {"cli_s": 3.0, "cli_mb": 500.0, "parse_store_s": 6.0, "parse_store_mb": 500.0,
         "resync_s": 0.5, "parallel_s": 1.2}


def project_module(name: str) -> ModuleType:
    """Import ``podcast_pipeline.<name>`` from this project (benchmarks/ is not a package)."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    return importlib.import_module(f"podcast_pipeline.{name}")


def sample_feed() -> ModuleType:
    """The sibling script that writes realistic feeds (benchmarks/ is on sys.path[0])."""
    return importlib.import_module("sample_feed")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Linux's ``VmHWM`` belongs to the process's own address space. ``ru_maxrss`` is not
    used where VmHWM exists: it survives ``exec``, so a child started by a parent
    holding a 127 MB feed would report the parent's memory as its own.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def loop_seconds() -> float:
    """CPU seconds of a fixed 10-million-step Python loop: how fast this machine is now
    (a shared machine's figures move together with it)."""
    started, total = cpu_seconds(), 0
    for step in range(10_000_000):
        total += step
    return cpu_seconds() - started


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU time so far of this process (or of its finished children)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- server

class BenchServer:
    """Feeds (with optional validators) and throttled audio on 127.0.0.1."""

    def __init__(self, rate_bytes: float) -> None:
        self.files: dict[str, bytes] = {}
        self.validators = True
        self.rate_bytes = rate_bytes
        handler = type("Handler", (_BenchHandler,), {"bench": self})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str) -> str:
        """The full URL of ``path``."""
        return self.base_url + path

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


class _BenchHandler(http.server.BaseHTTPRequestHandler):
    bench: BenchServer

    def do_GET(self) -> None:  # pylint: disable=invalid-name  # http.server calls this name
        """Serve a feed (ETag 304 when validators are on) or throttled audio."""
        body = self.bench.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        etag = f'"{len(body)}-{hash(body[-4096:]) & 0xffffffff}"'
        if self.path.endswith(".xml"):
            if self.bench.validators and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self._headers(body, "application/rss+xml", etag if self.bench.validators else None)
            self.wfile.write(body)
            return
        self._headers(body, "audio/mpeg", None)
        self._throttled(body)

    def _headers(self, body: bytes, content_type: str, etag: str | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()

    def _throttled(self, body: bytes) -> None:
        started, chunk = time.monotonic(), 64 * 1024
        for offset in range(0, len(body), chunk):
            self.wfile.write(body[offset:offset + chunk])
            ahead = (offset + chunk) / self.bench.rate_bytes - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)

    def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
        """Quiet."""


# ------------------------------------------------------------- measured in children

def child_baseline_parse(url: str) -> dict[str, Any]:
    """The original approach: decode ``response.text``, build the whole xmltodict tree."""
    response = requests.get(url, timeout=60)
    started, cpu = time.perf_counter(), cpu_seconds()
    items = xmltodict.parse(response.text)["rss"]["channel"]["item"]
    return {"seconds": time.perf_counter() - started, "cpu": cpu_seconds() - cpu,
            "items": len(items), "peak_mb": peak_rss_mb()}


def child_cli(url: str, data_dir: str) -> dict[str, Any]:
    """The whole CLI as a user runs it, without downloads: wall time and its peak RSS.

    Started from this small interpreter, not the benchmark holding the feeds, because
    ``ru_maxrss`` is kept across ``exec``: the CLI's figure is at least this launcher's.
    """
    command = [sys.executable, str(PROJECT_DIR / "podcast_summary.py"), "--data-dir",
               data_dir, "--feed-url", url, "--no-download", "--log-level", "WARNING"]
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE) as process:
        out = process.stdout.read().decode() if process.stdout else ""
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise RuntimeError(f"the CLI exited with {process.returncode}: {out}")
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024, "summary": out.strip().splitlines()[0],
            "launcher_mb": peak_rss_mb()}


def child_ours(url: str, data_dir: str) -> dict[str, Any]:
    """Our fetch, then our store (parse + upsert + FTS, one process), timed apart."""
    pipeline = project_module("pipeline")
    pipeline.prepare(Path(data_dir))
    started = time.perf_counter()
    fetched = pipeline.fetch(Path(data_dir), url)
    fetch_seconds = time.perf_counter() - started
    started, cpu = time.perf_counter(), cpu_seconds()
    stored = pipeline.store(Path(data_dir), fetched)
    return {"fetch_seconds": fetch_seconds, "seconds": time.perf_counter() - started,
            "cpu": cpu_seconds() - cpu, "new": stored.new, "updated": stored.updated,
            "not_modified": stored.not_modified, "peak_mb": peak_rss_mb()}


def child_ours_parse(feed_path: str) -> dict[str, Any]:
    """Our parse alone (bytes from disk, streamed, every item normalised), no store."""
    feed = project_module("feed")
    started, cpu = time.perf_counter(), cpu_seconds()
    with open(feed_path, "rb") as stream:
        parsed = feed.parse_feed(stream, "http://bench.test/feed.xml")
    return {"seconds": time.perf_counter() - started, "cpu": cpu_seconds() - cpu,
            "items": len(parsed.episodes), "peak_mb": peak_rss_mb()}


def child_resync(url: str, data_dir: str) -> dict[str, Any]:
    """A whole re-sync step (fetch + store) of an already stored feed."""
    pipeline = project_module("pipeline")
    started = time.perf_counter()
    fetched = pipeline.fetch(Path(data_dir), url)
    fetch_seconds = time.perf_counter() - started
    stored = pipeline.store(Path(data_dir), fetched)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "fetch_seconds": fetch_seconds,
            "store_seconds": seconds - fetch_seconds, "new": stored.new,
            "updated": stored.updated, "not_modified": stored.not_modified,
            "peak_mb": peak_rss_mb()}


def child_baseline_store(feed_path: str, db_dir: str, subset: int) -> dict[str, Any]:
    """Store rows the simple ways: one commit per row (subset), one executemany."""
    feed = project_module("feed")
    with open(feed_path, "rb") as stream:
        episodes = feed.parse_feed(stream, "http://bench.test/feed.xml").episodes
    rows = [(e.guid, e.title, e.link, e.published, e.description, e.enclosure_url)
            for e in episodes]
    schema = ("CREATE TABLE episodes (guid TEXT PRIMARY KEY, title TEXT, link TEXT, "
              "published TEXT, description TEXT, enclosure_url TEXT)")
    insert = "INSERT INTO episodes VALUES (?, ?, ?, ?, ?, ?)"
    per_row = sqlite3.connect(Path(db_dir) / "per_row.db")  # default journal, as the original
    per_row.execute(schema)
    per_row.commit()
    started = time.perf_counter()
    for row in rows[:subset]:
        per_row.execute(insert, row)
        per_row.commit()
    per_row_seconds = time.perf_counter() - started
    batch = sqlite3.connect(Path(db_dir) / "batch.db")
    batch.execute(schema)
    started = time.perf_counter()
    with batch:
        batch.executemany(insert, rows)
    return {"per_row_subset_seconds": per_row_seconds, "subset": subset,
            "per_row_extrapolated": per_row_seconds * len(rows) / subset,
            "executemany_seconds": time.perf_counter() - started, "rows": len(rows)}


CHILDREN = {"cli": child_cli, "baseline-parse": child_baseline_parse, "ours": child_ours,
            "ours-parse": child_ours_parse,
            "resync": child_resync, "baseline-store": child_baseline_store}


def run_child(name: str, *args: object) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; return what it printed as JSON."""
    result = subprocess.run([sys.executable, __file__, "--child", name, *map(str, args)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ the full run

def best(runs: list[dict[str, Any]], key: str = "seconds") -> dict[str, Any]:
    """The run with the smallest ``key`` (the machine is shared: min is the signal)."""
    return min(runs, key=lambda run: run[key])


def measure_cli(server: BenchServer, items: int, repeat: int, work: Path) -> dict[str, Any]:
    """Whole-CLI figures for an ``items``-item feed of short items: first sync, re-sync
    (and, first, how fast the machine is: ``loop_seconds``)."""
    speed = loop_seconds()
    body = sample_feed().feed_xml(items, server.base_url, short=True)
    server.files["/cli.xml"] = body
    url = server.url("/cli.xml")
    first = best([run_child("cli", url, work / f"cli-{attempt}") for attempt in range(repeat)])
    again = best([run_child("cli", url, work / "cli-0") for _ in range(repeat)])
    del server.files["/cli.xml"]
    return {"items": items, "feed_mb": len(body) / 1e6, "first": first, "resync": again,
            "loop_seconds": speed}


def measure_feed(server: BenchServer, items: int, repeat: int, subset: int,
                 work: Path) -> dict[str, Any]:
    """Parse/store/re-sync figures for an ``items``-item feed."""
    started = time.perf_counter()
    body = sample_feed().feed_xml(items, server.base_url)
    server.files["/big.xml"] = body
    feed_path = work / "big.xml"
    feed_path.write_bytes(body)
    print(f"built a {items:,}-item feed of {len(body) / 1e6:.1f} MB in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    url = server.url("/big.xml")
    figures: dict[str, Any] = {"items": items, "feed_mb": len(body) / 1e6}
    figures["baseline_parse"] = best([run_child("baseline-parse", url) for _ in range(repeat)])
    figures["ours_parse"] = best([run_child("ours-parse", feed_path) for _ in range(repeat)])
    ours = []
    for attempt in range(repeat):
        data_dir = work / f"ours-{attempt}"
        server.validators = True
        ours.append(run_child("ours", url, data_dir))
    figures["ours"] = best(ours)
    data_dir = work / "ours-0"
    figures["resync_304"] = best([run_child("resync", url, data_dir) for _ in range(repeat)])
    server.validators = False
    figures["resync_same_bytes"] = best([run_child("resync", url, data_dir)
                                         for _ in range(repeat)])
    server.files["/big.xml"] = body.replace(b"<title>What ", b"<title>Changed: What ", 1)
    figures["resync_one_changed"] = run_child("resync", url, data_dir)
    server.validators = True
    store_dir = work / "store"
    store_dir.mkdir()
    figures["baseline_store"] = run_child("baseline-store", feed_path, store_dir, subset)
    return figures


def measure_downloads(server: BenchServer, audio_mb: float, work: Path) -> dict[str, Any]:
    """Time four throttled downloads through ``pipeline.download``: 1 worker vs 4."""
    pipeline = project_module("pipeline")
    size = int(audio_mb * 1_000_000)
    items = []
    for n in range(1, 5):
        server.files[f"/audio/{n}.mp3"] = bytes([n]) * size
        items.append(f"<item><title>Episode {n}</title><guid>dl-{n}</guid>"
                     f"<pubDate>Mon, 0{n} Jan 2024 00:00:00 GMT</pubDate><enclosure url="
                     f"\"{server.base_url}/audio/{n}.mp3\" type=\"audio/mpeg\"/></item>")
    server.files["/four.xml"] = (f"<rss><channel><title>Four</title>{''.join(items)}"
                                 "</channel></rss>").encode()
    figures = {}
    for workers in (1, 4):
        data_dir = work / f"downloads-{workers}"
        pipeline.sync(data_dir, [server.url("/four.xml")], downloads=None)
        started = time.perf_counter()
        summary = pipeline.download(data_dir, workers=workers)
        figures[workers] = {"seconds": time.perf_counter() - started,
                            "downloaded": summary.downloaded, "bytes": summary.bytes}
    return figures


def table_row(label: str, baseline: str, value: str, ratio: str = "", goal: str = "") -> None:
    """Print one line of the table."""
    print(f"| {label:<50} | {baseline:>9} | {value:>15} | {ratio:>6} | {goal:<16} |")


def judge(name: str, unit: str, value: float, failed: list[str]) -> str:
    """Return the goal column for ``value`` (``<= 3 s PASS`` or ``<= 3 s FAIL``); a goal
    that fails is appended to ``failed``."""
    passed = value <= GOALS[name]
    if not passed:
        failed.append(name)
    return f"<= {GOALS[name]:g} {unit} " + ("PASS" if passed else "FAIL")


def print_cli(cli: dict[str, Any], failed: list[str]) -> None:
    """Print the whole-CLI lines: the first sync and the re-sync."""
    first, again = cli["first"], cli["resync"]
    table_row(f"whole CLI, {cli['feed_mb']:.0f} MB feed, no downloads, wall", "",
              f"{first['seconds']:.2f} s", "", judge("cli_s", "s", first["seconds"], failed))
    table_row("  same, peak RSS of the CLI process", "", f"{first['peak_mb']:.0f} MB", "",
              judge("cli_mb", "MB", first["peak_mb"], failed))
    table_row("  same, CPU time (user + sys)", "", f"{first['cpu']:.2f} s")
    table_row("whole CLI re-sync, server answers 304, wall", "",
              f"{again['seconds']:.2f} s", "", judge("resync_s", "s", again["seconds"], failed))
    table_row("  same, CPU time (mostly starting Python)", "",
              f"{again['cpu']:.2f} s")


def print_report(cli: dict[str, Any], feed: dict[str, Any], downloads: dict[int, dict[str, Any]],
                 audio_mb: float, rate_mb: float) -> list[str]:
    """Print the side-by-side table with ratios and goals; return the goals that FAILed."""
    base, ours, store = feed["baseline_parse"], feed["ours"], feed["baseline_store"]
    seq, par = downloads[1]["seconds"], downloads[4]["seconds"]
    failed: list[str] = []
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; a 10M-step "
          f"Python loop took {cli['loop_seconds']:.2f} s CPU at the start, "
          f"{loop_seconds():.2f} s at the end; min of the repeats\n"
          f"CLI feed: {cli['items']:,} short items, {cli['feed_mb']:.1f} MB; "
          f"big feed: {feed['items']:,} items, {feed['feed_mb']:.1f} MB\n")
    table_row("measure", "baseline", "ours", "ratio", "goal")
    print(f"|{'-' * 52}|{'-' * 11}|{'-' * 17}|{'-' * 8}|{'-' * 18}|")
    print_cli(cli, failed)
    table_row("parse (base) vs parse + store (ours), wall", f"{base['seconds']:.2f} s",
              f"{ours['seconds']:.2f} s", f"{base['seconds'] / ours['seconds']:.2f}x",
              judge("parse_store_s", "s", ours["seconds"], failed))
    table_row("  same, CPU time (user + sys)", f"{base['cpu']:.2f} s",
              f"{ours['cpu']:.2f} s", f"{base['cpu'] / ours['cpu']:.2f}x")
    table_row("  same, peak RSS", f"{base['peak_mb']:.0f} MB",
              f"{ours['peak_mb']:.0f} MB", f"{base['peak_mb'] / ours['peak_mb']:.1f}x",
              judge("parse_store_mb", "MB", ours["peak_mb"], failed))
    mine = feed["ours_parse"]
    table_row("parse only, in one process (normalises all items)", f"{base['seconds']:.2f} s",
              f"{mine['seconds']:.2f} s", f"{base['seconds'] / mine['seconds']:.2f}x")
    table_row("  same, CPU time / peak RSS", f"{base['cpu']:.2f} s",
              f"{mine['cpu']:.2f} s / {mine['peak_mb']:.0f} MB")
    table_row(f"store, one commit per row (x{store['rows'] / store['subset']:.0f} of "
              f"{store['subset']:,} rows)", f"{store['per_row_extrapolated']:.0f} s", "")
    table_row("store, one transaction + executemany (no FTS)",
              f"{store['executemany_seconds']:.2f} s", "")
    table_row("fetch of the feed (ours: streamed to disk)", "", f"{ours['fetch_seconds']:.2f} s")
    for key, label in (("resync_304", "re-sync, server answers 304"),
                       ("resync_same_bytes", "re-sync, same bytes, no validators"),
                       ("resync_one_changed", "re-sync, 1 item changed (full parse)")):
        run = feed[key]
        table_row(f"{label}: {run['new']} new, {run['updated']} upd", "",
                  f"{run['seconds']:.2f} s", "",
                  "" if key == "resync_one_changed"
                  else judge("resync_s", "s", run["seconds"], failed))
        table_row(f"  fetch + store (peak RSS {run['peak_mb']:.0f} MB)", "",
                  f"{run['fetch_seconds']:.2f} + {run['store_seconds']:.2f} s")
    table_row(f"4 downloads x {audio_mb:g} MB at {rate_mb:g} MB/s, 1 vs 4 workers",
              f"{seq:.2f} s", f"{par:.2f} s", f"{seq / par:.1f}x",
              judge("parallel_s", "s", par, failed))
    return failed


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--items", type=int, default=50_000,
                        help="items in the big feed and in the CLI's short-item feed")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (min is kept)")
    parser.add_argument("--subset", type=int, default=1000,
                        help="rows stored one commit each, then extrapolated")
    parser.add_argument("--audio-mb", type=float, default=5.0, help="size of each download")
    parser.add_argument("--rate-mb", type=float, default=5.0, help="MB/s per connection")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a goal FAILs (else the exit status is 0)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark (or, with --child, one measurement) and print it."""
    args = build_parser().parse_args(argv)
    if args.child:
        name, *values = args.child
        function = CHILDREN[name]
        converted = [int(v) if v.isdigit() else v for v in values]
        print(json.dumps(function(*converted)))
        return 0
    server = BenchServer(rate_bytes=args.rate_mb * 1_000_000)
    try:
        with tempfile.TemporaryDirectory(prefix="podcast-bench-") as work:
            cli = measure_cli(server, args.items, args.repeat, Path(work))
            feed = measure_feed(server, args.items, args.repeat, args.subset, Path(work))
            downloads = measure_downloads(server, args.audio_mb, Path(work))
    finally:
        server.close()
    failed = print_report(cli, feed, downloads, args.audio_mb, args.rate_mb)
    if failed:
        print(f"goals FAILed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
