"""Train and evaluate a K-nearest-neighbours heart-disease classifier on clinical data.

Without a command it trains on --data, prints test metrics next to a majority-class
baseline and saves the model to --output-dir. "predict" scores new patients with a
saved model.
"""
import argparse
import logging
import os
import sys
from pathlib import Path

from heart_disease_knn import HeartDiseaseError, report, workflow
from heart_disease_knn.features import ALLOWED_CATEGORIES, describe_ranges
from heart_disease_knn.logging_config import LOG_LEVELS, configure_logging

logger = logging.getLogger(__name__)
PROJECT_DIR = Path(__file__).resolve().parent
INTERRUPTED = 130  # exit code after Ctrl-C: 128 + SIGINT, as shells report it
DEFAULT_DATA = PROJECT_DIR / "data" / "heart.csv"
DEFAULT_OUTPUT_DIR = PROJECT_DIR / "artifacts"

DATA_RULES = (
    "Data rules: a UTF-8 CSV with a header; extra columns are ignored and column order does "
    "not matter. Blanks/NaN are rejected (write 0 for an unmeasured RestingBP or Cholesterol; "
    "the model treats it as missing). Categories are case-sensitive: "
    + "; ".join(f"{name} {'/'.join(values)}" for name, values in ALLOWED_CATEGORIES.items())
    + ". Numeric ranges: " + describe_ranges() + ". HeartDisease must be 0/1.")


def fraction(text: str) -> float:
    """argparse type: a float strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from err
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {text}")
    return value


def path_value(text: str) -> Path:
    """argparse type: a non-empty path (an empty string would silently mean the cwd)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(text)


def _integer(text: str) -> int:
    """Parse ``text`` as an integer for argparse, with a readable error."""
    try:
        return int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from err


def at_least_two(text: str) -> int:
    """argparse type: an integer >= 2 (number of cross-validation folds)."""
    value = _integer(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, got {text}")
    return value


def seed_value(text: str) -> int:
    """argparse type: a random seed numpy accepts (0 to 2**32 - 1)."""
    value = _integer(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32 - 1, got {text}")
    return value


def job_count(text: str) -> int:
    """argparse type: a joblib job count (positive, or -1 for all cores)."""
    value = _integer(text)
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be a positive number or -1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (kept apart from ``main`` so tests can inspect it)."""
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=DATA_RULES,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", type=path_value, default=DEFAULT_DATA,
                        help="training CSV (the bundled Kaggle heart-failure data set by default)")
    parser.add_argument("--test-size", type=fraction, default=0.2,
                        help="fraction of rows held out for testing, strictly between 0 and 1")
    parser.add_argument("--tune", action="store_true",
                        help="grid-search the pipeline's hyperparameters with cross-validation")
    parser.add_argument("--cv", type=at_least_two, default=5,
                        help="number of stratified cross-validation folds")
    parser.add_argument("--seed", type=seed_value, default=42,
                        help="seed of the train/test split and of the folds")
    parser.add_argument("--n-jobs", type=job_count, default=1,
                        help="worker processes for cross-validation (-1: all cores); on the "
                             "bundled 918 rows starting workers costs more than it saves")
    parser.add_argument("--output-dir", type=path_value, default=DEFAULT_OUTPUT_DIR,
                        help="where model.joblib, model.json, metrics.json and plots/ go")
    parser.add_argument("--plots", action="store_true",
                        help="also write PNG plots to OUTPUT_DIR/plots")
    parser.add_argument("--drop-duplicates", action="store_true",
                        help="remove rows that repeat an earlier row before splitting (a copy "
                             "on each side of the split inflates the test metrics)")
    _add_shared_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="{predict}",
                                     help="omit to train; 'predict' scores new patients")
    predict = commands.add_parser(
        "predict", help="score patients with a saved model", epilog=DATA_RULES,
        description="Write each patient's probability of heart disease and predicted label "
                    "(HeartDisease column optional in the input).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    predict.add_argument("--model", type=path_value, required=True,
                         help="model.joblib written by a training run (model.json beside it)")
    predict.add_argument("--input", type=path_value, required=True, help="CSV of patients to score")
    predict.add_argument("--output", type=path_value,
                         help="also write the input rows with probability and predicted to "
                              "this CSV")
    predict.add_argument("--explain", action="store_true",
                         help="also show each patient's nearest training patients (how many "
                              "had heart disease, the three closest) and the features in which "
                              "it differs most from them")
    _add_shared_options(predict, suppress_default=True)
    return parser


def _add_shared_options(parser: argparse.ArgumentParser, suppress_default: bool = False) -> None:
    """Add --format and --log-level (accepted before or after ``predict``)."""
    format_default = argparse.SUPPRESS if suppress_default else "table"
    level_default = argparse.SUPPRESS if suppress_default else "INFO"
    parser.add_argument("--format", choices=("table", "json"), default=format_default,
                        help="how results are printed on stdout")
    parser.add_argument("--log-level", default=level_default, choices=LOG_LEVELS,
                        help="how much to log on stderr")


def _train(args: argparse.Namespace) -> str:
    options = workflow.TrainingOptions(
        data_path=args.data, output_dir=args.output_dir, test_size=args.test_size, cv=args.cv,
        seed=args.seed, n_jobs=args.n_jobs, tune=args.tune, plots=args.plots,
        drop_duplicates=args.drop_duplicates)
    summary = workflow.run_training(options)
    return report.to_json(summary) if args.format == "json" else report.training_table(summary)


def _same_file(first: Path, second: Path) -> bool:
    """True when both paths name one file (also through links or ``..``)."""
    if first.exists() and second.exists():
        return first.samefile(second)
    return first.resolve() == second.resolve()


def _predict(args: argparse.Namespace) -> str:
    predictions = workflow.run_prediction(args.model, args.input, explain=args.explain)
    if args.output is not None:
        workflow.write_predictions(predictions, args.output)
        logger.info("wrote %d predictions to %s", len(predictions), args.output)
    records = predictions.shown.to_dict(orient="records")
    explanations = [explanation.as_dict() for explanation in predictions.explanations]
    if args.format == "json":
        if explanations:
            records = [{**record, "explanation": explanation}
                       for record, explanation in zip(records, explanations)]
        return report.to_json(records)
    if explanations:
        return report.explanations_table(predictions.shown, explanations)
    return report.predictions_table(predictions.shown)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 handled error, 2 usage,
    130 interrupted by Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "predict" and args.output is not None \
            and _same_file(args.output, args.input):
        parser.error(f"argument --output: {args.output} is the --input file; write the "
                     "scores to another file so the input stays as it is")
    configure_logging(args.log_level)
    try:
        output = _predict(args) if args.command == "predict" else _train(args)
    except HeartDiseaseError as err:
        logger.error("%s", err)
        return 1
    except KeyboardInterrupt:
        logger.error("interrupted: every file is written whole or not at all")
        return INTERRUPTED
    try:
        print(output)
    except BrokenPipeError:
        # The reader (e.g. `head`) closed stdout early. Point stdout at /dev/null so the
        # interpreter's final flush does not raise again (Python docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
