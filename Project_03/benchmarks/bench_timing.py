"""Wall time of the tool's commands, side by side, against their goals.

Run from the repository root: ``python Project_03/benchmarks/bench_timing.py [--repeats N]``.
Each command runs N times in a fresh interpreter; the median and the minimum are shown.
The machine may be shared, so the load average is printed with the figures.
"""
import argparse
import os
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


def _wall_times(command: list[str], repeats: int, expect_exit: int) -> list[float]:
    """Run ``command`` ``repeats`` times; return the wall seconds of each run."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != expect_exit:
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}, expected "
                             f"{expect_exit}: {done.stderr.decode()[-300:]}")
    return times


def main() -> int:
    """Time every command and print one line each with its goal and PASS/FAIL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="runs per command")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        bad = out / "bad.csv"
        bad.write_text(BAD_FILE_ROWS, encoding="utf-8")
        patients = out / "patients.csv"
        patients.write_text((PROJECT_DIR / "data" / "heart.csv").read_text(encoding="utf-8")
                            .splitlines(keepends=True)[0] + "".join(
            (PROJECT_DIR / "data" / "heart.csv").read_text(encoding="utf-8")
            .splitlines(keepends=True)[1:21]), encoding="utf-8")
        quiet = ["--log-level", "WARNING"]
        commands = [
            ("imports only", [python, "-c", IMPORTS], 0, None),
            ("default training run", [python, SCRIPT, "--output-dir", str(out / "d"), *quiet],
             0, 2.0),
            ("--tune", [python, SCRIPT, "--tune", "--output-dir", str(out / "t"), *quiet], 0, 5.0),
            ("validation error (bad file)", [python, SCRIPT, "--data", str(bad),
                                            "--output-dir", str(out / "bad"), *quiet], 1, 1.0),
            ("predict (20 patients)", [python, SCRIPT, "predict", "--model",
                                       str(out / "d" / "model.joblib"), "--input", str(patients),
                                       *quiet], 0, None),
            ("predict --explain", [python, SCRIPT, "predict", "--model",
                                   str(out / "d" / "model.joblib"), "--input", str(patients),
                                   "--explain", *quiet], 0, None),
        ]
        print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
              f"on {os.cpu_count()} cores; {args.repeats} runs each")
        print(f"{'command':<30}{'median s':>10}{'min s':>8}  goal")
        for name, command, expect_exit, goal in commands:
            times = _wall_times(command, args.repeats, expect_exit)
            verdict = "" if goal is None else \
                f"<= {goal:g} s {'PASS' if statistics.median(times) <= goal else 'FAIL'}"
            print(f"{name:<30}{statistics.median(times):>10.2f}{min(times):>8.2f}  {verdict}",
                  flush=True)
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
