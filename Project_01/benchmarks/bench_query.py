"""Benchmark one recommendation query: the original approach vs this tool, cold and warm.

Every figure is a whole process (Python start-up and imports included), timed with a
wall clock, with its peak resident memory read from ``os.wait4``. Run from anywhere::

    python Project_01/benchmarks/bench_query.py                 # bundled + 25M synthetic
    python Project_01/benchmarks/bench_query.py --synthetic-dir /data/synth-25m --runs 5
    python Project_01/benchmarks/bench_query.py --profile --synthetic-dir /data/synth-25m \
        --cache-dir /tmp/bench-cache     # warm --ratings-file (2,000 rows) vs one title

``--profile`` times, warm, a 2,000-row Letterboxd export (``--ratings-file``) next to the
single-title query, on the same index; a first untimed run of each builds the index and
fits EASE (reused from ``--cache-dir`` when it holds them).

The synthetic MovieLens-shaped set (25,000,095 ratings by default) is reused when
``<dir>/synthetic_meta.json`` exists, else made with
``../shared/tools/make_synthetic_movielens.py`` beside the repository (about 2 minutes).

"Original" is ``original_query.py``, the Dataquest approach this tool replaces. This
script imports only the standard library: a child's peak RSS counts memory it inherited
through ``fork`` before ``exec``, so a heavy parent would inflate every figure.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = PROJECT_DIR.parent
CLI = PROJECT_DIR / "movie_recommendations.py"
ORIGINAL = Path(__file__).resolve().parent / "original_query.py"
BUNDLED_DIR = PROJECT_DIR / "data" / "ml-latest-small"
SYNTHETIC_TOOL = REPO_DIR.parent / "shared" / "tools" / "make_synthetic_movielens.py"
DEFAULT_SYNTHETIC_DIR = PROJECT_DIR / "benchmarks" / "output" / "synth-25m"
QUERY = "Toy Story"
BATCH_SIZE = 1000
PROFILE_ROWS = 2000


@dataclasses.dataclass(frozen=True)
class Run:
    """One measured process."""

    seconds: float
    peak_mb: float
    exit_code: int


@dataclasses.dataclass(frozen=True)
class Row:
    """Min/median of several runs of one configuration."""

    label: str
    runs: list[Run]

    @property
    def min_s(self) -> float:
        """Fastest wall time."""
        return min(r.seconds for r in self.runs)

    @property
    def median_s(self) -> float:
        """Median wall time."""
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        """Largest peak RSS over the runs (MB)."""
        return max(r.peak_mb for r in self.runs)


def measure(command: list[str]) -> Run:
    """Run ``command`` to completion; return its wall time and its own peak RSS."""
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        # wait4 reports this child's own rusage (RUSAGE_CHILDREN would be the max of all)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    seconds = time.perf_counter() - started
    if proc.returncode not in (0,):
        print(f"  ! exit {proc.returncode}: {' '.join(command[1:])}\n{stderr[-2000:]}",
              file=sys.stderr)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode)


def repeat(label: str, command: list[str], runs: int, before=None) -> Row:
    """Measure ``command`` ``runs`` times (calling ``before()`` ahead of each run)."""
    measured = []
    for _ in range(runs):
        if before is not None:
            before()
        measured.append(measure(command))
        print(f"  {label}: {measured[-1].seconds:.2f} s, {measured[-1].peak_mb:.0f} MB",
              file=sys.stderr, flush=True)
    return Row(label, measured)


def cli_command(data_dir: Path, cache_dir: Path, *extra: str) -> list[str]:
    """The tool's command line for one query (or a batch) on ``data_dir``."""
    return [sys.executable, str(CLI), "--data-dir", str(data_dir), "--cache-dir",
            str(cache_dir), "--log-level", "WARNING", *extra]


def ensure_synthetic(folder: Path) -> Path:
    """Reuse the synthetic set in ``folder`` or make it with the shared generator."""
    if (folder / "synthetic_meta.json").is_file():
        print(f"reusing the synthetic set in {folder}", file=sys.stderr)
        return folder
    if not SYNTHETIC_TOOL.is_file():
        raise SystemExit(f"cannot make the synthetic set: {SYNTHETIC_TOOL} is missing "
                         "(it lives in ../shared/tools/ beside the repository); "
                         "pass --synthetic-dir of an existing set or --skip-synthetic")
    print(f"making the synthetic set in {folder} (about 2 minutes)", file=sys.stderr)
    subprocess.run([sys.executable, str(SYNTHETIC_TOOL), "--out", str(folder)], check=True)
    return folder


def batch_file(data_dir: Path, path: Path, size: int, seed: int = 0) -> Path:
    """Write ``size`` titles of ``data_dir``'s movies (year stripped) into ``path``."""
    with (data_dir / "movies.csv").open(encoding="utf-8") as stream:
        next(stream)
        titles = [re.sub(r"^\d+,\"?(.*?)\"?,[^,]*$", r"\1", line.rstrip("\n"))
                  for line in stream]
    chosen = random.Random(seed).sample(titles, min(size, len(titles)))
    path.write_text("".join(re.sub(r"\s*\(\d{4}\)\s*$", "", t).replace('""', '"') + "\n"
                            for t in chosen), encoding="utf-8")
    return path


