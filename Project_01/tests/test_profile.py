"""Recommendations from a ratings export: formats, matching, profile, protocol, bad input."""
from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import movie_recommendations
from movie_recommender import (liked, profile_ease, profile_evaluation, profile_scorers,
                               ratings_export)
from movie_recommender.liked import Ratings
from movie_recommender.profile_matching import (NothingMatchedError, ProfileMatcher,
                                                match_rows)
from movie_recommender.profile_scorers import make_profile, recommend_for_profile
from movie_recommender.ratings_export import RatingsFileError, read_export

# (what the export says, the movieId it must match) - built from the bundled titles:
# a leading article ("Godfather, The"), a year one off, an alternative title, an unknown one
LETTERBOXD_ROWS = [
    ("The Godfather", 1972, "5", 858),           # "Godfather, The (1972)"
    ("The Matrix", 1998, "4.5", 2571),           # year off by one (1999)
    ("Se7en", 1995, "4", 47),                    # "Seven (a.k.a. Se7en) (1995)"
    ("Toy Story", 1995, "4", 1),
    ("Alien", 1979, "4.5", 1214),
    ("Titanic", 1997, "2", 1721),
    ("Zzyzx Unknown Picture", 2003, "3", None),  # not in the catalogue
]


def letterboxd_file(folder: Path, rows: tuple | list | None = None) -> Path:
    """A Letterboxd ratings.csv of ``rows`` (default ``LETTERBOXD_ROWS``), one day apart."""
    rows = LETTERBOXD_ROWS if rows is None else rows
    lines = ["Date,Name,Year,Letterboxd URI,Rating"]
    start = datetime.date(2023, 1, 1).toordinal()
    lines += [f"{datetime.date.fromordinal(start + day)},{title},{year},https://boxd.it/x{day},"
              f"{rating}" for day, (title, year, rating, _) in enumerate(rows)]
    path = folder / "ratings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the CLI on the bundled data."""
    code = movie_recommendations.main(["--log-level", "WARNING", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_letterboxd_rows_match_known_movies(bundled, tmp_path):
    """Letterboxd rows match known movies."""
    export = read_export(letterboxd_file(tmp_path))
    assert export.format == "letterboxd"
    matched = match_rows(ProfileMatcher(bundled.catalog, bundled.titles), export.rows)
    found = [None if m.position is None else int(bundled.catalog.movie_ids[m.position])
             for m in matched]
    assert found == [movie_id for *_, movie_id in LETTERBOXD_ROWS]
    assert matched[0].score == 1.0 and matched[1].score < 1.0  # the year was one off


def test_imdb_export_matches_by_id_and_halves_ratings(tmp_path, capsys, cache_dir):
    """Imdb export matches by id and halves ratings."""
    path = tmp_path / "imdb.csv"
    path.write_text("Const,Your Rating,Date Rated,Title,URL,Title Type,Year\n"
                    "tt0068646,10,2023-01-01,Der Pate,u,movie,1972\n"    # id wins over title
                    "tt0133093,9,2023-01-02,The Matrix,u,movie,1999\n"
                    "tt9999999,8,2023-01-03,Alien,u,movie,1979\n",       # unknown id: by title
                    encoding="utf-8")
    code, out, _ = run_cli(capsys, "--cache-dir", str(cache_dir), "--ratings-file", str(path),
                           "--format", "json")
    assert code == 0
    answer = json.loads(out)
    assert [row["movieId"] for row in answer["profile"]] == [858, 2571, 1214]
    assert [row["rating"] for row in answer["profile"]] == [5.0, 4.5, 4.0]


def test_plain_formats_are_recognised(tmp_path):
    """Plain formats are recognised."""
    by_id = tmp_path / "ids.csv"
    by_id.write_text("movieId,rating,timestamp\n1,4.0,964982703\n858,5.0,964982800\n",
                     encoding="utf-8")
    by_title = tmp_path / "titles.csv"
    by_title.write_text("title,rating,year,date\nThe Matrix,5,1999,2020-01-01\n",
                        encoding="utf-8")
    assert read_export(by_id).format == "movieid"
    assert [row.movie_id for row in read_export(by_id).rows] == [1, 858]
    assert read_export(by_title).rows[0].year == 1999


def test_no_rated_movie_is_recommended(bundled, tmp_path):
    """No rated movie is recommended."""
    export = read_export(letterboxd_file(tmp_path))
    matched = match_rows(ProfileMatcher(bundled.catalog, bundled.titles), export.rows)
    positions = np.array([m.position for m in matched if m.position is not None])
    ratings = np.array([m.row.rating for m in matched if m.position is not None])
    times = np.array([m.row.timestamp for m in matched if m.position is not None])
    profile = make_profile(positions, ratings, times, liked.LIKED_THRESHOLD)
    assert len(profile.liked) == 5  # Titanic (2) is rated, not liked
    found = recommend_for_profile(bundled.model, profile, top=200)
    assert len(found) == 200
    assert not set(positions.tolist()) & {rec.item for rec in found}
    assert all(set(rec.because) <= set(profile.liked.tolist()) and rec.because
               for rec in found)


def test_cli_table_says_why(capsys, tmp_path, cache_dir):
    """Cli table says why."""
    code, out, _ = run_cli(capsys, "--cache-dir", str(cache_dir), "--ratings-file",
                           str(letterboxd_file(tmp_path)), "--genre", "Crime")
    assert code == 0
    assert "Matched 6 of 7 rows" in out and "Zzyzx Unknown Picture (2003)" in out
    table = out.split("Recommendations for you:")[1].splitlines()[3:]
    assert len(table) == 10 and all("because you liked " in line for line in table)
    assert all("Crime" in line for line in table)
    assert not any("Godfather " in line.split("because")[0] for line in table)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"Date,Name,Year,Letterboxd URI,Rating\n", "header but no rows"),
    (b"userId,foo\n1,2\n", "unknown ratings format (header: userId,foo)"),
    (b"Date,Name,Year,Letterboxd URI,Rating\n2023-01-01,Alien,1979,u,7\n",
     "line 2: rating 7 is outside its scale 0.5-5"),
    (b"Const,Your Rating,Date Rated,Title,URL,Title Type,Year\n"
     b"tt0078748,11,2023-01-01,Alien,u,movie,1979\n",
     "line 2: rating 11 is outside its scale 1-10"),
    (b'title,rating\nAlien,4\n"Aliens,5\nHeat,4\n', "line 3: a quote opened here is never closed"),
    (b"\x00\x01\xff,x\n1,2\n", "unknown ratings format (header: ??ÿ,x)"),
    (b"movieId,rating\nabc,4\n", "line 2: movieId 'abc' is not a number"),
])
def test_bad_files_give_one_line(capsys, tmp_path, cache_dir, content, message):
    """Bad files give one line."""
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    code, out, err = run_cli(capsys, "--cache-dir", str(cache_dir), "--ratings-file", str(path))
    assert (code, out) == (1, "")
    assert message in err and len(err.strip().splitlines()) == 1


