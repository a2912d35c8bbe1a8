"""The binary index: round trip, staleness, corruption and atomic writes."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from movie_recommender import index, index_build
from movie_recommender.recommender import Recommender

QUERIES = ["Toy Story", "The Matrix", "Amelie", "Hamlet", "Lonely Film"]


@pytest.fixture(name="builds")
def fixture_builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every index build (the folders built from)."""
    calls: list[Path] = []
    real_build = index_build.build_arrays

    def counting_build(folder: Path, *, progress: bool | None = None) -> dict:
        calls.append(folder)
        return real_build(folder, progress=progress)
    monkeypatch.setattr(index_build, "build_arrays", counting_build)
    return calls


def answers(recommender: Recommender) -> list[tuple]:
    """What each of ``QUERIES`` gives: matches and recommendations with scores."""
    result = []
    for query in QUERIES:
        matches = recommender.find(query)
        answer = recommender.recommend(matches, method="sequential", top=5)
        result.append(([(m.position, m.score) for m in matches], answer.fallback,
                       [(r.item, round(r.score, 9), r.reason) for r in answer.recommendations]))
    return result


def test_fresh_build_and_memory_mapped_load_agree(tiny_dir: Path, cache_dir: Path,
                                                  builds: list[Path]) -> None:
    """The index opened memory-mapped answers exactly like the arrays fresh from the CSVs."""
    fresh = Recommender.from_arrays(index_build.build_arrays(tiny_dir, progress=False))
    index.open_index(tiny_dir, cache_dir, progress=False)
    loaded_arrays = index.open_index(tiny_dir, cache_dir, progress=False)
    assert len(builds) == 2  # the fresh build and the first open; the second reused it
    assert isinstance(loaded_arrays["model.user_items"].base, np.memmap)
    assert answers(Recommender.from_arrays(loaded_arrays)) == answers(fresh)


def test_index_lives_under_the_cache_dir_only(tiny_dir: Path, cache_dir: Path) -> None:
    """Everything is written below --cache-dir; no temporary folder is left behind."""
    index.open_index(tiny_dir, cache_dir, progress=False)
    folder = index.index_dir(cache_dir, tiny_dir)
    assert folder.is_relative_to(cache_dir)
    entries = sorted(entry.name for entry in folder.iterdir())
    assert entries[-1] == "manifest.json" and len(entries) == 2
    assert entries[0].startswith("build-")


def test_adding_tags_rebuilds_with_the_tags(tiny_dir: Path, cache_dir: Path,
                                           builds: list[Path]) -> None:
    """tags.csv is optional, but once it appears the index is rebuilt and holds the tags."""
    arrays = index.open_index(tiny_dir, cache_dir, progress=False)
    assert len(arrays["tags.term"]) == 0
    (tiny_dir / "tags.csv").write_text("userId,movieId,tag,timestamp\n1,5,Paris,1\n"
                                       "2,10,paris ,2\n3,99,unknown movie,3\n",
                                       encoding="utf-8")
    arrays = index.open_index(tiny_dir, cache_dir, progress=False)
    assert len(builds) == 2
    tags = Recommender.from_arrays(arrays).tags
    assert list(tags.vocabulary) == ["paris"]
    assert tags.cosines(4)[[4, 9]].tolist() == pytest.approx([1.0, 1.0])  # movieIds 5, 10