def profile_export(data_dir: Path, path: Path, size: int, seed: int = 0) -> Path:
    """Write a Letterboxd ratings.csv of ``size`` random movies of ``data_dir`` into ``path``.

    Titles are written as Letterboxd does (``bench_matching.letterboxd_name``: "The
    Godfather", 1972); ratings are half stars, about half of them liked (4 or more); dates
    are one day apart.
    """
    letterboxd_name = importlib.import_module("bench_matching").letterboxd_name
    with (data_dir / "movies.csv").open(encoding="utf-8", newline="") as stream:
        movies = [named for row in csv.DictReader(stream)
                  if (named := letterboxd_name(row["title"])) is not None]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Date", "Name", "Year", "Letterboxd URI", "Rating"])
        for day, (title, year) in enumerate(rng.sample(movies, min(size, len(movies)))):
            writer.writerow([f"20{10 + day // 365:02d}-{1 + day % 365 // 31 % 12:02d}-"
                             f"{1 + day % 28:02d}", title, year, f"https://boxd.it/b{day}",
                             rng.choice(("2.5", "3", "3.5", "4", "4", "4.5", "5"))])
    return path


def bench_profile(name: str, data_dir: Path, cache: Path, work: Path, runs: int) -> list[Row]:
    """Warm single-title query and warm 2,000-row ``--ratings-file``, side by side."""
    print(f"== {name}: {data_dir} (cache {cache})", file=sys.stderr)
    export = profile_export(data_dir, work / f"{name}-ratings.csv", PROFILE_ROWS)
    title = cli_command(data_dir, cache, "--movie-title", QUERY)
    profile = cli_command(data_dir, cache, "--ratings-file", str(export))
    first = measure(profile)  # builds the index and fits EASE when the cache lacks them
    print(f"  first --ratings-file (index and EASE if not cached): {first.seconds:.1f} s, "
          f"{first.peak_mb:.0f} MB", file=sys.stderr)
    return [repeat(f"{name} warm --movie-title", title, max(runs, 5)),
            repeat(f"{name} warm --ratings-file {PROFILE_ROWS}", profile, max(runs, 5))]


def bench_dataset(name: str, data_dir: Path, work: Path, runs: int, *,
                  original: bool) -> list[Row]:
    """All rows for one data set."""
    print(f"== {name}: {data_dir}", file=sys.stderr)
    rows = []
    if original:
        rows.append(repeat(f"{name} original", [sys.executable, str(ORIGINAL),
                                                "--data-dir", str(data_dir),
                                                "--movie-title", QUERY], runs))
    cold_cache = work / f"{name}-cold"

    def empty_cache() -> None:
        shutil.rmtree(cold_cache, ignore_errors=True)
    rows.append(repeat(f"{name} cold (build + query)",
                       cli_command(data_dir, cold_cache, "--movie-title", QUERY), runs,
                       before=empty_cache))
    rows.append(repeat(f"{name} warm", cli_command(data_dir, cold_cache, "--movie-title", QUERY),
                       max(runs, 5)))
    queries = batch_file(data_dir, work / f"{name}-batch.txt", BATCH_SIZE)
    rows.append(repeat(f"{name} warm --batch {BATCH_SIZE}",
                       cli_command(data_dir, cold_cache, "--batch", str(queries)), runs))
    return rows


def print_table(rows: list[Row]) -> None:
    """The figures side by side, then the ratios against the original."""
    print(f"{'configuration':<36} {'min s':>8} {'median s':>9} {'peak MB':>8}  runs")
    for row in rows:
        print(f"{row.label:<36} {row.min_s:8.2f} {row.median_s:9.2f} {row.peak_mb:8.0f}  "
              f"{len(row.runs)}")
    by_label = {row.label: row for row in rows}
    for name in dict.fromkeys(row.label.split()[0] for row in rows):
        original = by_label.get(f"{name} original")
        warm = by_label.get(f"{name} warm")
        cold = by_label.get(f"{name} cold (build + query)")
        if original and warm:
            print(f"{name}: warm query {original.min_s / warm.min_s:.1f}x faster than the "
                  f"original (min vs min), {original.peak_mb / warm.peak_mb:.1f}x less memory")
        if original and cold:
            print(f"{name}: cold query (index build included) "
                  f"{original.min_s / cold.min_s:.1f}x the original's speed")


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic-dir", type=Path, default=DEFAULT_SYNTHETIC_DIR,
                        help="the synthetic set (reused if present, else generated)")
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration (>= 3)")
    parser.add_argument("--skip-synthetic", action="store_true",
                        help="only benchmark the bundled ml-latest-small")
    parser.add_argument("--skip-original", action="store_true",
                        help="do not time the original approach")
    parser.add_argument("--profile", action="store_true",
                        help=f"time a warm {PROFILE_ROWS:,}-row --ratings-file next to the "
                             "warm single-title query instead")
    parser.add_argument("--cache-dir", type=Path,
                        help="--profile: reuse this cache (index and EASE) instead of a "
                             "temporary one")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    args = build_parser().parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})",
          file=sys.stderr)
    datasets = [("bundled", BUNDLED_DIR)]
    if not args.skip_synthetic:
        datasets.append(("synthetic-25m", ensure_synthetic(args.synthetic_dir)))
    with tempfile.TemporaryDirectory(prefix="bench-query-") as work:
        if args.profile:
            rows = [row for name, folder in datasets
                    for row in bench_profile(name, folder, args.cache_dir or Path(work) / name,
                                             Path(work), max(args.runs, 1))]
        else:
            rows = [row for name, folder in datasets
                    for row in bench_dataset(name, folder, Path(work), max(args.runs, 1),
                                             original=not args.skip_original)]
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
