"""Explain KNN predictions by the training patients they come from (pure: no file access).

A KNN model has no weights to inspect: its reasoning *is* the neighbours. For each patient
this module asks the fitted pipeline itself, never a re-implementation of it:

- the pipeline's own preprocessing (imputation, scaling, one-hot encoding) puts the
  patient and the training rows in the model's feature space;
- ``KNeighborsClassifier.kneighbors`` finds the k nearest training rows and their distances.

Then, to say *why* those neighbours are where they are, the distance is split by feature:
with the Minkowski metric of power p, ``distance ** p`` is the sum over the model's columns
of ``|patient - neighbour| ** p``, so each original feature (a scaled number with its
missing-value indicator, or a block of one-hot columns) owns a share of it. The features
with the largest share, averaged over the k neighbours, are where the patient differs most
from them. Values are reported in the original units, from the saved training rows.
"""
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from heart_disease_knn.features import FEATURES, NUMERIC_FEATURES, TARGET

CLOSEST_SHOWN = 3  # neighbours listed one by one
DIFFERENCES_SHOWN = 3  # features listed as "differs most"


@dataclass(frozen=True)
class Neighbour:
    """One training patient near the explained patient."""

    line: int  # line in the training file
    distance: float  # in the model's scaled feature space, as kneighbors reports it
    label: int
    features: dict[str, Any]  # original units

    def as_dict(self) -> dict[str, Any]:
        """Return the neighbour as JSON-friendly values."""
        return {"line": self.line, "distance": self.distance, TARGET: self.label,
                "features": self.features}


@dataclass(frozen=True)
class Difference:
    """How one feature of the patient compares with its k neighbours."""

    feature: str
    patient: Any  # the patient's value, original units
    neighbours_typical: Any  # median (numbers) or most common value (categories)
    neighbours_same: int  # how many of the k neighbours have exactly the patient's value
    distance_share: float  # fraction of the mean distance**p to the k neighbours

    def as_dict(self) -> dict[str, Any]:
        """Return the difference as JSON-friendly values."""
        return {"feature": self.feature, "patient": self.patient,
                "neighbours_typical": self.neighbours_typical,
                "neighbours_same": self.neighbours_same, "distance_share": self.distance_share}


@dataclass(frozen=True)
class Explanation:
    """The k nearest training patients of one patient and where it differs from them."""

    patient: dict[str, Any]  # the patient's features, original units
    k: int
    with_heart_disease: int
    closest: tuple[Neighbour, ...]
    differs_most: tuple[Difference, ...]
    power: float  # p of the Minkowski distance (1: Manhattan, 2: Euclidean)

    def as_dict(self) -> dict[str, Any]:
        """Return the explanation as JSON-friendly values."""
        return {"patient": self.patient, "minkowski_p": plain(self.power),
                "k": self.k, "with_heart_disease": self.with_heart_disease,
                "without_heart_disease": self.k - self.with_heart_disease,
                "closest": [neighbour.as_dict() for neighbour in self.closest],
                "differs_most": [difference.as_dict() for difference in self.differs_most]}


def plain(value: Any) -> Any:
    """Return ``value`` as a plain Python number or string (whole floats as int).

    >>> plain(np.float64(63.0)), plain(np.float64(1.5)), plain("ASY")
    (63, 1.5, 'ASY')
    """
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def feature_of_column(column: str) -> str:
    """Return the original feature a preprocessed column comes from.

    >>> feature_of_column("numeric__missingindicator_Cholesterol")
    'Cholesterol'
    >>> feature_of_column("categorical__ST_Slope_Up")
    'ST_Slope'
    """
    name = column.split("__", 1)[-1].removeprefix("missingindicator_")
    matches = [feature for feature in FEATURES
               if name == feature or name.startswith(f"{feature}_")]
    if not matches:
        raise ValueError(f"preprocessed column {column!r} matches no feature")
    return max(matches, key=len)


def column_groups(preprocess: Pipeline) -> dict[str, np.ndarray]:
    """Return, for each feature, the indices of its columns in the preprocessed matrix."""
    owners = np.array([feature_of_column(name) for name in preprocess.get_feature_names_out()])
    return {feature: np.flatnonzero(owners == feature) for feature in FEATURES}


