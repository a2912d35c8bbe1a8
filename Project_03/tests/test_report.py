"""Output formatting and the doctest examples of the pure helpers."""
import doctest
from typing import Any

import pytest

from heart_disease_knn import features, report, workflow

SUMMARY: dict[str, Any] = {
    "mode": "tuned",
    "data": {"path": "/nowhere/heart.csv", "rows": 10, "sha256": "0" * 64},
    "split": {"test_size": 0.4, "seed": 1, "train_rows": 6, "test_rows": 4},
    "params": {"preprocess__numeric__scale": "StandardScaler", "classifier__n_neighbors": 3,
               "classifier__weights": "uniform", "classifier__p": 1},
    "cross_validation": {"folds": 3, "scoring": "accuracy", "mean": 0.8, "std": 0.1,
                         "candidates": 40},
    "test": {"accuracy": 0.75, "precision": 2 / 3, "recall": 1.0, "f1": 0.8, "roc_auc": 0.75,
             "confusion_matrix": [[1, 1], [0, 2]]},
    "baseline": {"accuracy": 0.5, "precision": 0.5, "recall": 1.0, "f1": 2 / 3, "roc_auc": 0.5,
                 "confusion_matrix": [[0, 2], [0, 2]], "majority_class": 1},
    "artifacts": {"model": "/nowhere/model.joblib", "plots": ["/nowhere/a.png"]},
}


@pytest.mark.parametrize("module", [features, report, workflow], ids=lambda module: module.__name__)
def test_doctest_examples_hold(module: Any) -> None:
    """The examples in the docstrings are true."""
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_training_table_shows_params_metrics_and_confusion() -> None:
    """The table names the search, the parameters and each metric beside the baseline."""
    lines = report.training_table(SUMMARY).splitlines()
    assert lines[0] == "KNN tuned by 3-fold grid search over 40 candidates"
    assert lines[2] == "params:  scale=StandardScaler n_neighbors=3 weights=uniform p=1"
    assert lines[3] == "CV accuracy on the training split (3 folds): 0.8000 ± 0.1000"
    assert lines[6].split() == ["accuracy", "0.7500", "0.5000"]
    assert lines[8].split() == ["recall", "1.0000", "1.0000"]
    assert lines[11].split() == ["confusion", "1", "1", "/", "0", "2", "0", "2", "/", "0", "2"]
    assert lines[-2:] == ["model: /nowhere/model.joblib", "plots: /nowhere/a.png"]
