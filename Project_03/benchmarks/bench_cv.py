"""Benchmark: how good is the KNN, honestly measured, and how fast is the tool?

Prints one table of repeated stratified cross-validated accuracy and ROC AUC
(10 folds x 5 repeats by default) for

1. the majority-class baseline,
2. the older script's procedure, re-implemented faithfully with its leakage (zero
   cholesterol filled with the median of the HeartDisease == 0 group, get_dummies on
   all rows, MinMaxScaler fitted on all rows outside the cross-validation, KNN k=5),
3. the shipped default pipeline (leak-free, k=5),
4. the tuned pipeline, estimated with nested cross-validation (the 5-fold grid search
   of ``--tune`` runs inside every outer training fold, never seeing its test fold),

then the end-to-end wall time of the two documented commands (minimum of several
runs) against the older script's 5.8 s and 9.8 s.

Run from the Project_03 folder:  python -m benchmarks.bench_cv
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV, ParameterGrid, RepeatedStratifiedKFold, \
    cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

from heart_disease_knn import model
from heart_disease_knn.dataset import load_dataset
from heart_disease_knn.features import FEATURES, TARGET

PROJECT_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = PROJECT_DIR.parent
DATA = PROJECT_DIR / "data" / "heart.csv"
OLD_SCRIPT_SECONDS = {"default": 5.8, "tune": 9.8}
GOAL = {"accuracy": 0.870, "roc_auc": 0.92}
SCORING = ("accuracy", "roc_auc")


@dataclass
class Row:
    """One line of the results table."""

    name: str
    accuracy: np.ndarray
    roc_auc: np.ndarray
    rows: int
    seconds: float

    def cells(self) -> str:
        """Return the formatted table cells."""
        accuracy = f"{self.accuracy.mean():.4f} ± {self.accuracy.std():.4f}"
        roc_auc = f"{self.roc_auc.mean():.4f} ± {self.roc_auc.std():.4f}"
        return f"{self.name:<50}{accuracy:<24}{roc_auc:<24}{self.rows:>5}{self.seconds:>9.1f}"


def old_script_matrix(raw: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Reproduce the older script's preprocessing of the whole file (with its leakage).

    Mirrors Morsinaldo/mlops2023 Python_Essentials_for_MLOps/Project_03 utils.clean_data
    and main.py: drop RestingBP == 0 rows; fill Cholesterol == 0 in both classes with the
    median cholesterol of the HeartDisease == 0 rows (zeros included, as there);
    pd.get_dummies(drop_first=True) on all rows; MinMaxScaler fitted on all rows.
    """
    clean = raw[raw["RestingBP"] != 0].copy()
    healthy = clean[TARGET] == 0
    median_of_healthy = clean.loc[healthy, "Cholesterol"].median()
    clean["Cholesterol"] = clean["Cholesterol"].replace(0, median_of_healthy)
    encoded = pd.get_dummies(clean, drop_first=True)
    X = MinMaxScaler().fit_transform(encoded.drop(columns=TARGET).astype(float))
    return X, encoded[TARGET]


def score(name: str, estimator: object, X: object, y: pd.Series,
          outer: RepeatedStratifiedKFold, n_jobs: int) -> Row:
    """Cross-validate ``estimator`` on the outer folds and time it."""
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        result = cross_validate(estimator, X, y, cv=outer, scoring=SCORING, n_jobs=n_jobs)
    return Row(name, result["test_accuracy"], result["test_roc_auc"], len(y),
               time.perf_counter() - start)


def time_command(args: list[str], runs: int) -> tuple[float, float]:
    """Return the minimum wall time and CPU time of running the entry script with ``args``.

    CPU time (user + system of the child) is what the run costs on an idle machine;
    wall time also counts waiting for cores other processes hold.
    """
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as output_dir:
        command = [sys.executable, "Project_03/heart_disease.py", *args,
                   "--output-dir", output_dir, "--log-level", "WARNING"]
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, cwd=REPO_DIR, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def build_parser() -> argparse.ArgumentParser:
    """Return the benchmark's command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=10, help="outer folds (default 10)")
    parser.add_argument("--repeats", type=int, default=5, help="outer repeats (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="outer-fold seed (default 0)")
    parser.add_argument("--n-jobs", type=int, default=2,
                        help="processes for the outer folds (default 2)")
    parser.add_argument("--timing-runs", type=int, default=3,
                        help="runs per command, minimum reported (default 3; 0 skips timing)")
    return parser


def measure_quality(args: argparse.Namespace) -> list[Row]:
    """Cross-validate the four procedures on the same outer folds."""
    frame = load_dataset(DATA).frame
    X, y = frame.loc[:, list(FEATURES)], frame[TARGET]
    outer = RepeatedStratifiedKFold(n_splits=args.folds, n_repeats=args.repeats,
                                    random_state=args.seed)
    X_old, y_old = old_script_matrix(pd.read_csv(DATA))
    search = GridSearchCV(model.build_pipeline(), model.PARAM_GRID, scoring=model.SCORING,
                          cv=model.folds(5, 42))
    return [
        score("majority baseline", DummyClassifier(strategy="most_frequent"), X, y, outer,
              args.n_jobs),
        score("old script procedure (leaky, k=5)", KNeighborsClassifier(), X_old, y_old, outer,
              args.n_jobs),
        score("shipped default (leak-free pipeline, k=5)", model.build_pipeline(), X, y, outer,
              args.n_jobs),
        score(f"tuned, nested CV ({len(ParameterGrid(model.PARAM_GRID))} candidates x 5 "
              "inner folds)", search, X, y, outer, args.n_jobs),
    ]


def print_quality(rows: list[Row], args: argparse.Namespace) -> None:
    """Print the table, the gain over the old procedure and whether the goal is met."""
    print(f"\n{args.folds}-fold x {args.repeats}-repeat stratified CV on {DATA.name} "
          f"(outer seed {args.seed})")
    print(f"{'procedure':<50}{'accuracy (mean ± std)':<24}{'ROC AUC (mean ± std)':<24}"
          f"{'rows':>5}{'seconds':>9}")
    for row in rows:
        print(row.cells())
    tuned, old = rows[3], rows[1]
    met = all(getattr(tuned, metric).mean() >= goal for metric, goal in GOAL.items())
    print(f"tuned vs old procedure: accuracy {tuned.accuracy.mean() - old.accuracy.mean():+.4f}, "
          f"ROC AUC {tuned.roc_auc.mean() - old.roc_auc.mean():+.4f}")
    print(f"goal (tuned accuracy >= {GOAL['accuracy']}, ROC AUC >= {GOAL['roc_auc']}): "
          f"{'met' if met else 'NOT met'}")


def print_timings(runs: int) -> None:
    """Time the two documented commands against the older script's figures."""
    print(f"\nend-to-end time of the documented commands, min of {runs} runs")
    for label, extra in (("default", []), ("tune", ["--tune", "--test-size", "0.2"])):
        wall, cpu = time_command(extra, runs)
        command = " ".join(["python Project_03/heart_disease.py", *extra])
        print(f"{command:<58}wall {wall:5.2f} s (old {OLD_SCRIPT_SECONDS[label]} s, "
              f"ratio {wall / OLD_SCRIPT_SECONDS[label]:.2f}); CPU {cpu:5.2f} s")


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages as text."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; return 0."""
    args = build_parser().parse_args(argv)
    print(f"load average before: {load_average()} on {os.cpu_count()} cores")
    print_quality(measure_quality(args), args)
    if args.timing_runs > 0:
        print_timings(args.timing_runs)
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
