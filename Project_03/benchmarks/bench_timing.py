"""Wall time of the tool's commands, side by side, against their goals.

Run from the repository root: ``python Project_03/benchmarks/bench_timing.py [--repeats N]``.
Each command runs N times in a fresh interpreter; the median and the minimum wall time are
shown, with the median CPU time (user + system) of the command. The tool runs one process with
one thread, so on an idle machine its wall time is about its CPU time; on a shared machine the
load average, printed with the figures, tells how far the wall times are inflated.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
SCRIPT = str(PROJECT_DIR / "heart_disease.py")
BAD_FILE_ROWS = "Age,Sex\n45,m\n"
# What the tool imports once the data passed validation (scikit-learn, joblib, pandas).
IMPORTS = ("import pandas, joblib, sklearn.compose, sklearn.model_selection, "
           "sklearn.neighbors, sklearn.inspection, sklearn.metrics")


def _cpu_seconds_of_children() -> float:
    """Return the user + system CPU seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _loop_seconds() -> float:
    """CPU seconds of a fixed 10-million-step Python loop: how fast this machine is now.

    On a shared machine every figure moves with it, so it is printed beside them.
    """
    started = time.process_time()
    total = 0
    for step in range(10_000_000):
        total += step
    return time.process_time() - started


def _run_times(command: list[str], repeats: int,
               expect_exit: int) -> tuple[list[float], list[float]]:
    """Run ``command`` ``repeats`` times; return the wall and the CPU seconds of each run."""
    wall, cpu = [], []
    for _ in range(repeats):
        cpu_start, start = _cpu_seconds_of_children(), time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False)
        wall.append(time.perf_counter() - start)
        cpu.append(_cpu_seconds_of_children() - cpu_start)
        if done.returncode != expect_exit:
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}, expected "
                             f"{expect_exit}: {done.stderr.decode()[-300:]}")
    return wall, cpu


def _commands(python: str, out: Path) -> list[tuple[str, list[str], int, float | None]]:
    """Return (name, command, expected exit code, goal seconds or None) of each timed run.

    Writes the bad file and the 20-patient file they read into ``out``.
    """
    bad = out / "bad.csv"
    bad.write_text(BAD_FILE_ROWS, encoding="utf-8")
    lines = (PROJECT_DIR / "data" / "heart.csv").read_text(encoding="utf-8").splitlines(
        keepends=True)
    patients = out / "patients.csv"
    patients.write_text("".join(lines[:21]), encoding="utf-8")
    quiet = ["--log-level", "WARNING"]
    model = str(out / "d" / "model.joblib")
    return [
        ("imports only", [python, "-c", IMPORTS], 0, None),
        ("default training run", [python, SCRIPT, "--output-dir", str(out / "d"), *quiet],
         0, 2.0),
        ("--tune", [python, SCRIPT, "--tune", "--output-dir", str(out / "t"), *quiet], 0, 5.0),
        ("validation error (bad file)", [python, SCRIPT, "--data", str(bad),
                                        "--output-dir", str(out / "bad"), *quiet], 1, 1.0),
        ("predict (20 patients)", [python, SCRIPT, "predict", "--model", model,
                                   "--input", str(patients), *quiet], 0, None),
        ("predict --explain", [python, SCRIPT, "predict", "--model", model,
                               "--input", str(patients), "--explain", *quiet], 0, None),
    ]


def main() -> int:
    """Time every command and print one line each with its goal and PASS/FAIL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="runs per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        commands = _commands(sys.executable, Path(tmp))
        print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
              f"on {os.cpu_count()} cores; {args.repeats} runs each; a 10M-step Python loop "
              f"takes {_loop_seconds():.2f} s CPU")
        print(f"{'command':<30}{'median s':>10}{'min s':>8}{'CPU s':>8}  goal (median wall)")
        for name, command, expect_exit, goal in commands:
            wall, cpu = _run_times(command, args.repeats, expect_exit)
            verdict = "" if goal is None else \
                f"<= {goal:g} s {'PASS' if statistics.median(wall) <= goal else 'FAIL'}"
            print(f"{name:<30}{statistics.median(wall):>10.2f}{min(wall):>8.2f}"
                  f"{statistics.median(cpu):>8.2f}  {verdict}", flush=True)
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
              f"the loop takes {_loop_seconds():.2f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