def explain(pipeline: Pipeline, X: pd.DataFrame,
            training_rows: pd.DataFrame) -> list[Explanation]:
    """Explain the pipeline's prediction for every row of ``X``.

    Args:
        pipeline: the fitted pipeline (preprocessing steps, then a KNeighborsClassifier).
        X: the patients, with the model's feature columns.
        training_rows: the rows the classifier was fitted on, in the same order, with
            ``line`` (their line in the training file), the features and ``HeartDisease``.

    Returns:
        One :class:`Explanation` per patient, in the order of ``X``.
    """
    preprocess, classifier = pipeline[:-1], pipeline[-1]
    patients = _dense(preprocess.transform(X.loc[:, list(FEATURES)]))
    known = _dense(preprocess.transform(training_rows.loc[:, list(FEATURES)]))
    distances, indices = classifier.kneighbors(patients)
    groups = column_groups(preprocess)
    return [_explain_one(X.iloc[row], patients[row], known[indices[row]], distances[row],
                         training_rows.iloc[indices[row]], groups, minkowski_power(classifier))
            for row in range(len(X))]


def minkowski_power(classifier: Any) -> float:
    """Return the p of the Minkowski distance a fitted KNeighborsClassifier uses.

    scikit-learn fixes the metric at fit time (``effective_metric_``): p=1 becomes
    "manhattan", p=2 "euclidean".
    """
    metric = classifier.effective_metric_
    if metric in ("manhattan", "cityblock", "l1"):
        return 1.0
    if metric in ("euclidean", "l2"):
        return 2.0
    if metric == "minkowski":
        return float(classifier.effective_metric_params_.get("p", classifier.p))
    raise ValueError(f"cannot split the {metric!r} distance by feature")


def _dense(matrix: Any) -> np.ndarray:
    """Return a preprocessed matrix as a dense float array (one-hot output may be sparse)."""
    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=float)


def _explain_one(patient: pd.Series, patient_scaled: np.ndarray, neighbours_scaled: np.ndarray,
                 distances: np.ndarray, neighbours: pd.DataFrame,
                 groups: dict[str, np.ndarray], power: float) -> Explanation:
    """Explain one patient from its k neighbours (rows of the training file, nearest first)."""
    closest = tuple(
        Neighbour(line=int(row["line"]), distance=float(distance), label=int(row[TARGET]),
                  features={feature: plain(row[feature]) for feature in FEATURES})
        for (_, row), distance in zip(neighbours.head(CLOSEST_SHOWN).iterrows(), distances))
    return Explanation(
        patient={feature: plain(patient[feature]) for feature in FEATURES}, power=power,
        k=len(neighbours), with_heart_disease=int(neighbours[TARGET].sum()), closest=closest,
        differs_most=tuple(differences(patient, patient_scaled, neighbours_scaled, neighbours,
                                       groups, power)[:DIFFERENCES_SHOWN]))


def distance_shares(patient_scaled: np.ndarray, neighbours_scaled: np.ndarray,
                    groups: dict[str, np.ndarray], power: float) -> dict[str, float]:
    """Return each feature's part of the mean ``distance ** power`` to the neighbours.

    The parts add up to the mean of ``distance ** power`` over the neighbours.

    >>> groups = {"a": np.array([0]), "b": np.array([1, 2])}
    >>> distance_shares(np.array([0.0, 1, 0]), np.array([[1.0, 0, 1], [0.0, 1, 0]]), groups, 1)
    {'a': 0.5, 'b': 1.0}
    """
    gaps = np.abs(neighbours_scaled - patient_scaled) ** power
    return {feature: float(gaps[:, columns].sum(axis=1).mean())
            for feature, columns in groups.items()}


def differences(patient: pd.Series, patient_scaled: np.ndarray, neighbours_scaled: np.ndarray,
                neighbours: pd.DataFrame, groups: dict[str, np.ndarray],
                power: float) -> list[Difference]:
    """Return every feature's comparison with the neighbours, largest distance share first."""
    shares = distance_shares(patient_scaled, neighbours_scaled, groups, power)
    total = sum(shares.values())
    rows = []
    for feature, share in shares.items():
        values = neighbours[feature]
        typical = values.median() if feature in NUMERIC_FEATURES else values.mode().iloc[0]
        rows.append(Difference(
            feature=feature, patient=plain(patient[feature]), neighbours_typical=plain(typical),
            neighbours_same=int((values == patient[feature]).sum()),
            distance_share=share / total if total > 0 else 0.0))
    return sorted(rows, key=lambda row: -row.distance_share)
