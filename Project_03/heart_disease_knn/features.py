"""What the model reads: column lists, allowed categories, plausible ranges (pure, no I/O)."""
from dataclasses import dataclass

import numpy as np
import pandas as pd

TARGET = "HeartDisease"
NUMERIC_FEATURES = ("Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak")
# FastingBS is already 0/1, so it is one-hot encoded with the other categories.
CATEGORICAL_FEATURES = ("Sex", "ChestPainType", "FastingBS", "RestingECG",
                        "ExerciseAngina", "ST_Slope")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES

# Values are matched exactly (case-sensitive): "m" or " M" is rejected, not repaired,
# so that a file never silently trains a different model than it seems to.
ALLOWED_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Sex": ("F", "M"),
    "ChestPainType": ("ASY", "ATA", "NAP", "TA"),
    "FastingBS": ("0", "1"),
    "RestingECG": ("LVH", "Normal", "ST"),
    "ExerciseAngina": ("N", "Y"),
    "ST_Slope": ("Down", "Flat", "Up"),
}

# In the source collections a 0 in these columns means "not measured" (172 rows of
# Cholesterol, 1 of RestingBP); the model pipeline turns 0 into a missing value.
ZERO_MEANS_MISSING = ("RestingBP", "Cholesterol")


@dataclass(frozen=True)
class ValueRange:
    """Closed interval of physiologically possible values for one numeric column."""

    low: float
    high: float
    unit: str

    def contains(self, values: pd.Series) -> pd.Series:
        """Return a boolean mask of the values inside the interval."""
        return values.between(self.low, self.high)


# Wide on purpose: they reject impossible values and unit mix-ups (mmol/L cholesterol,
# a year of birth as age), not unusual patients. The bundled data lie well inside.
VALID_RANGES: dict[str, ValueRange] = {
    "Age": ValueRange(1, 120, "years"),
    "RestingBP": ValueRange(50, 250, "mm Hg"),
    "Cholesterol": ValueRange(50, 700, "mg/dl"),
    "MaxHR": ValueRange(40, 250, "beats/min"),
    "Oldpeak": ValueRange(-5, 10, "mm ST depression"),
}


def zeros_to_missing(X: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``X`` with 0 replaced by NaN in the "not measured" columns.

    Used as the first step of the numeric pipeline, so the imputer that follows learns
    its medians from training rows only.

    >>> zeros_to_missing(pd.DataFrame({"Cholesterol": [0, 200], "Age": [0, 50]}))
       Cholesterol  Age
    0          NaN    0
    1        200.0   50
    """
    marked = X.copy()
    for column in ZERO_MEANS_MISSING:
        if column in marked.columns:
            marked[column] = marked[column].astype(float).replace(0.0, np.nan)
    return marked


def describe_ranges() -> str:
    """Return the valid ranges as one human-readable line (for --help and errors)."""
    parts = [f"{name} {rng.low:g}..{rng.high:g} {rng.unit}" for name, rng in VALID_RANGES.items()]
    return "; ".join(parts) + f" (0 allowed in {', '.join(ZERO_MEANS_MISSING)}: not measured)"