@pytest.mark.parametrize("change", ["touch", "edit_same_size", "append"])
def test_changed_source_rebuilds(tiny_dir: Path, cache_dir: Path, builds: list[Path],
                                 tiny_rows: tuple, change: str) -> None:
    """Touching or editing a source CSV makes the next open rebuild the index."""
    index.open_index(tiny_dir, cache_dir, progress=False)
    ratings = tiny_dir / "ratings.csv"
    stat = ratings.stat()
    if change == "touch":
        os.utime(ratings, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    elif change == "edit_same_size":  # same size, same mtime: only the content digest sees it
        ratings.write_text(ratings.read_text(encoding="utf-8").replace(",5.0,", ",4.0,", 1),
                           encoding="utf-8")
        os.utime(ratings, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert ratings.stat().st_size == stat.st_size
    else:
        with ratings.open("a", encoding="utf-8") as stream:
            stream.write("13,1,5.0,2000000000\n")
    arrays = index.open_index(tiny_dir, cache_dir, progress=False)
    assert len(builds) == 2
    expected = len(tiny_rows[1]) + (1 if change == "append" else 0)
    assert int(arrays["catalog.n_ratings"].sum()) == expected


def test_index_built_by_other_code_is_rebuilt(tiny_dir: Path, cache_dir: Path,
                                              builds: list[Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """After a code update that may change what the arrays mean, the index is rebuilt."""
    index.open_index(tiny_dir, cache_dir, progress=False)
    index.open_index(tiny_dir, cache_dir, progress=False)
    assert len(builds) == 1
    monkeypatch.setattr(index, "code_digest", lambda: "digest of other code")
    index.open_index(tiny_dir, cache_dir, progress=False)
    assert len(builds) == 2


def test_code_digest_covers_the_build_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest reads every module that decides the index's content, and only depends on it."""
    package = Path(index.__file__).parent
    assert all((package / name).is_file() for name in index.BUILD_MODULES)
    full = index.code_digest()
    assert index.code_digest() == full
    monkeypatch.setattr(index, "BUILD_MODULES", index.BUILD_MODULES[:-1])
    assert index.code_digest() != full


def test_rebuild_flag_forces_a_build(tiny_dir: Path, cache_dir: Path,
                                     builds: list[Path]) -> None:
    """``rebuild=True`` (--rebuild-index) builds even when the index is current."""
    index.open_index(tiny_dir, cache_dir, progress=False)
    index.open_index(tiny_dir, cache_dir, rebuild=True, progress=False)
    assert len(builds) == 2
    assert len(list(index.index_dir(cache_dir, tiny_dir).glob("build-*"))) == 1


def _current_build(cache_dir: Path, tiny_dir: Path) -> Path:
    folder = index.index_dir(cache_dir, tiny_dir)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return folder / manifest["build"]


def _truncate_array(cache_dir: Path, tiny_dir: Path) -> None:
    path = _current_build(cache_dir, tiny_dir) / "model.user_items.npy"
    path.write_bytes(path.read_bytes()[:-8])


def _garble_header(cache_dir: Path, tiny_dir: Path) -> None:
    path = _current_build(cache_dir, tiny_dir) / "title.idf.npy"
    data = path.read_bytes()
    path.write_bytes(b"garbage!" + data[8:])


def _delete_array(cache_dir: Path, tiny_dir: Path) -> None:
    (_current_build(cache_dir, tiny_dir) / "catalog.years.npy").unlink()


def _garble_manifest(cache_dir: Path, tiny_dir: Path) -> None:
    (index.index_dir(cache_dir, tiny_dir) / "manifest.json").write_text("{not json",
                                                                         encoding="utf-8")


def _old_format(cache_dir: Path, tiny_dir: Path) -> None:
    path = index.index_dir(cache_dir, tiny_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = index.FORMAT_VERSION - 1
    path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("damage", [_truncate_array, _garble_header, _delete_array,
                                    _garble_manifest, _old_format])
def test_damaged_or_outdated_index_is_rebuilt(tiny_dir: Path, cache_dir: Path,
                                              builds: list[Path], damage) -> None:
    """A truncated, garbled, incomplete or old-format index is rebuilt, never used."""
    expected = answers(Recommender.from_arrays(index.open_index(tiny_dir, cache_dir,
                                                                progress=False)))
    damage(cache_dir, tiny_dir)
    recovered = Recommender.from_arrays(index.open_index(tiny_dir, cache_dir, progress=False))
    assert len(builds) == 2
    assert answers(recovered) == expected


def test_unwritable_cache_is_one_clear_error(tiny_dir: Path, tmp_path: Path) -> None:
    """A cache path that cannot hold folders gives IndexWriteError, not a traceback."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(index.IndexWriteError, match="cannot write the index"):
        index.open_index(tiny_dir, blocker, progress=False)


def test_content_digest_samples_large_files(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the whole-file limit the digest samples blocks, and still sees edits in them."""
    monkeypatch.setattr(index, "WHOLE_FILE_LIMIT", 1024)
    monkeypatch.setattr(index, "SAMPLE_BLOCK_SIZE", 64)
    path = tmp_path / "big.csv"
    data = bytearray(os.urandom(100_000))
    path.write_bytes(bytes(data))
    before = index.content_digest(path)
    data[len(data) - 10] ^= 0xFF  # inside the last sampled block
    path.write_bytes(bytes(data))
    assert index.content_digest(path) != before


def test_each_source_folder_has_its_own_index(tmp_path: Path, cache_dir: Path,
                                              tiny_rows: tuple, make_movielens) -> None:
    """Two data folders never share (or overwrite) each other's index."""
    movie_rows, rows = tiny_rows
    first = make_movielens(tmp_path / "a" / "set", movie_rows, rows)
    second = make_movielens(tmp_path / "b" / "set", movie_rows[:5],
                            [row for row in rows if row[1] <= 5])
    assert index.index_dir(cache_dir, first) != index.index_dir(cache_dir, second)
    assert len(index.open_index(first, cache_dir, progress=False)["catalog.movie_ids"]) == 10
    assert len(index.open_index(second, cache_dir, progress=False)["catalog.movie_ids"]) == 5
