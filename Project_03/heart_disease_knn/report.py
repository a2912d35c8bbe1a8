"""Turn run results into the human table or JSON printed on stdout (pure: returns strings)."""
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from heart_disease_knn.features import NUMERIC_FEATURES, TARGET, ZERO_MEANS_MISSING

METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc", "brier")


def training_table(result: dict[str, Any]) -> str:
    """Return the readable summary of a training run (see README for the layout)."""
    cv_info = result["cross_validation"]
    split = result["split"]
    if result["mode"] == "tuned":
        title = (f"KNN tuned by {cv_info['folds']}-fold grid search over "
                 f"{cv_info['candidates']} candidates")
    else:
        title = "KNN with default settings"
    params = " ".join(f"{key.split('__')[-1]}={value}" for key, value in result["params"].items())
    lines = [
        title,
        f"data:    {shown(result['data']['path'])} ({result['data']['rows']} rows; train "
        f"{split['train_rows']}, test {split['test_rows']}, seed {split['seed']})",
        f"params:  {params}",
        *cv_lines(cv_info),
        "",
        f"{'test metric':<12}{'KNN':>8}{'majority baseline':>20}",
    ]
    for name in METRIC_NAMES:
        lines.append(f"{name:<12}{result['test'][name]:>8.4f}{result['baseline'][name]:>20.4f}")
    lines.append(f"{'confusion':<12}{_matrix(result['test']['confusion_matrix']):>8}"
                 f"{_matrix(result['baseline']['confusion_matrix']):>20}")
    lines.append("(confusion matrix = TN FP / FN TP on the test split; brier: lower is better)")
    if result.get("feature_importance"):
        lines += ["", "permutation importance (test accuracy drop when shuffled, mean ± std)"]
        lines += [f"  {row['feature']:<16}{row['mean']:+.4f} ± {row['std']:.4f}"
                  for row in result["feature_importance"]]
    for name, path in result.get("artifacts", {}).items():
        if isinstance(path, list):
            lines.extend(f"{name}: {shown(item)}" for item in path)
        else:
            lines.append(f"{name}: {shown(path)}")
    return "\n".join(lines)


def cv_lines(cv_info: dict[str, Any]) -> list[str]:
    """The CV accuracy line; for a tuned run labelled optimistic, with the nested estimate."""
    figure = f"{cv_info['mean']:.4f} ± {cv_info['std']:.4f}"
    if "selection" not in cv_info:
        return [f"CV accuracy on the training split ({cv_info['folds']} folds): {figure}"]
    lines = [f"CV accuracy on the training split ({cv_info['folds']} folds): {figure}, "
             f"{cv_info['selection']}"]
    nested = cv_info.get("nested_cv")
    if nested:
        lines.append(f"honest estimate: nested CV accuracy {nested['accuracy']:.4f}, ROC AUC "
                     f"{nested['roc_auc']:.4f} ({nested['procedure']})")
    else:
        lines.append("honest estimate: run nested CV (benchmarks/bench_cv.py); not measured "
                     "for this file")
    return lines


def shown(path: str, cwd: Path | None = None) -> str:
    """Return ``path`` relative to the working directory when it lies inside it.

    >>> shown("/repo/Project_03/data/heart.csv", cwd=Path("/repo"))
    'Project_03/data/heart.csv'
    >>> shown("/elsewhere/heart.csv", cwd=Path("/repo"))
    '/elsewhere/heart.csv'
    """
    try:
        return str(Path(path).relative_to(cwd or Path.cwd()))
    except ValueError:
        return path


def _matrix(matrix: list[list[int]]) -> str:
    """Format ``[[TN, FP], [FN, TP]]`` compactly as ``TN FP / FN TP``."""
    return " / ".join(" ".join(str(count) for count in row) for row in matrix)


def predictions_table(predictions: pd.DataFrame) -> str:
    """Return the predictions as a fixed-width table, one patient per line."""
    return predictions.to_string(index=False, float_format=lambda value: f"{value:.4f}")


def explanations_table(predictions: pd.DataFrame, explanations: list[dict[str, Any]]) -> str:
    """Return the predictions table, then for each patient its nearest training patients.

    ``explanations`` are :meth:`heart_disease_knn.explain.Explanation.as_dict` values, one per
    row of ``predictions``.
    """
    blocks = [predictions_table(predictions)]
    for (_, row), explanation in zip(predictions.astype(object).iterrows(), explanations):
        blocks.append("\n".join(_explanation_lines(row, explanation)))
    return "\n\n".join(blocks)


def _explanation_lines(row: pd.Series, explanation: dict[str, Any]) -> list[str]:
    """The explanation block of one patient (see README, "Why a prediction")."""
    extra = " ".join(str(value) for value in row.iloc[1:-2])
    who = f"line {row.iloc[0]}" + (f" ({extra})" if extra else "")
    k, ill = explanation["k"], explanation["with_heart_disease"]
    distance = "distance" if explanation["minkowski_p"] == 1 else \
        f"distance ** {explanation['minkowski_p']}"
    patient = {"": "patient", "line": row.iloc[0], "distance": "",
               TARGET: row.get(TARGET, ""), **explanation["patient"]}
    closest = pd.DataFrame([patient] + [
        {"": f"nearest {rank}", "line": neighbour["line"],
         "distance": f"{neighbour['distance']:.4f}", TARGET: neighbour[TARGET],
         **neighbour["features"]}
        for rank, neighbour in enumerate(explanation["closest"], start=1)])
    lines = [f"{who}: predicted {row.iloc[-1]}, probability {row.iloc[-2]:.4f}",
             f"  {k} nearest training patients: {ill} with heart disease, {k - ill} without",
             "  the closest (line: in the training file; distance: in the model's scaled "
             "feature space):"]
    lines += ["    " + line for line in closest.to_string(index=False).splitlines()]
    lines.append(f"  differs most from its {k} neighbours (share of the mean {distance} to "
                 "them):")
    for difference in explanation["differs_most"]:
        feature = difference["feature"]
        typical = "median" if feature in NUMERIC_FEATURES else "mostly"
        lines.append(f"    {feature:<15}{difference['distance_share']:>4.0%}  patient "
                     f"{_value(feature, difference['patient'])}, neighbours {typical} "
                     f"{_value(feature, difference['neighbours_typical'])} "
                     f"({difference['neighbours_same']} of {k} the same)")
    return lines


def _value(feature: str, value: Any) -> str:
    """Return a feature value for reading, saying when a 0 means "not measured".

    >>> _value("Cholesterol", 0), _value("Age", 0), _value("Oldpeak", 1.5)
    ('0 (not measured)', '0', '1.5')
    """
    return f"{value} (not measured)" if feature in ZERO_MEANS_MISSING and value == 0 \
        else str(value)


def strict_json(payload: Any) -> str:
    """Return ``payload`` as indented, strictly valid JSON (NaN and infinities become null).

    >>> strict_json({"roc_auc": float("nan"), "folds": [1.0]}).split()
    ['{', '"roc_auc":', 'null,', '"folds":', '[', '1.0', ']', '}']
    """
    return json.dumps(_finite(payload), indent=2, allow_nan=False)


def _finite(value: Any) -> Any:
    """Replace non-finite floats by None, recursively (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def to_json(payload: Any) -> str:
    """Return ``payload`` as the strict JSON printed on stdout."""
    return strict_json(payload)
