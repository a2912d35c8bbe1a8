"""Render an ``evaluation.EvaluationReport`` as a text table or as plain JSON values."""
from __future__ import annotations

import dataclasses

from collections.abc import Sequence

from movie_recommender.evaluation import EvaluationReport
from movie_recommender.metrics import MethodResult
from movie_recommender.profile_evaluation import ProfileReport
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
    lines = result_lines(report.results, k)
    if report.validation is not None:
        lines.append(f"{DEFAULT_METHOD} hyperparameters chosen on the validation "
                     f"split (HR@{k} {report.validation.hit_rate:.4f}, "
                     f"{report.validation.n_users:,} users): "
                     + ", ".join(f"{name}={value}"
                                 for name, value in dataclasses.asdict(report.params).items()))
    return "\n".join(lines)


def result_lines(results: Sequence[MethodResult], k: int) -> list[str]:
    """A header, then one line per method: HR@k and NDCG@k with standard errors."""
    lines = [f"{'method':<12} {'HR@' + str(k):>16} {'NDCG@' + str(k):>16} {'users':>7}"]
    for result in results:
        lines.append(f"{result.method:<12} {result.hit_rate:>8.4f} ± {result.hit_rate_se:.4f}"
                     f" {result.ndcg:>8.4f} ± {result.ndcg_se:.4f} {result.n_users:>7,}")
    return lines


def profile_report_to_dict(report: ProfileReport) -> dict:
    """The user-profile report as plain JSON-ready values."""
    return {"protocol": "profile", "n_eligible": report.n_eligible,
            "ease_lambda": report.ease_lambda,
            "item_item_params": dataclasses.asdict(report.item_item_params),
            "validation_hit_rate": report.validation,
            "results": [dataclasses.asdict(result) for result in report.results]}


def format_profile_table(report: ProfileReport, k: int = 10) -> str:
    """The user-profile report as a text table, then what validation chose."""
    params = ", ".join(f"{name}={value:g}" for name, value
                       in dataclasses.asdict(report.item_item_params).items())
    return "\n".join(result_lines(report.results, k) + [
        f"chosen on the validation step (the like before each target, "
        f"{report.n_eligible:,} users): ease lambda={report.ease_lambda:g} "
        f"(HR@{k} {report.validation['ease']:.4f}); item-item {params} "
        f"(HR@{k} {report.validation['item-item']:.4f})"])
