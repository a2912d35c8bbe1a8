"""Train and evaluate a K-nearest-neighbours heart-disease classifier on clinical data."""


class HeartDiseaseError(Exception):
    """Base class of every error this package reports to the user as one line."""
