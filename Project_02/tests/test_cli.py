"""Command-line behaviour of podcast_summary.py."""
import subprocess
import sys
from pathlib import Path

import pytest

from podcast_summary import main

SCRIPT = Path(__file__).resolve().parents[1] / "podcast_summary.py"


def test_help_exits_zero_and_lists_options(capsys: pytest.CaptureFixture[str]) -> None:
    """``--help`` prints the usage with every option and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--log-level" in capsys.readouterr().out


def test_unknown_option_exits_two() -> None:
    """argparse rejects an unknown option with exit code 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--no-such-option"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("cwd", [SCRIPT.parents[1], SCRIPT.parent])
def test_script_runs_from_any_directory(cwd: Path) -> None:
    """The script imports its package from the repo root and from its own folder."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], cwd=cwd,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