def test_directory_and_missing_file_give_one_line(capsys, tmp_path, cache_dir):
    """A directory or a missing path as --ratings-file: exit 1, one line."""
    for path, message in ((tmp_path, "is a directory, not a ratings export"),
                          (tmp_path / "nope.csv", "nope.csv not found")):
        code, out, err = run_cli(capsys, "--cache-dir", str(cache_dir), "--ratings-file",
                                 str(path))
        assert (code, out) == (1, "")
        assert message in err and len(err.strip().splitlines()) == 1


def test_a_large_diary_is_read_in_bounded_memory(tmp_path):
    """Rewatches of a long diary are merged while reading: memory holds distinct rows only."""
    path = tmp_path / "diary.csv"
    with path.open("w", encoding="utf-8") as stream:
        stream.write("Date,Name,Year,Letterboxd URI,Rating\n")
        for day in range(60_000):
            stream.write(f"2023-01-01,Film {day % 50},2000,u,{1 + day % 5}\n")
    seen = []
    export = read_export(path, on_progress=seen.append)
    assert len(export.rows) == 50 and export.duplicates == 60_000 - 50
    assert seen == sorted(seen) and seen[-1] == path.stat().st_size and len(seen) > 10


def test_too_many_distinct_movies_is_not_a_personal_export(tmp_path, monkeypatch):
    """More distinct rows than MAX_DISTINCT_ROWS is refused with one line."""
    monkeypatch.setattr(ratings_export, "MAX_DISTINCT_ROWS", 100)
    path = tmp_path / "many.csv"
    path.write_text("title,rating\n" + "".join(f"Film {n},4\n" for n in range(101)),
                    encoding="utf-8")
    with pytest.raises(RatingsFileError, match="more than 100 distinct movies"):
        read_export(path)


def test_nothing_matched_names_the_first_title(capsys, tmp_path, cache_dir):
    """Nothing matched names the first title."""
    rows = [(f"Qwxz Nonexistent {n}", 2001, "4", None) for n in range(37)]
    code, _, err = run_cli(capsys, "--cache-dir", str(cache_dir), "--ratings-file",
                           str(letterboxd_file(tmp_path, rows)))
    assert code == 1
    assert "none of the 37 titles matched; first unmatched: Qwxz Nonexistent 0 (2001)" in err


