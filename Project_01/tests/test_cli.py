"""Command-line behaviour of movie_recommendations.py."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from movie_recommendations import main

SCRIPT = Path(__file__).resolve().parents[1] / "movie_recommendations.py"


@pytest.fixture(name="run")
def fixture_run(tiny_dir: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]):
    """Run ``main`` on the tiny set with a private cache; return (exit code, stdout).

    stderr (the log) is kept in ``run.err`` after each call.
    """
    def run(*args: str) -> tuple[int, str]:
        code = main(["--data-dir", str(tiny_dir), "--cache-dir", str(cache_dir),
                     "--min-ratings", "1", *args])
        captured = capsys.readouterr()
        run.err = captured.err
        return code, captured.out
    return run


def test_help_exits_zero_and_lists_options(capsys: pytest.CaptureFixture[str]) -> None:
    """``--help`` prints the usage with every option and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--movie-title", "--year", "--top", "--genre", "--min-ratings", "--method",
                   "--format", "--batch", "--dataset", "--data-dir", "--cache-dir",
                   "--rebuild-index", "--evaluate", "--eval-users", "--seed", "--jobs",
                   "--log-level"):
        assert option in out


@pytest.mark.parametrize("argv", [
    ["--no-such-option"],
    [],                                            # neither --movie-title nor --batch
    ["--movie-title", "   "],                      # empty title
    ["--movie-title", "Toy Story", "--top", "0"],
    ["--movie-title", "Toy Story", "--min-ratings", "-1"],
    ["--movie-title", "Toy Story", "--method", "magic"],
    ["--movie-title", "Toy Story", "--dataset", "ml-1b"],
    ["--movie-title", "Toy Story", "--batch", "queries.txt"],
    ["--evaluate", "--jobs", "0"],
])
def test_usage_errors_exit_two(argv: list[str]) -> None:
    """argparse rejects bad or missing options with exit code 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


def test_table_output_on_known_answer(run) -> None:
    """Fans of Toy Story loved Toy Story 2 and Amelie, never the action films."""
    code, out = run("--movie-title", "Toy Story")
    assert code == 0
    matches, recommendations = out.split("Recommendations for", 1)
    assert "-> 1.00  Toy Story (1995)" in matches
    heading, _, _, *rows = recommendations.splitlines()
    assert heading.startswith(" Toy Story (1995) (method: sequential)")
    assert rows[0].split()[:5] == ["1", "Toy", "Story", "2", "1999"]
    assert "Amelie" in rows[1]
    assert not any("Matrix" in row or " Toy Story  " in row for row in rows)


def test_json_output_is_the_documented_object(run) -> None:
    """``--format json`` gives the query, the matched movie, candidates and recommendations."""
    code, out = run("--movie-title", "The Matrix", "--format", "json", "--top", "2")
    assert code == 0
    record = json.loads(out)
    assert record["query"] == {"text": "The Matrix", "year": None}
    assert record["matched_movie"] == {"movieId": 3, "title": "Matrix, The (1999)", "year": 1999,
                                       "genres": ["Action", "Sci-Fi", "Thriller"],
                                       "match_score": 1.0}
    assert record["method"] == "sequential" and record["fallback"] is False
    recommended = [rec["movieId"] for rec in record["recommendations"]]
    assert set(recommended) == {4, 8}  # Terminator and Aliens, the other action films
    first = record["recommendations"][0]
    assert set(first) == {"rank", "movieId", "title", "year", "genres", "score", "reason"}
    assert first["rank"] == 1 and first["score"] > 0 and "fans" in first["reason"]


def test_genre_and_min_ratings_filters(run) -> None:
    """--genre keeps only that genre; --min-ratings drops thinly rated movies, and when
    nothing is left the answer says the filters did it."""
    _, out = run("--movie-title", "Toy Story", "--genre", "romance", "--format", "json")
    assert [rec["movieId"] for rec in json.loads(out)["recommendations"]] == [5]
    _, out = run("--movie-title", "Toy Story", "--min-ratings", "7", "--format", "json")
    record = json.loads(out)
    assert record["recommendations"] == []
    assert (record["basis"], record["fallback_reason"]) == ("content-based", "filtered_out")


def test_year_picks_the_remake(run) -> None:
    """--year (or a year in the title) chooses between remakes."""
    _, out = run("--movie-title", "Hamlet", "--year", "1948", "--format", "json")
    assert json.loads(out)["matched_movie"]["movieId"] == 6
    _, out = run("--movie-title", "Hamlet", "--format", "json")
    assert json.loads(out)["matched_movie"]["movieId"] == 7  # the more rated one


def test_movie_without_fans_gets_a_labelled_fallback(run) -> None:
    """Nobody liked Lonely Film: the answer says so and recommends by content."""
    code, out = run("--movie-title", "Lonely Film", "--format", "json")
    assert code == 0
    record = json.loads(out)
    assert (record["basis"], record["fallback"], record["fallback_reason"]) == \
        ("content-based", True, "no_fans")
    recs = record["recommendations"]
    assert recs[0]["movieId"] == 5  # Amelie: both Comedy and Romance
    assert recs[0]["reason"] == "content-based: shares Comedy, Romance; 6 ratings"
    assert all(rec["reason"].startswith("content-based: ") for rec in recs)
    _, table = run("--movie-title", "Lonely Film")
    assert "FALLBACK: nobody liked this movie (rated it 4 or more); content-based" in table


@pytest.fixture(name="tagged_dir")
def fixture_tagged_dir(tmp_path: Path, tiny_rows: tuple, make_movielens) -> Path:
    """The tiny set plus one fan (user 13) for Romance of Amelie, and a tags.csv that
    ties Amelie to it ("paris") and Toy Story to Hamlet 1996 ("classic")."""
    movies, ratings = tiny_rows
    folder = make_movielens(tmp_path / "tagged", movies, ratings + [(13, 10, 5.0, 1)])
    (folder / "tags.csv").write_text(
        "userId,movieId,tag,timestamp\n1,5,Paris,1\n2,10,paris,2\n3,5,whimsical,3\n"
        "1,1,classic,4\n2,7,Classic ,5\n", encoding="utf-8")
    return folder


def test_too_few_fans_back_off_to_genres_and_tags(tagged_dir: Path, cache_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """One fan is below MIN_FANS: no "100 % of its 1 fans", but a content-based list in
    which the shared tag puts Amelie ahead of Lonely Film (same genre overlap)."""
    argv = ["--data-dir", str(tagged_dir), "--cache-dir", str(cache_dir), "--min-ratings", "1",
            "--movie-title", "Romance of Amelie"]
    assert main([*argv, "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["matched_movie"]["movieId"] == 10
    assert record["fallback_reason"] == "too_few_fans"
    assert [rec["movieId"] for rec in record["recommendations"]][:2] == [5, 9]
    assert record["recommendations"][0]["reason"] == \
        "content-based: shares Romance; tags paris; 6 ratings"
    assert main(argv) == 0
    assert "FALLBACK: only 1 user liked this movie, fewer than 5; content-based" in \
        capsys.readouterr().out


def test_filters_that_empty_the_list_are_named(tagged_dir: Path, cache_dir: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Toy Story's fans liked no Romance movie with 7 ratings: the content-based list
    (under the same filters) finds Hamlet 1996 through the shared tag."""
    argv = ["--data-dir", str(tagged_dir), "--cache-dir", str(cache_dir), "--movie-title",
            "Toy Story", "--genre", "Romance", "--min-ratings", "7"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "FALLBACK: nothing its fans liked passes --genre / --min-ratings" in out
    assert "content-based: tags classic; 7 ratings" in out
    assert main([*argv, "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["fallback_reason"] == "filtered_out"
    assert [rec["movieId"] for rec in record["recommendations"]] == [7]


def test_unknown_title_is_one_error_line(run) -> None:
    """An unknown title exits 1 with one ERROR line on stderr and no traceback."""
    code, out = run("--movie-title", "qqqq zzzz")
    assert code == 1 and out == ""
    errors = [line for line in run.err.splitlines() if line.startswith("ERROR")]
    assert errors == ["ERROR movie_recommendations: no movie matches 'qqqq zzzz'"]
    assert "Traceback" not in run.err


def test_unknown_genre_is_an_error(run) -> None:
    """A genre no movie has exits 1 and lists the known ones."""
    code, _ = run("--movie-title", "Toy Story", "--genre", "Western")
    assert code == 1
    assert "unknown genre 'Western'; choose from Action, Adventure" in run.err


def test_missing_data_dir_is_an_error(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A --data-dir without the CSVs exits 1 naming the missing file, in one line."""
    code = main(["--data-dir", str(tmp_path), "--cache-dir", str(tmp_path / "cache"),
                 "--movie-title", "Toy Story"])
    assert code == 1
    err = capsys.readouterr().err
    assert "movies.csv not found" in err and len(err.splitlines()) == 1


def test_batch_writes_one_json_line_per_query(run, tmp_path: Path) -> None:
    """--batch answers titles and id:<movieId> lines; a failing line gets an error object."""
    queries = tmp_path / "queries.txt"
    queries.write_text("Toy Story\n\nid:3\nqqqq zzzz\nid:12345\nid:x\n", encoding="utf-8")
    code, out = run("--batch", str(queries), "--top", "1")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # three lines failed
    assert [r["query"]["text"] for r in records] == ["Toy Story", "id:3", "qqqq zzzz",
                                                     "id:12345", "id:x"]
    assert records[0]["matched_movie"]["movieId"] == 1
    assert records[0]["recommendations"][0]["movieId"] == 2
    assert records[1]["matched_movie"]["movieId"] == 3
    assert records[2]["error"].startswith("no movie matches")
    assert records[3]["error"] == "no movie has movieId 12345"
    assert records[4]["error"] == "'id:x' is not id:<movieId>"


def test_batch_all_good_exits_zero(run, tmp_path: Path) -> None:
    """A batch whose every query is answered exits 0."""
    queries = tmp_path / "queries.txt"
    queries.write_text("Amelie\nterminator\n", encoding="utf-8")
    code, out = run("--batch", str(queries))
    assert code == 0
    assert [json.loads(line)["matched_movie"]["movieId"] for line in out.splitlines()] == [5, 4]


def test_missing_batch_file_is_an_error(run, tmp_path: Path) -> None:
    """An unreadable --batch file exits 1 with one line naming it, and answers nothing."""
    missing = tmp_path / "nope.txt"
    code, out = run("--batch", str(missing))
    assert code == 1 and out == ""
    errors = [line for line in run.err.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and f"cannot read --batch file {missing}" in errors[0]
    assert "Traceback" not in run.err


def test_batch_dash_reads_standard_input(run, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--batch -`` answers the lines of standard input."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("Toy Story\n\nid:3\n"))
    code, out = run("--batch", "-")
    assert code == 0
    assert [json.loads(line)["matched_movie"]["movieId"] for line in out.splitlines()] == [1, 3]


@pytest.mark.parametrize(("args", "message"), [
    (["--movie-titel", "Toy Story"], "unknown option --movie-titel; did you mean --movie-title?"),
    (["--movie-title", "Toy Story", "--top", "abc"],
     "argument --top: must be a whole number, not 'abc'"),
])
def test_usage_errors_say_what_is_wrong(args: list[str], message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped option is named with a suggestion; a bad number is worded for people."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(message)


def test_closed_pipe_ends_quietly(bundled_dir: Path, cache_dir: Path) -> None:
    """``| head -1`` on a table longer than the pipe's buffer: exit 0, no traceback."""
    script = Path(__file__).resolve().parents[1] / "movie_recommendations.py"
    with subprocess.Popen([sys.executable, str(script), "--data-dir", str(bundled_dir),
                           "--cache-dir", str(cache_dir), "--movie-title", "Toy Story",
                           "--min-ratings", "0", "--top", "2000"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        process.stdout.readline()
        process.stdout.close()  # the reader leaves before the tool is done writing
        err = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_evaluate_prints_every_method(bundled_dir: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """--evaluate reports HR@10 and NDCG@10 of every method (JSON on request), here
    sharing the queries between two processes."""
    code = main(["--data-dir", str(bundled_dir), "--cache-dir", str(tmp_path), "--evaluate",
                 "--format", "json", "--eval-users", "5", "--seed", "1", "--jobs", "2"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert [m["method"] for m in report["results"]] == ["sequential", "cosine", "lift",
                                                        "popular"]
    assert all(m["n_users"] == 5 and 0 <= m["hit_rate"] <= 1 for m in report["results"])
    assert report["n_eligible"] > 500


def test_evaluate_without_enough_likes_is_an_error(run) -> None:
    """A set where nobody has 5 liked movies cannot be evaluated: exit 1, one line."""
    code, _ = run("--evaluate")
    assert code == 1
    assert "no user has at least 5 liked ratings" in run.err


def test_bundled_data_works_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With no --data-dir the bundled ml-latest-small answers (the index goes to --cache-dir)."""
    assert main(["--cache-dir", str(tmp_path), "--movie-title", "Toy Story", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "Toy Story (1995)  [movieId 1]" in out and "Toy Story 2" in out
    assert list((tmp_path / "index").iterdir())


@pytest.mark.parametrize("cwd", [SCRIPT.parents[1], SCRIPT.parent])
def test_script_runs_from_any_directory(cwd: Path) -> None:
    """The script imports its package from the repo root and from its own folder."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], cwd=cwd,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_index_from_an_older_model_is_rebuilt(run, cache_dir: Path) -> None:
    """An index lacking an array the code now needs is rebuilt instead of failing."""
    assert run("--movie-title", "Toy Story")[0] == 0
    index_folder = next((cache_dir / "index").iterdir())
    manifest = json.loads((index_folder / "manifest.json").read_text(encoding="utf-8"))
    build = manifest["build"]
    del manifest["arrays"]["model.item_pos"]  # as if written by an older version
    (index_folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out = run("--movie-title", "Toy Story")
    assert code == 0 and "Toy Story 2" in out
    assert "rebuilding it" in run.err
    assert not (index_folder / build).exists()


def test_named_dataset_comes_from_the_download_cache(tiny_dir: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """--dataset ml-25m uses the already downloaded copy in --cache-dir (no network)."""
    cache = tmp_path / "cache"
    shutil.copytree(tiny_dir, cache / "ml-25m")
    code = main(["--dataset", "ml-25m", "--cache-dir", str(cache), "--min-ratings", "1",
                 "--movie-title", "Toy Story", "--format", "json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["recommendations"][0]["movieId"] == 2


def test_warm_query_skips_heavy_imports(tiny_dir: Path, cache_dir: Path) -> None:
    """Once the index exists, a query imports none of pandas, scikit-learn, scipy, pyarrow
    or requests (together they cost seconds), nor the evaluation's process pool and
    progress bar (about 0.1 s)."""
    argv = ["--data-dir", str(tiny_dir), "--cache-dir", str(cache_dir), "--min-ratings", "1",
            "--movie-title", "Toy Story"]
    probe = ("import sys; import movie_recommendations as cli; code = cli.main(sys.argv[1:]); "
             "heavy = {'pandas', 'sklearn', 'scipy', 'pyarrow', 'requests', "
             "'multiprocessing', 'tqdm'}; "
             "print(sorted(heavy & {name.split('.')[0] for name in sys.modules})); "
             "sys.exit(code)")
    imported = []
    for _ in range(2):  # the first run builds the index, the second only queries it
        result = subprocess.run([sys.executable, "-c", probe, *argv], cwd=SCRIPT.parent,
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        imported.append(result.stdout.splitlines()[-1])
    assert "'sklearn'" in imported[0] and "'pyarrow'" in imported[0]  # the probe sees them
    assert imported[1] == "[]"


def test_ctrl_c_ends_with_one_line_and_exit_130(run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the index loads: one log line on stderr, no traceback, exit 130."""
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("movie_recommendations.load_recommender", interrupted)
    code, out = run("--movie-title", "Toy Story")
    assert (code, out) == (130, "")
    assert run.err.strip().splitlines() == ["ERROR movie_recommendations: interrupted"]


def test_batch_file_that_is_not_titles_stops_early(run, tiny_dir: Path, tmp_path: Path) -> None:
    """A ratings.csv or a file of junk given to --batch stops with one error line."""
    code, out = run("--batch", str(tiny_dir / "ratings.csv"))
    assert code == 1 and out == ""
    assert "looks like a MovieLens CSV" in run.err and run.err.count("WARNING") == 0
    junk = tmp_path / "junk.txt"
    junk.write_text("".join(f"qqqq zzzz {i}\n" for i in range(500)), encoding="utf-8")
    code, out = run("--batch", str(junk))
    assert code == 1 and len(out.splitlines()) == 19
    assert run.err.count("WARNING") == 19 and "all failed" in run.err


def test_read_only_cache_still_answers(tiny_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """An unwritable --cache-dir (here a file, so even root cannot write into it): the
    answer comes from an index built in memory, with one warning."""
    cache = tmp_path / "not-a-folder"
    cache.write_text("", encoding="utf-8")
    code = main(["--data-dir", str(tiny_dir), "--cache-dir", str(cache),
                 "--movie-title", "Toy Story", "--min-ratings", "1"])
    captured = capsys.readouterr()
    assert code == 0 and "Toy Story 2" in captured.out
    assert captured.err.count("WARNING") == 1 and "built in memory" in captured.err
    assert "ERROR" not in captured.err
