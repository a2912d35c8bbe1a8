"""The READMEs' example outputs are the tool's real output (tools/update_readme_examples.py)."""
from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL_PATH = Path(__file__).resolve().parents[1] / "tools" / "update_readme_examples.py"


def load_tool() -> ModuleType:
    """Import the tool script by its path (``tools/`` is not a package)."""
    spec = importlib.util.spec_from_file_location("update_readme_examples", TOOL_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


tool = load_tool()


def readme_examples() -> list:
    """(README path, example) for every marked example, with readable test ids."""
    cases = []
    for path in tool.README_FILES:
        text = path.read_text(encoding="utf-8")
        for example in tool.find_examples(text):
            line = text.count("\n", 0, example.start)
            name = f"{path.relative_to(tool.REPO_DIR)}:{line} {example.args}"
            cases.append(pytest.param(path, example, id=name))
    return cases


@pytest.fixture(name="run_cli", scope="module")
def fixture_run_cli(tmp_path_factory: pytest.TempPathFactory):
    """The tool's CLI runner with one private cache, so the index is built once."""
    return tool.cli_runner(tmp_path_factory.mktemp("readme-cache"))


@pytest.mark.parametrize(("path", "example"), readme_examples())
def test_readme_example_is_the_real_output(path: Path, example, run_cli) -> None:
    """Each marked block shows exactly what the CLI prints for the marker's arguments."""
    expected = tool.normalise(tool.render(example, run_cli))
    shown = tool.normalise(example.body)
    diff = "\n".join(difflib.unified_diff(shown.splitlines(), expected.splitlines(),
                                          "README", "tool output", lineterm=""))
    if shown != expected:
        pytest.fail(f"{path}: example '{example.args}' is stale; {tool.UPDATE_HINT}\n{diff}",
                    pytrace=False)


def test_each_readme_has_examples() -> None:
    """The Project_01 README checks its table and JSON, the top-level one its console."""
    project, top = ({example.info for example in tool.find_examples(path.read_text("utf-8"))}
                    for path in tool.README_FILES)
    assert {"", "json"} <= project
    assert "console" in top


def fake_run(argv: list[str]) -> tuple[int, str, str]:
    """A CLI stand-in: echoes its arguments on stdout and says "warned" on stderr; fails
    (exit 2) when asked for ``--fail``."""
    if "--fail" in argv:
        return 2, "", "usage: ...\nerror: no such option --fail\n"
    return 0, " ".join(argv) + "  \n\n", "WARNING warned\n"


def test_update_rewrites_only_stale_blocks() -> None:
    """A stale block is replaced by the output; a current one and the prose stay."""
    text = ("Intro.\n<!-- example: --top 1 -->\n```\nold output\n```\nMiddle.\n"
            "<!-- example: --top 2 -->\n```json\n--top 2   \n```\nEnd.\n")
    new_text, changed = tool.update_text(text, fake_run)
    assert changed == 1
    assert new_text == ("Intro.\n<!-- example: --top 1 -->\n```\n--top 1\n```\nMiddle.\n"
                        "<!-- example: --top 2 -->\n```json\n--top 2\n```\nEnd.\n")
    assert tool.update_text(new_text, fake_run) == (new_text, 0)


def test_console_block_shows_the_command_and_stderr() -> None:
    """A ``console`` block starts with ``$ python ...`` and ends with the log lines."""
    text = '<!-- example: --movie-title "Up" -->\n```console\n```\n'
    example, = tool.find_examples(text)
    assert example.argv == ["--movie-title", "Up"]
    assert tool.render(example, fake_run) == (
        '$ python Project_01/movie_recommendations.py --movie-title "Up"\n'
        "--movie-title Up\n\nWARNING warned\n")


def test_marker_without_block_is_an_error() -> None:
    """A marker not directly followed by a fence cannot be checked, so it is refused."""
    text = "<!-- example: --top 1 -->\nprose\n```\nx\n```\n"
    with pytest.raises(tool.ExampleError, match="1 of 1 example markers"):
        tool.find_examples(text)


def test_failing_command_behind_an_output_block_is_an_error() -> None:
    """An empty block cannot pass for a command that fails; a console block shows the error."""
    example, console = tool.find_examples("<!-- example: --fail -->\n```\n```\n"
                                          "<!-- example: --fail -->\n```console\n```\n")
    with pytest.raises(tool.ExampleError, match="exits 2: error: no such option --fail"):
        tool.render(example, fake_run)
    assert tool.render(console, fake_run).endswith("error: no such option --fail\n")