def test_directory_bom_and_latin1(tmp_path, bundled):
    """Directory bom and latin1."""
    with pytest.raises(RatingsFileError, match="is a directory"):
        read_export(tmp_path)
    path = tmp_path / "latin.csv"
    path.write_bytes(b"\xef\xbb\xbftitle,rating,year\n"
                     + "Amélie,5,2001\n".encode("latin-1"))
    export = read_export(path)
    assert export.rows[0].title == "Amélie"
    matched = match_rows(ProfileMatcher(bundled.catalog, bundled.titles), export.rows)
    assert bundled.catalog.movie_ids[matched[0].position] == 4973


def test_duplicate_rows_keep_the_newest(tmp_path):
    """Duplicate rows keep the newest."""
    path = tmp_path / "diary.csv"
    path.write_text("Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n"
                    "2023-01-01,Alien,1979,u,3,,,2022-12-31\n"
                    "2023-02-01,Alien,1979,u,5,Yes,,2023-02-01\n", encoding="utf-8")
    export = read_export(path)
    assert export.duplicates == 1 and [row.rating for row in export.rows] == [5.0]


def test_nothing_matched_error_is_named(bundled):
    """Nothing matched error is named."""
    row = ratings_export.ExportRow(2, "Qwxz", None, None, None, 4.0, None)
    with pytest.raises(NothingMatchedError, match="none of the 1 titles"):
        match_rows(ProfileMatcher(bundled.catalog, bundled.titles), [row])


def _ratings_with_users(n_users: int, n_items: int, seed: int = 0) -> Ratings:
    rng = np.random.default_rng(seed)
    users, items, values = [], [], []
    for user in range(n_users):
        chosen = rng.choice(n_items, 30, replace=False)
        users += [user] * 30
        items += chosen.tolist()
        values += rng.choice([3.0, 4.0, 5.0], 30, p=[0.1, 0.45, 0.45]).tolist()
    return Ratings(np.array(users, dtype=np.int32), np.array(items, dtype=np.int32),
                   np.array(values, dtype=np.float32), np.arange(len(users), dtype=np.int64),
                   n_users, n_items)


def test_profile_protocol_never_trains_on_evaluated_users():
    """Profile protocol never trains on evaluated users."""
    ratings = _ratings_with_users(40, 60)
    split = profile_evaluation.profile_split(ratings)
    users = np.array([case.user for case in split.test])
    for fold in range(profile_evaluation.FOLDS):
        evaluated = users[split.fold == fold]
        models = profile_evaluation.FoldModels(ratings, evaluated)
        trained_users = np.flatnonzero(np.diff(models.model.user_indptr))
        assert len(evaluated) and not set(evaluated) & set(trained_users.tolist())
    for test, validation in zip(split.test, split.validation):
        assert test.target not in test.profile.rated
        assert validation.target in test.profile.liked  # validation is one like earlier
        assert validation.target not in validation.profile.rated


def test_profile_protocol_reports_every_method():
    """Profile protocol reports every method."""
    report = profile_evaluation.evaluate_profiles(
        _ratings_with_users(40, 60), grid=[profile_evaluation.COSINE], lambdas=(10.0,))
    assert [r.method for r in report.results] == ["ease", "item-item", "cosine", "popular"]
    assert all(r.n_users == report.n_eligible > 0 for r in report.results)


def test_ease_weights_are_cached_beside_the_index(capsys, tmp_path, cache_dir, caplog):
    """The first --ratings-file fits EASE and stores it; the next one reads it back."""
    path = str(letterboxd_file(tmp_path))
    code, first, _ = run_cli(capsys, "--cache-dir", str(cache_dir), "--ratings-file", path,
                             "--format", "json")
    stored = list(cache_dir.glob("index/*/build-*/ease-*/weights.npy"))
    assert code == 0 and len(stored) == 1
    caplog.clear()
    with caplog.at_level("INFO", logger="movie_recommender.profile_ease"):
        code, second, _ = run_cli(capsys, "--cache-dir", str(cache_dir), "--ratings-file",
                                  path, "--format", "json")
    assert code == 0 and first == second
    assert not [r for r in caplog.records if "fitting EASE" in r.getMessage()]
    recommendations = json.loads(first)["recommendations"]
    assert [rec["method"] for rec in recommendations] == ["ease"] * 10


def test_ease_in_a_read_only_cache_answers_with_one_warning(capsys, tmp_path, cache_dir,
                                                            monkeypatch):
    """A cache folder that cannot take the EASE weights still answers, with one warning."""
    path = str(letterboxd_file(tmp_path))
    run_cli(capsys, "--cache-dir", str(cache_dir), "--ratings-file", path)
    for stored in cache_dir.glob("index/*/build-*/ease-*"):
        shutil.rmtree(stored)

    def refuse(*_, **__):  # what a read-only folder does (chmod does not stop root)
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(profile_ease.tempfile, "mkdtemp", refuse)
    code, out, err = run_cli(capsys, "--cache-dir", str(cache_dir), "--ratings-file", path)
    assert code == 0 and "Recommendations for you:" in out
    assert len(err.strip().splitlines()) == 1
    assert "cannot store the EASE weights" in err and "Permission denied" in err
    assert not list(cache_dir.glob("index/*/build-*/ease-*"))


