"""PNG figures of the data and the model's test results.

Uses matplotlib's object API (``Figure``) rather than ``pyplot``: no GUI backend, no
global state, so it works headless and never leaks open figures.
"""
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from heart_disease_knn.features import CATEGORICAL_FEATURES, TARGET

logger = logging.getLogger(__name__)

CLASS_LABELS = ("no disease (0)", "disease (1)")


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def class_balance(frame: pd.DataFrame, path: Path) -> Path:
    """Bar chart of how many patients have and do not have heart disease."""
    counts = frame[TARGET].value_counts().reindex([0, 1], fill_value=0)
    fig = Figure(figsize=(5, 4))
    ax = fig.add_subplot()
    bars = ax.bar(CLASS_LABELS, counts.to_numpy(), color=["tab:blue", "tab:red"])
    ax.bar_label(bars)
    ax.set_ylabel("patients")
    ax.set_title(f"Class balance ({len(frame)} patients)")
    return _save(fig, path)


def categories_by_class(frame: pd.DataFrame, path: Path) -> Path:
    """Grouped bar charts of every categorical feature, split by class."""
    fig = Figure(figsize=(14, 8))
    axes = fig.subplots(2, 3).ravel()
    for ax, column in zip(axes, CATEGORICAL_FEATURES):
        table = pd.crosstab(frame[column], frame[TARGET]).reindex(columns=[0, 1], fill_value=0)
        positions = np.arange(len(table.index))
        for offset, cls, color in ((-0.2, 0, "tab:blue"), (0.2, 1, "tab:red")):
            bars = ax.bar(positions + offset, table[cls].to_numpy(), width=0.4,
                          label=CLASS_LABELS[cls], color=color)
            ax.bar_label(bars, fontsize=8)
        ax.set_xticks(positions, [str(value) for value in table.index])
        ax.set_title(column)
    axes[0].legend()
    fig.suptitle("Categorical features by class")
    return _save(fig, path)


def confusion(matrix: list[list[int]], path: Path) -> Path:
    """Heat map of the test confusion matrix ``[[TN, FP], [FN, TP]]``."""
    values = np.asarray(matrix)
    fig = Figure(figsize=(4.5, 4))
    ax = fig.add_subplot()
    ax.imshow(values, cmap="Blues")
    for (row, col), count in np.ndenumerate(values):
        ax.text(col, row, str(count), ha="center", va="center",
                color="white" if count > values.max() / 2 else "black")
    ax.set_xticks([0, 1], ["predicted 0", "predicted 1"])
    ax.set_yticks([0, 1], ["true 0", "true 1"])
    ax.set_title("Confusion matrix (test split)")
    return _save(fig, path)


def roc(y_true: pd.Series, y_score: np.ndarray, auc: float, path: Path) -> Path:
    """ROC curve of the test split, with the chance diagonal."""
    false_pos, true_pos, _ = roc_curve(y_true, y_score)
    fig = Figure(figsize=(4.5, 4))
    ax = fig.add_subplot()
    ax.plot(false_pos, true_pos, label=f"KNN (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve (test split)")
    ax.legend(loc="lower right")
    return _save(fig, path)


def save_all(frame: pd.DataFrame, y_test: pd.Series, y_score: np.ndarray,
             metrics: dict[str, Any], plot_dir: Path) -> list[Path]:
    """Write the four PNGs into ``plot_dir`` and return their paths."""
    plot_dir.mkdir(parents=True, exist_ok=True)
    written = [
        class_balance(frame, plot_dir / "class_balance.png"),
        categories_by_class(frame, plot_dir / "categories_by_class.png"),
        confusion(metrics["confusion_matrix"], plot_dir / "confusion_matrix.png"),
        roc(y_test, y_score, metrics["roc_auc"], plot_dir / "roc_curve.png"),
    ]
    logger.info("wrote %d plots to %s", len(written), plot_dir)
    return written
