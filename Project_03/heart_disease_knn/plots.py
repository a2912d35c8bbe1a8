"""PNG figures of the data and the model's test results.

Uses matplotlib's object API (``Figure``) rather than ``pyplot``: no GUI backend, no
global state, so it works headless and never leaks open figures.
"""
import io
import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from heart_disease_knn.features import CATEGORICAL_FEATURES, TARGET

logger = logging.getLogger(__name__)

CLASS_LABELS = ("no disease (0)", "disease (1)")


def _png(fig: Figure) -> bytes:
    """Return the figure as PNG bytes."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def class_balance(frame: pd.DataFrame) -> bytes:
    """Bar chart of how many patients have and do not have heart disease."""
    counts = frame[TARGET].value_counts().reindex([0, 1], fill_value=0)
    fig = Figure(figsize=(5, 4))
    ax = fig.add_subplot()
    bars = ax.bar(CLASS_LABELS, counts.to_numpy(), color=["tab:blue", "tab:red"])
    ax.bar_label(bars)
    ax.set_ylabel("patients")
    ax.set_title(f"Class balance ({len(frame)} patients)")
    return _png(fig)


def categories_by_class(frame: pd.DataFrame) -> bytes:
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
    return _png(fig)


def confusion(matrix: list[list[int]]) -> bytes:
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
    return _png(fig)


def roc(y_true: pd.Series, y_score: np.ndarray, auc: float) -> bytes:
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
    return _png(fig)


def render_all(frame: pd.DataFrame, y_test: pd.Series, y_score: np.ndarray,
               metrics: dict[str, Any]) -> dict[str, bytes]:
    """Return every figure as PNG bytes, by its file name inside the plots folder."""
    return {
        "class_balance.png": class_balance(frame),
        "categories_by_class.png": categories_by_class(frame),
        "confusion_matrix.png": confusion(metrics["confusion_matrix"]),
        "roc_curve.png": roc(y_test, y_score, metrics["roc_auc"]),
    }