def test_ease_explains_with_the_largest_contributions(bundled):
    """EASE's "because" names the liked movies with the largest B[i, j] shares."""
    ease = profile_ease.fit(bundled.model)
    liked_ids = [858, 2571, 1214, 1, 47]
    positions = np.array([bundled.catalog.position(i) for i in liked_ids])
    profile = make_profile(positions, np.full(5, 5.0), np.arange(1, 6), liked.LIKED_THRESHOLD)
    found = profile_ease.recommend(ease, bundled.model, profile, top=5)
    assert len(found) == 5 and not {rec.item for rec in found} & set(positions.tolist())
    rows = ease.columns(positions)
    weights = profile_scorers.like_weights(profile, profile_ease.RECENCY)
    for rec in found:
        shares = weights * ease.weights[rows, ease.columns(np.array([rec.item]))[0]]
        assert rec.because == [int(positions[i]) for i in np.argsort(-shares)[:2]]
        assert rec.score == pytest.approx(float(shares.sum()), rel=1e-4)


def test_ease_tops_up_with_item_item_when_it_finds_too_few(bundled):
    """When EASE covers too few movies, item-item fills the list."""
    ease = profile_ease.fit(bundled.model, limit=50)
    profile = make_profile(np.array([bundled.catalog.position(858)]), np.array([5.0]),
                           np.array([1]), liked.LIKED_THRESHOLD)
    found = profile_ease.recommend(ease, bundled.model, profile, top=60)
    methods = [rec.method for rec in found]
    assert len(found) == 60 and "item-item" in methods
    assert methods == sorted(methods)  # EASE first ("ease" < "item-item"), then item-item
    assert len({rec.item for rec in found}) == 60


def test_ease_dual_form_gives_the_same_weights():
    """With fewer users than movies EASE inverts X X^T: the same B as inverting X^T X."""
    liked_matrix = (np.random.default_rng(1).random((6, 9)) < 0.4).astype(np.float64)
    dual = profile_ease.ease_weights(liked_matrix, 2.0)
    primal = profile_ease.ease_weights(np.vstack([liked_matrix, np.zeros((4, 9))]), 2.0)
    assert dual.shape == primal.shape == (9, 9)  # 10 rows: the primal (X^T X) path
    np.testing.assert_allclose(dual, primal, atol=1e-5)
    assert np.abs(dual).max() > 0.01 and not np.diag(dual).any()


def test_evaluate_profile_protocol_on_the_command_line(capsys, tmp_path, make_movielens):
    """--evaluate --protocol profile reports EASE, item-item, cosine and popular as JSON."""
    ratings = _ratings_with_users(40, 60)
    movies = [(item + 1, f"Film {item} (2000)", "Drama") for item in range(60)]
    rows = [(int(u) + 1, int(i) + 1, float(r), 1_000_000 + int(t)) for u, i, r, t in zip(
        ratings.user_idx, ratings.item_idx, ratings.rating, ratings.timestamp)]
    folder = make_movielens(tmp_path / "set", movies, rows)
    eligible = sum((ratings.rating[ratings.user_idx == u] >= 4).sum() >= 20 for u in range(40))
    code, out, _ = run_cli(capsys, "--data-dir", str(folder), "--cache-dir",
                           str(tmp_path / "cache"), "--evaluate", "--protocol", "profile",
                           "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["protocol"] == "profile" and report["n_eligible"] == eligible > 0
    assert [r["method"] for r in report["results"]] == ["ease", "item-item", "cosine",
                                                        "popular"]
    assert all(r["n_users"] == eligible and 0 <= r["hit_rate"] <= 1 for r in report["results"])
    assert report["ease_lambda"] in profile_evaluation.EASE_LAMBDAS


def test_evaluate_profile_protocol_without_enough_likes(capsys, tmp_path, make_movielens):
    """A set where nobody has 20 likes cannot be evaluated: exit 1, one line."""
    folder = make_movielens(tmp_path / "set", [(1, "Film (2000)", "Drama")],
                            [(user, 1, 5.0, 1) for user in range(1, 30)])
    code, out, err = run_cli(capsys, "--data-dir", str(folder), "--cache-dir",
                             str(tmp_path / "cache"), "--evaluate", "--protocol", "profile")
    assert (code, out) == (1, "")
    assert "no user has 20 liked ratings" in err and len(err.strip().splitlines()) == 1
