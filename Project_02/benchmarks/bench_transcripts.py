"""Benchmark storing and searching transcripts as timed segments (issue 20).

Stores 1,000 episodes x 600 segments (a 60-minute episode cut every 6 seconds, about
15 words each: 9 million words) with ``segment_store.replace_transcript``, one
transaction per episode as the pipeline does, into a fresh on-disk database opened by
``database.connect`` (WAL, synchronous=NORMAL); then times full-text searches over them.

The text is synthetic but shaped like speech: function words and a 6,000-word
vocabulary drawn with Zipf frequencies, and the phrase "federal reserve" in about 1 of
200 segments. It is generated before the clock starts. CPU time is printed beside
the wall time: on a shared machine it is the steadier figure.

    python Project_02/benchmarks/bench_transcripts.py                  # 1,000 x 600
    python Project_02/benchmarks/bench_transcripts.py --episodes 100   # quick look
"""
import argparse
import importlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

PROJECT_DIR = Path(__file__).resolve().parents[1]
GOALS = {"store_s": 10.0, "search_ms": 50.0}
FUNCTION_WORDS = ("the a of to and in that is it for on was with as i you we they he she at "
                  "be this have from or by but not what all were when there can an your "
                  "which their said if do will about so up out more").split()
SYLLABLES = ("ba be bi bo bu da de di do ka ke ki ko ku la le li lo ma me mi mo na ne ni "
             "no pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi za").split()
QUERIES = (("federal reserve", True), ("federal reserve", False), ("interest rates", True),
           ("interest rates", False), ("interest", False), ("nothing matches this", False))


def project_module(name: str) -> ModuleType:
    """Import ``podcast_pipeline.<name>`` from this project (benchmarks/ is not a package)."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    return importlib.import_module(f"podcast_pipeline.{name}")


def make_transcripts(episodes: int, segments: int, seed: int = 20) -> list[list[object]]:
    """Return ``episodes`` lists of ``segments`` synthetic ``Segment``s each."""
    segment_class = project_module("transcript_formats").Segment
    rng = random.Random(seed)
    vocabulary = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))
                         for _ in range(8_000)})[:6_000]
    words = FUNCTION_WORDS + vocabulary
    words[100:100] = ["interest", "rates"]    # common words (each in ~1.5% of segments)
    words[3000:3000] = ["federal", "reserve"]  # rare words, plus the phrase put in below
    weights = [1.0 / rank for rank in range(1, len(words) + 1)]
    speakers = ("Kai Ryssdal", "Nancy Marshall-Genzer", "Mitchell Hartman", None)
    transcripts = []
    for _ in range(episodes):
        chosen = rng.choices(words, weights, k=segments * 15)
        items = []
        for number in range(segments):
            text = chosen[number * 15:(number + 1) * 15]
            if rng.random() < 0.005:
                text[5:7] = ["federal", "reserve"]
            items.append(segment_class(number * 6.0, number * 6.0 + 5.9,
                                       speakers[number // 20 % 4], " ".join(text)))
        transcripts.append(items)
    return transcripts


def store_all(conn: object, transcripts: list[list[object]]) -> tuple[float, float]:
    """Store every transcript, one transaction each; return the wall and CPU time (s)."""
    store = project_module("segment_store")
    source = store.TranscriptSource(source="publisher", format="vtt",
                                    url="https://podcast.test/t.vtt", language="en")
    started, cpu = time.perf_counter(), time.process_time()
    for episode_id, segments in enumerate(transcripts, start=1):
        store.replace_transcript(conn, episode_id, source, segments)
    return time.perf_counter() - started, time.process_time() - cpu


def time_search(conn: object, text: str, phrase: bool, repeat: int) -> tuple[float, int]:
    """Return the median wall time (ms) of ``repeat`` searches, and the number of hits
    (all of them, counted without a limit once)."""
    store = project_module("segment_store")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        store.search_segments(conn, text, phrase=phrase, limit=20)
        times.append((time.perf_counter() - started) * 1000)
    hits = len(store.search_segments(conn, text, phrase=phrase, limit=None))
    return statistics.median(times), hits


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=1_000, help="episodes to store")
    parser.add_argument("--segments", type=int, default=600, help="segments per episode")
    parser.add_argument("--repeat", type=int, default=21, help="runs of each search")
    args = parser.parse_args(argv)
    transcripts = make_transcripts(args.episodes, args.segments)
    with tempfile.TemporaryDirectory() as folder:
        conn = open_database(Path(folder) / "podcasts.db")
        store_s, store_cpu = store_all(conn, transcripts)
        size_mb = sum(path.stat().st_size for path in Path(folder).iterdir()) / 1e6
        total = args.episodes * args.segments
        print(f"{args.episodes:,} episodes x {args.segments} segments = {total:,} segments, "
              f"{size_mb:.0f} MB on disk; load average {os.getloadavg()[0]:.2f} on "
              f"{os.cpu_count()} CPUs")
        print(f"store + index: {store_s:.2f} s wall, {store_cpu:.2f} s CPU "
              f"({total / store_s:,.0f} segments/s), goal <= {GOALS['store_s']:g} s "
              f"{_met(store_s, GOALS['store_s'])}")
        for text, phrase in QUERIES:
            median_ms, hits = time_search(conn, text, phrase, args.repeat)
            print(f"search {text!r} ({'phrase' if phrase else 'all words'}, top 20 of "
                  f"{hits:,} hits): {median_ms:.1f} ms median of {args.repeat}, goal <= "
                  f"{GOALS['search_ms']:g} ms {_met(median_ms, GOALS['search_ms'])}")
        conn.close()
    return 0


def open_database(db_path: Path) -> object:
    """A fresh database as the tool opens it, with the segment tables."""
    conn = project_module("database").connect(db_path)
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'segments'").fetchone():
        conn.executescript(project_module("segment_store").SCHEMA)
    conn.execute("PRAGMA foreign_keys = OFF")  # the benchmark has no episode rows
    return conn


def _met(value: float, goal: float) -> str:
    return "met" if value <= goal else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
