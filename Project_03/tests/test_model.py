"""The pipeline learns only from training rows, is reproducible, and scores correctly."""
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import ParameterGrid, cross_val_score

from heart_disease_knn import model
from heart_disease_knn.dataset import load_dataset
from heart_disease_knn.features import NUMERIC_FEATURES, TARGET, zeros_to_missing
from heart_disease_knn.validation import DatasetError


def _numeric_step(pipeline: Any, name: str) -> Any:
    return pipeline.named_steps["preprocess"].named_transformers_["numeric"].named_steps[name]


def test_zeros_to_missing_marks_only_unmeasured_columns_and_copies() -> None:
    """0 becomes NaN in RestingBP and Cholesterol only; the input is not changed."""
    frame = pd.DataFrame({"RestingBP": [0.0, 120.0], "Cholesterol": [0.0, 250.0],
                          "Oldpeak": [0.0, 1.5]})
    before = frame.copy()
    marked = zeros_to_missing(frame)
    assert marked["RestingBP"].isna().tolist() == [True, False]
    assert marked["Cholesterol"].isna().tolist() == [True, False]
    assert marked["Oldpeak"].tolist() == [0.0, 1.5]
    assert frame.equals(before)


def test_imputation_and_scaling_are_learned_from_the_training_split_only(
        bundled_csv: Path) -> None:
    """The fitted medians and min/max equal those of the training rows, not of all rows."""
    from_file = load_dataset(bundled_csv).frame
    split = model.split(from_file, test_size=0.2, seed=42)
    trained = model.train(split.X_train, split.y_train, cv=3, seed=42)
    train_medians = zeros_to_missing(split.X_train[list(NUMERIC_FEATURES)]).median()
    all_medians = zeros_to_missing(from_file[list(NUMERIC_FEATURES)]).median()
    imputer = _numeric_step(trained.model, "impute")
    np.testing.assert_allclose(imputer.statistics_, train_medians.to_numpy())
    assert not np.allclose(imputer.statistics_, all_medians.to_numpy())
    scaler = _numeric_step(trained.model, "scale")
    np.testing.assert_allclose(scaler.data_max_[:len(NUMERIC_FEATURES)],
                               split.X_train[list(NUMERIC_FEATURES)].max().to_numpy())


def test_imputed_value_does_not_depend_on_the_label(sample_frame: pd.DataFrame) -> None:
    """Flipping every label leaves the learned imputation unchanged (no target leakage)."""
    X = sample_frame.drop(columns=TARGET)
    y = sample_frame[TARGET]
    pipeline = model.build_pipeline().fit(X, y)
    flipped = model.build_pipeline().fit(X, 1 - y)
    np.testing.assert_array_equal(_numeric_step(pipeline, "impute").statistics_,
                                  _numeric_step(flipped, "impute").statistics_)


def test_same_seed_gives_identical_metrics_and_another_seed_another_split(
        sample_frame: pd.DataFrame) -> None:
    """Training is deterministic for a seed; the seed really drives the split."""
    def run(seed: int) -> tuple[dict[str, Any], list[int]]:
        split = model.split(sample_frame, test_size=0.25, seed=seed)
        trained = model.train(split.X_train, split.y_train, cv=3, seed=seed)
        return model.evaluate(trained.model, split.X_test, split.y_test), \
            sorted(split.X_test.index)
    first, first_rows = run(7)
    again, again_rows = run(7)
    _, other_rows = run(8)
    assert first == again and first_rows == again_rows
    assert first_rows != other_rows


def test_split_is_stratified(sample_frame: pd.DataFrame) -> None:
    """Both parts keep the class ratio (40/41 rows -> 10/11 in a 25% test split)."""
    split = model.split(sample_frame, test_size=0.25, seed=1)
    assert sorted(split.y_test.value_counts().tolist()) == [10, 11]


def test_classification_metrics_known_answer() -> None:
    """Hand-computed: TN=1 FP=1 FN=0 TP=2; AUC = 3 of 4 pairs ranked right."""
    y_true = pd.Series([0, 0, 1, 1])
    metrics = model.classification_metrics(y_true, np.array([0, 1, 1, 1]),
                                           np.array([0.1, 0.8, 0.7, 0.9]))
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(1.0)
    assert metrics["f1"] == pytest.approx(0.8)
    assert metrics["roc_auc"] == pytest.approx(0.75)
    assert metrics["confusion_matrix"] == [[1, 1], [0, 2]]


def test_baseline_predicts_the_training_majority(sample_frame: pd.DataFrame) -> None:
    """The baseline always says 1 here (41 of 71 patients) and has AUC 0.5."""
    negatives = sample_frame.index[sample_frame[TARGET] == 0]
    split = model.split(sample_frame.drop(index=negatives[:10]), test_size=0.25, seed=3)
    baseline = model.evaluate_baseline(split)
    assert baseline["majority_class"] == 1
    assert baseline["recall"] == 1.0
    assert baseline["roc_auc"] == 0.5
    assert baseline["accuracy"] == pytest.approx(split.y_test.mean())


