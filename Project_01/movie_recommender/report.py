"""Render an ``evaluation.EvaluationReport`` as a text table or as plain JSON values."""
from __future__ import annotations

import dataclasses

from movie_recommender.evaluation import EvaluationReport
from movie_recommender.scorers import DEFAULT_METHOD


def report_to_dict(report: EvaluationReport) -> dict:
    """The report as plain JSON-ready values."""
    return {"n_eligible": report.n_eligible,
            "params": dataclasses.asdict(report.params),
            "validation": None if report.validation is None
            else dataclasses.asdict(report.validation),
            "results": [dataclasses.asdict(result) for result in report.results]}


def format_table(report: EvaluationReport, k: int = 10) -> str:
    """The report as a text table: one row per method, with standard errors."""
    lines = [f"{'method':<12} {'HR@' + str(k):>16} {'NDCG@' + str(k):>16} {'users':>7}"]
    for result in report.results:
        lines.append(f"{result.method:<12} {result.hit_rate:>8.4f} ± {result.hit_rate_se:.4f}"
                     f" {result.ndcg:>8.4f} ± {result.ndcg_se:.4f} {result.n_users:>7,}")
    if report.validation is not None:
        lines.append(f"{DEFAULT_METHOD} hyperparameters chosen on the validation "
                     f"split (HR@{k} {report.validation.hit_rate:.4f}, "
                     f"{report.validation.n_users:,} users): "
                     + ", ".join(f"{name}={value}"
                                 for name, value in dataclasses.asdict(report.params).items()))
    return "\n".join(lines)
