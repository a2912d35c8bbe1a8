"""Rewrite the example outputs in the READMEs from the tool's real output (the ``cog`` idea).

An example is a marker comment with the command-line arguments, right before a fenced block::

    <!-- example: --movie-title "Toy Story" --top 5 -->
    ```
    (what ``python Project_01/movie_recommendations.py --movie-title "Toy Story" --top 5``
    prints on stdout)
    ```

A ``console`` block also shows the command (``$ python Project_01/movie_recommendations.py
ARGS``) and what it logs on stderr after stdout. The arguments are run from the repository
root on the bundled data, with a private cache folder and ``--log-level WARNING`` (which the
example's own arguments may override), so nothing machine-dependent gets in. The test
``tests/test_readme_examples.py`` checks every block; after a change of output, run::

    python Project_01/tools/update_readme_examples.py           # rewrite the blocks
    python Project_01/tools/update_readme_examples.py --check   # only say which are stale
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = PROJECT_DIR.parent
SCRIPT = PROJECT_DIR / "movie_recommendations.py"
COMMAND = "python Project_01/movie_recommendations.py"
"""How a ``console`` block shows the command (as typed from the repository root)."""
README_FILES = (PROJECT_DIR / "README.md", REPO_DIR / "README.md")
UPDATE_HINT = "run: python Project_01/tools/update_readme_examples.py"
MARKER = re.compile(r"^<!-- example:", re.MULTILINE)
"""The start of a marker line (a marker quoted inside a line is prose)."""
EXAMPLE = re.compile(
    r"^<!-- example: (?P<args>.+?) -->\n"
    r"(?P<fence>```+)(?P<info>[^\n]*)\n"
    r"(?P<body>.*?)"
    r"^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL)

Runner = Callable[[list[str]], tuple[int, str, str]]
"""Runs the CLI with these arguments; returns its (exit code, stdout, stderr)."""


class ExampleError(ValueError):
    """An example that cannot be checked: a marker without a fenced block after it, bad
    arguments, or a command that fails behind a block that shows only its stdout."""


@dataclass(frozen=True)
class Example:
    """One marked example block of a README."""

    args: str
    """The arguments as written in the marker."""
    info: str
    """The fence's info string (``console``, ``json``, or empty)."""
    body: str = field(repr=False)
    """The block's text as it stands, without the fences."""
    start: int = field(repr=False)
    end: int = field(repr=False)
    """Where ``body`` is in the README's text."""

    @property
    def argv(self) -> list[str]:
        """The arguments split the way a shell would."""
        try:
            return shlex.split(self.args)
        except ValueError as err:
            raise ExampleError(f"bad arguments in <!-- example: {self.args} -->: "
                                     f"{err}") from err


def find_examples(text: str) -> list[Example]:
    """Every marked example of a README's ``text``, in order.

    Raises:
        ExampleError: if a marker is not directly followed by a fenced block.

    >>> [example.args for example in find_examples(
    ...     "<!-- example: --top 1 -->\\n```json\\n{}\\n```\\n")]
    ['--top 1']
    """
    examples = [Example(match["args"], match["info"].strip(), match["body"],
                        match.start("body"), match.end("body"))
                for match in EXAMPLE.finditer(text)]
    markers = len(MARKER.findall(text))
    if markers != len(examples):
        raise ExampleError(f"{markers - len(examples)} of {markers} example markers "
                                 "are not directly followed by a fenced block")
    return examples


def normalise(block: str) -> str:
    """``block`` without trailing whitespace on each line and without trailing blank lines."""
    return "\n".join(line.rstrip() for line in block.rstrip().splitlines())


def render(example: Example, run: Runner) -> str:
    """The block ``example`` should hold: the CLI's real output (normalised, one final newline).

    Raises:
        ExampleError: if the command fails and the block is not a ``console`` one (which
            would show the error).
    """
    code, stdout, stderr = run(example.argv)
    if example.info == "console":
        return normalise(f"$ {COMMAND} {example.args}\n{stdout}{stderr}") + "\n"
    if code != 0:
        last = (stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        raise ExampleError(f"example '{example.args}' exits {code}: {last}")
    return normalise(stdout) + "\n"


def update_text(text: str, run: Runner) -> tuple[str, int]:
    """``text`` with every example block rewritten; also how many blocks changed."""
    pieces, changed, done = [], 0, 0
    for example in find_examples(text):
        block = render(example, run)
        changed += normalise(example.body) != normalise(block)
        pieces += [text[done:example.start], block]
        done = example.end
    return "".join(pieces) + text[done:], changed


def cli_runner(cache_dir: Path) -> Runner:
    """Run ``movie_recommendations.py`` in a child process from the repository root, with
    ``cache_dir`` as its cache and warnings and errors only on stderr."""
    env = {**os.environ, "PYTHONUTF8": "1"}

    def run(argv: list[str]) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, str(SCRIPT), "--cache-dir", str(cache_dir),
             "--log-level", "WARNING", *argv],
            cwd=REPO_DIR, env=env, capture_output=True, text=True, encoding="utf-8",
            check=False)
        return done.returncode, done.stdout, done.stderr
    return run


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true",
                        help="only report stale examples (exit 1 if any); change nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check`` only check) every README's examples; return the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stale = 0
    with tempfile.TemporaryDirectory(prefix="readme-examples-") as cache_dir:
        run = cli_runner(Path(cache_dir))
        for path in README_FILES:
            text = path.read_text(encoding="utf-8")
            try:
                new_text, changed = update_text(text, run)
            except ExampleError as err:
                logger.error("%s: %s", path, err)
                return 1
            stale += changed
            if changed and not args.check:
                path.write_text(new_text, encoding="utf-8")
            logger.info("%s: %d example(s) %s", path.relative_to(REPO_DIR), changed,
                        "stale" if args.check else "rewritten")
    if args.check and stale:
        logger.error("%d README example(s) differ from the tool's output; %s", stale,
                     UPDATE_HINT)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