def test_tuning_picks_a_grid_candidate_with_its_cv_score(
        sample_frame: pd.DataFrame, small_grid: dict[str, list[Any]]) -> None:
    """The chosen candidate has the best fold mean, recomputed here candidate by candidate."""
    split = model.split(sample_frame, test_size=0.2, seed=42)
    trained = model.train(split.X_train, split.y_train, cv=4, seed=42, tune=True,
                          grid=small_grid)
    fold_means = []
    for candidate in ParameterGrid(small_grid):
        pipeline = model.build_pipeline().set_params(**candidate)
        fold_means.append(cross_val_score(pipeline, split.X_train, split.y_train,
                                          cv=model.folds(4, 42)).mean())
    best = ParameterGrid(small_grid)[int(np.argmax(fold_means))]
    assert trained.tuned and trained.search_candidates == 4
    assert len(trained.cv_scores) == 4
    assert trained.cv_mean == pytest.approx(max(fold_means))
    assert trained.params["classifier__n_neighbors"] == best["classifier__n_neighbors"]
    assert trained.params["preprocess__numeric__scale"] == \
        type(best["preprocess__numeric__scale"]).__name__


def test_easy_problem_is_solved() -> None:
    """On patients separated by ST slope and exercise angina, the model makes no mistake."""
    rng = np.random.default_rng(0)
    n = 60
    sick = np.arange(n) % 2
    frame = pd.DataFrame({
        "Age": rng.integers(40, 70, n).astype(float),
        "RestingBP": rng.integers(110, 150, n).astype(float),
        "Cholesterol": rng.choice([0.0, 200.0, 250.0], n),
        "MaxHR": rng.integers(100, 180, n).astype(float),
        "Oldpeak": np.where(sick == 1, 2.0, 0.0),
        "Sex": rng.choice(["M", "F"], n),
        "ChestPainType": rng.choice(["ASY", "NAP"], n),
        "FastingBS": rng.choice(["0", "1"], n),
        "RestingECG": "Normal",
        "ExerciseAngina": np.where(sick == 1, "Y", "N"),
        "ST_Slope": np.where(sick == 1, "Flat", "Up"),
        TARGET: sick,
    })
    split = model.split(frame, test_size=0.25, seed=0)
    trained = model.train(split.X_train, split.y_train, cv=3, seed=0)
    assert model.evaluate(trained.model, split.X_test, split.y_test)["accuracy"] == 1.0


def test_unknown_category_at_prediction_time_is_ignored_not_fatal(
        sample_frame: pd.DataFrame) -> None:
    """handle_unknown='ignore': a category unseen in training encodes as all zeros.

    So 'Down' (absent from training) scores exactly like any other unseen value, and its
    ST_Slope one-hot columns are all 0.
    """
    X = sample_frame.drop(columns=TARGET)
    seen = X["ST_Slope"] != "Down"
    assert (~seen).sum() > 0
    pipeline = model.build_pipeline().fit(X[seen], sample_frame[TARGET][seen])
    unseen_rows = X[~seen]
    other_unseen = unseen_rows.assign(ST_Slope="Sideways")
    np.testing.assert_array_equal(pipeline.predict_proba(unseen_rows),
                                  pipeline.predict_proba(other_unseen))
    preprocess = pipeline.named_steps["preprocess"]
    names = preprocess.get_feature_names_out()
    slope_columns = [i for i, name in enumerate(names) if "ST_Slope" in name]
    assert len(slope_columns) == 2
    encoded = np.asarray(preprocess.transform(unseen_rows))
    assert not encoded[:, slope_columns].any()


@pytest.mark.parametrize(("rows_per_class", "test_size", "cv", "fragment"), [
    (1, 0.2, 5, "cannot be split"),
    (3, 0.2, 5, "fewer than --cv 5 folds"),
    (3, 0.2, 2, "fewer than the 5 neighbours"),
])
def test_check_enough_rows(rows_per_class: int, test_size: float, cv: int,
                           fragment: str) -> None:
    """Too little data is named before any fitting starts."""
    y = pd.Series([0, 1] * rows_per_class)
    with pytest.raises(DatasetError, match=fragment):
        model.check_enough_rows(y, test_size, cv)


def test_enough_rows_pass_and_grid_drops_unusable_neighbour_counts() -> None:
    """918 rows pass; a 20-row fold keeps only the neighbour counts it can hold."""
    model.check_enough_rows(pd.Series([0] * 410 + [1] * 508), 0.2, 5)
    assert model.grid_for(20)["classifier__n_neighbors"] == [5, 9, 15]
