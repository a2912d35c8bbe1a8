"""Real-time factor of the offline transcription: compute seconds per second of audio.

Synthesises a spoken paragraph of about 40 s with espeak-ng (or takes ``--audio FILE``,
e.g. a downloaded episode), writes it as MP3, transcribes it ``--repeat`` times with one
loaded engine and prints the audio length, the fastest compute time, the real-time
factor (RTF; below 1 is faster than real time) and, for the synthesised paragraph, the
share of its words found in the transcript. Needs the optional extra
(``pip install -r Project_02/requirements-transcribe.txt``).

Run from the repository root: ``python Project_02/benchmarks/bench_transcription.py``.
"""
import argparse
import importlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]

PARAGRAPH = (
    "Good evening and welcome to the program. Today we will talk about money, markets and "
    "the economy. Prices at the grocery store went up again this month, and many families "
    "are trying to spend less on food and gas. The central bank said it will keep interest "
    "rates where they are for now. Stocks moved higher in the morning and then fell in the "
    "afternoon. Companies that sell computers and phones reported strong sales, while "
    "restaurants and airlines said fewer people are traveling. Workers in several cities are "
    "asking for higher pay, and some business owners say it is hard to find people to hire. "
    "We will be back after a short break with the weather and the rest of the news."
)


def build_parser() -> argparse.ArgumentParser:
    """Return the benchmark's command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--audio", type=Path, default=None,
                        help="audio file to transcribe instead of the synthesised paragraph")
    parser.add_argument("--repeat", type=int, default=3,
                        help="transcriptions to run; the fastest one is reported")
    return parser


def synthesise_mp3(text: str, dest: Path) -> Path:
    """Speak ``text`` with espeak-ng into a WAV file, then write it as MP3 at ``dest``."""
    soundfile = importlib.import_module("soundfile")
    wav = dest.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "en-us+f2", "-s", "150", "-w", str(wav), text],
                   check=True)
    samples, sample_rate = soundfile.read(str(wav), dtype="float32")
    soundfile.write(str(dest), samples, sample_rate, format="MP3")
    return dest


def words_found(spoken: str, transcript: str) -> float:
    """Share of the distinct spoken words (lower case) that appear in the transcript."""
    spoken_words = set(re.findall(r"[a-z']+", spoken.lower()))
    heard = set(transcript.lower().split())
    return len(spoken_words & heard) / len(spoken_words)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = build_parser().parse_args(argv)
    sys.path.insert(0, str(PROJECT_DIR))  # a benchmark script, run from anywhere
    transcription = importlib.import_module("podcast_pipeline.transcription")
    with tempfile.TemporaryDirectory() as tmp:
        audio = args.audio or synthesise_mp3(PARAGRAPH, Path(tmp) / "paragraph.mp3")
        load_started = time.perf_counter()
        engine = transcription.load_engine()
        load_seconds = time.perf_counter() - load_started
        runs, cpu_seconds = [], []
        for _ in range(args.repeat):
            cpu_started = time.process_time()
            runs.append(transcription.transcribe_file(audio, engine))
            cpu_seconds.append(time.process_time() - cpu_started)
    best = min(runs, key=lambda run: run.compute_seconds)
    print(f"engine            {best.engine} / {best.model}")
    print(f"model load        {load_seconds:.2f} s (once per run of the pipeline)")
    print(f"audio             {best.audio_seconds:.1f} s")
    print("compute per run   " + ", ".join(f"{run.compute_seconds:.2f} s" for run in runs))
    print(f"real-time factor  {best.compute_seconds / best.audio_seconds:.3f} "
          f"(fastest of {args.repeat}; wall-clock compute seconds per audio second)")
    print(f"CPU time factor   {min(cpu_seconds) / best.audio_seconds:.3f} "
          "(CPU seconds per audio second: what the RTF is on an idle core)")
    print(f"load average      {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.audio is None:
        print(f"words recognised  {words_found(PARAGRAPH, best.text):.0%} of the distinct "
              "spoken words")
    print(f"transcript        {best.text[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
