"""Downloading MovieLens zips: checksum, resume, safe extraction and errors (local server only)."""
import hashlib
import io
import re
import sys
from pathlib import Path

import pytest
import requests

from movie_recommender import MovieRecommenderError
from movie_recommender.download import (DownloadError, InterruptedDownloadError,
                                        UnknownDatasetError, download_to_part, fetch_dataset,
                                        is_safe_member, parse_md5)
from movie_recommender.locations import default_cache_dir

NAME = "ml-25m"
ZIP_PATH = f"/{NAME}.zip"


@pytest.fixture(name="archive")
def fixture_archive(make_zip, movielens_csvs) -> bytes:
    """A MovieLens-shaped zip: the CSVs inside a top-level ``ml-25m/`` folder."""
    members = {f"{NAME}/{filename}": data for filename, data in movielens_csvs.items()}
    members[f"{NAME}/README.txt"] = b"Summary\n"
    return make_zip(members)


def fetch(grouplens, cache_dir: Path, **options) -> Path:
    """Fetch ``NAME`` from the fake server, without a progress bar unless asked."""
    options.setdefault("progress", False)
    return fetch_dataset(NAME, cache_dir, base_url=grouplens.base_url, **options)


def assert_holds_csvs(folder: Path, csvs: dict[str, bytes]) -> None:
    """The folder holds exactly the CSV bytes that were zipped."""
    for filename, data in csvs.items():
        assert (folder / filename).read_bytes() == data


def test_fetch_downloads_verifies_and_extracts(grouplens, archive, movielens_csvs,
                                               tmp_path: Path) -> None:
    """A good zip with its md5 ends as <cache>/<name>/ with the CSVs; nothing else is left."""
    grouplens.publish(NAME, archive)
    cache = tmp_path / "cache"

    folder = fetch(grouplens, cache)

    assert folder == cache / NAME
    assert_holds_csvs(folder, movielens_csvs)
    assert (folder / "README.txt").read_bytes() == b"Summary\n"
    assert sorted(path.name for path in cache.iterdir()) == [NAME]  # no .zip, .part, staging
    assert [request.path for request in grouplens.requests] == [f"{ZIP_PATH}.md5", ZIP_PATH]
    assert "Range" not in grouplens.requests[1].headers


def test_second_call_reuses_cache_without_network(grouplens, archive, closed_port_url: str,
                                                  tmp_path: Path) -> None:
    """Once extracted, the dataset is returned with zero requests, even with no server."""
    grouplens.publish(NAME, archive)
    first = fetch(grouplens, tmp_path)
    grouplens.requests.clear()

    assert fetch(grouplens, tmp_path) == first
    assert fetch_dataset(NAME, tmp_path, base_url=closed_port_url) == first
    assert not grouplens.requests


def test_verified_zip_left_by_an_earlier_run_is_extracted_offline(
        archive, movielens_csvs, closed_port_url: str, tmp_path: Path) -> None:
    """A renamed (hence verified) <name>.zip is unpacked without downloading again."""
    (tmp_path / f"{NAME}.zip").write_bytes(archive)

    folder = fetch_dataset(NAME, tmp_path, base_url=closed_port_url)

    assert_holds_csvs(folder, movielens_csvs)
    assert not (tmp_path / f"{NAME}.zip").exists()


def test_zip_with_csvs_at_its_root_is_accepted(grouplens, make_zip, movielens_csvs,
                                               tmp_path: Path) -> None:
    """An archive without the top-level folder still gives <cache>/<name>/movies.csv."""
    grouplens.publish(NAME, make_zip(movielens_csvs))

    assert_holds_csvs(fetch(grouplens, tmp_path), movielens_csvs)


@pytest.mark.parametrize("status", [404, 503])
def test_http_error_is_one_line_and_leaves_nothing(grouplens, archive, status: int,
                                                   tmp_path: Path) -> None:
    """A 404 or 5xx answer for the zip raises DownloadError naming the status and URL."""
    grouplens.publish(NAME, archive)
    grouplens.statuses[ZIP_PATH] = status

    with pytest.raises(DownloadError) as error:
        fetch(grouplens, tmp_path)

    message = str(error.value)
    assert f"answered HTTP {status}" in message
    assert f"{grouplens.base_url}{NAME}.zip" in message
    assert "\n" not in message
    assert not list(tmp_path.iterdir())


def test_missing_checksum_file_stops_before_downloading(grouplens, archive,
                                                        tmp_path: Path) -> None:
    """Without the published md5 nothing can be verified, so the zip is not fetched."""
    grouplens.publish(NAME, archive)
    del grouplens.files[f"{ZIP_PATH}.md5"]

    with pytest.raises(DownloadError, match=r"\.zip\.md5 answered HTTP 404"):
        fetch(grouplens, tmp_path)
    assert not grouplens.requests_for(ZIP_PATH)


def test_wrong_md5_deletes_the_download(grouplens, archive, tmp_path: Path) -> None:
    """A checksum mismatch raises, and neither the .part nor the zip nor a dataset remains."""
    wrong = "0" * 32
    grouplens.publish(NAME, archive, md5=wrong)

    with pytest.raises(DownloadError) as error:
        fetch(grouplens, tmp_path)

    message = str(error.value)
    assert message.startswith(f"checksum mismatch for {grouplens.base_url}{NAME}.zip")
    assert wrong in message and hashlib.md5(archive).hexdigest() in message
    assert not list(tmp_path.iterdir())


def test_truncated_body_fails_then_the_next_call_resumes(grouplens, archive, movielens_csvs,
                                                         tmp_path: Path) -> None:
    """Bodies shorter than Content-Length raise after the retries; the .part holds a correct
    prefix, and the next call asks only for the rest."""
    grouplens.publish(NAME, archive)
    grouplens.drops[ZIP_PATH] = 99  # every response is cut in half

    with pytest.raises(InterruptedDownloadError) as error:
        fetch(grouplens, tmp_path)

    assert re.search(rf"stopped after [\d,]+ of {len(archive):,} bytes; run the same command "
                     "again to resume", str(error.value))
    assert len(grouplens.requests_for(ZIP_PATH)) == 3
    part = tmp_path / f"{NAME}.zip.part"
    kept = part.read_bytes()
    assert 0 < len(kept) < len(archive)
    assert archive.startswith(kept)
    assert not (tmp_path / NAME).exists()

    grouplens.drops.clear()
    grouplens.requests.clear()
    assert_holds_csvs(fetch(grouplens, tmp_path), movielens_csvs)
    assert grouplens.requests_for(ZIP_PATH)[0].headers["Range"] == f"bytes={len(kept)}-"
    assert not part.exists()


def test_interrupted_transfer_resumes_with_a_range_request(grouplens, archive, movielens_csvs,
                                                           tmp_path: Path) -> None:
    """A connection dropped mid-body is resumed from the bytes on disk within the same call."""
    grouplens.publish(NAME, archive)
    grouplens.drops[ZIP_PATH] = 1

    folder = fetch(grouplens, tmp_path)

    first, retry = grouplens.requests_for(ZIP_PATH)
    assert "Range" not in first.headers
    resumed_from = int(re.fullmatch(r"bytes=(\d+)-", retry.headers["Range"]).group(1))
    assert 0 < resumed_from <= len(archive) // 2  # at most the half the server sent
    # The md5 of the joined file matched (else DownloadError), and the contents are intact.
    assert_holds_csvs(folder, movielens_csvs)


def test_body_shorter_than_content_length_is_caught_by_the_size_check(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Even a transport that does not enforce Content-Length cannot pass off a short body."""
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Length"] = "100"
    response.raw = io.BytesIO(b"x" * 60)  # ends cleanly after 60 bytes, no protocol error
    session = requests.Session()
    monkeypatch.setattr(session, "get", lambda *args, **kwargs: response)
    part = tmp_path / "x.zip.part"

    with pytest.raises(InterruptedDownloadError, match="stopped after 60 of 100 bytes"):
        download_to_part(session, "http://127.0.0.1/x.zip", part, timeout=1.0, progress=False)
    assert part.read_bytes() == b"x" * 60


def test_server_ignoring_range_restarts_cleanly(grouplens, archive, movielens_csvs,
                                                tmp_path: Path) -> None:
    """A 200 answer to a Range request overwrites the stale .part instead of appending."""
    grouplens.publish(NAME, archive)
    grouplens.ignore_range.add(ZIP_PATH)
    (tmp_path / f"{NAME}.zip.part").write_bytes(b"stale bytes from another file")

    assert_holds_csvs(fetch(grouplens, tmp_path), movielens_csvs)
    (request,) = grouplens.requests_for(ZIP_PATH)
    assert request.headers["Range"] == "bytes=29-"


def test_unsatisfiable_range_restarts_from_scratch(grouplens, archive, movielens_csvs,
                                                   tmp_path: Path) -> None:
    """A .part longer than the published file gets 416, then a full download replaces it."""
    grouplens.publish(NAME, archive)
    (tmp_path / f"{NAME}.zip.part").write_bytes(b"x" * (len(archive) + 10))

    assert_holds_csvs(fetch(grouplens, tmp_path), movielens_csvs)
    ranged, full = grouplens.requests_for(ZIP_PATH)
    assert ranged.headers["Range"] == f"bytes={len(archive) + 10}-"
    assert "Range" not in full.headers


@pytest.mark.parametrize("member", ["../evil.txt", f"{NAME}/../../evil.txt", "ABSOLUTE"])
def test_member_escaping_the_target_is_rejected(grouplens, make_zip, movielens_csvs, member: str,
                                                tmp_path: Path) -> None:
    """A zip with a ``..`` or absolute member is refused before anything is extracted."""
    outside = tmp_path / "outside" / "evil.txt"
    member = str(outside) if member == "ABSOLUTE" else member
    cache = tmp_path / "cache" / "movielens"
    members = {f"{NAME}/{filename}": data for filename, data in movielens_csvs.items()}
    grouplens.publish(NAME, make_zip({**members, member: b"pwned"}))

    with pytest.raises(DownloadError, match="would be written outside") as error:
        fetch(grouplens, cache)

    assert repr(member) in str(error.value)
    assert not list(tmp_path.rglob("evil.txt"))
    assert not list(cache.iterdir())  # no dataset, no staging folder, bad zip deleted


def test_download_that_is_not_a_zip_is_rejected(grouplens, tmp_path: Path) -> None:
    """An HTML page with a matching md5 is still refused, and deleted."""
    grouplens.publish(NAME, b"<html>Service temporarily unavailable</html>")

    with pytest.raises(DownloadError, match=f"{NAME}.zip is not a valid zip archive"):
        fetch(grouplens, tmp_path)
    assert not list(tmp_path.iterdir())


def test_zip_without_the_csvs_is_rejected(grouplens, make_zip, tmp_path: Path) -> None:
    """A zip that holds no movies.csv/ratings.csv gives a clear error, not a broken cache."""
    grouplens.publish(NAME, make_zip({f"{NAME}/README.txt": b"Summary\n"}))

    with pytest.raises(DownloadError, match="does not contain movies.csv and ratings.csv"):
        fetch(grouplens, tmp_path)
    assert not list(tmp_path.iterdir())


def test_unreachable_host_says_so_in_one_line(closed_port_url: str, tmp_path: Path) -> None:
    """Connection refused → one line naming the host and suggesting --data-dir."""
    with pytest.raises(MovieRecommenderError) as error:
        fetch_dataset(NAME, tmp_path, base_url=closed_port_url, progress=False)

    message = str(error.value)
    host = closed_port_url.removeprefix("http://").rstrip("/")
    assert isinstance(error.value, DownloadError)
    assert message.startswith(f"cannot reach {host} (Connection refused)")
    assert "--data-dir" in message
    assert "\n" not in message
    assert not (tmp_path / NAME).exists()


def test_server_that_does_not_answer_times_out(grouplens, archive, tmp_path: Path) -> None:
    """A stalled server raises DownloadError after ``timeout`` seconds instead of hanging."""
    grouplens.publish(NAME, archive)
    grouplens.stall_seconds = 1.0

    with pytest.raises(DownloadError, match=r"did not answer within 0\.2 s"):
        fetch(grouplens, tmp_path, timeout=0.2)


def test_existing_folder_without_csvs_is_left_alone(grouplens, archive, tmp_path: Path) -> None:
    """A <cache>/<name> folder that is not a dataset is neither used nor overwritten."""
    grouplens.publish(NAME, archive)
    notes = tmp_path / NAME / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("mine")

    with pytest.raises(DownloadError, match="exists but does not hold movies.csv"):
        fetch(grouplens, tmp_path)
    assert notes.read_text() == "mine"
    assert not grouplens.requests


def test_unusable_cache_folder_is_a_one_line_error(grouplens, archive, tmp_path: Path) -> None:
    """A cache path that cannot be created (here: it is a file) gives DownloadError, no OSError."""
    grouplens.publish(NAME, archive)
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file")

    with pytest.raises(DownloadError, match=f"cannot write the dataset into {not_a_folder}"):
        fetch(grouplens, not_a_folder)
    assert not_a_folder.read_text() == "a file"


def test_unknown_dataset_name_is_a_named_error(tmp_path: Path) -> None:
    """Names outside DATASETS are refused before any I/O."""
    with pytest.raises(UnknownDatasetError, match="unknown dataset 'ml-1b'"):
        fetch_dataset("ml-1b", tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("progress, shown", [(True, True), (False, False)])
def test_progress_bar_counts_bytes_on_stderr(grouplens, archive, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             progress: bool, shown: bool) -> None:
    """``progress=True`` draws a byte-counting bar on stderr; ``False`` draws nothing."""
    grouplens.publish(NAME, archive)

    fetch(grouplens, tmp_path, progress=progress)

    captured = capsys.readouterr()
    assert captured.out == ""
    assert (f"{NAME}.zip: 100%" in captured.err) is shown
    assert ("B/s" in captured.err) is shown


DIGEST = "6b51fb2759a8657d3bfcbfc42b592ada"


@pytest.mark.parametrize("text", [
    f"{DIGEST}  ml-25m.zip\n",             # md5sum, as GroupLens publishes it
    f"{DIGEST}\n",                         # bare digest
    f"MD5 (ml-25m.zip) = {DIGEST}\n",      # BSD md5
    f"{DIGEST.upper()} *ml-25m.zip\r\n",   # binary-mode md5sum, upper case, CRLF
])
def test_parse_md5_reads_common_checksum_formats(text: str) -> None:
    """The digest is found whatever the tool that wrote the file."""
    assert parse_md5(text) == DIGEST


@pytest.mark.parametrize("text", ["", "<html>Not Found</html>", "6b51fb2759a8657d"])
def test_parse_md5_rejects_text_without_a_digest(text: str) -> None:
    """An error page or a cut digest is not mistaken for a checksum."""
    with pytest.raises(DownloadError, match="holds no md5 checksum"):
        parse_md5(text)


@pytest.mark.parametrize("name, safe", [
    ("ml-25m/movies.csv", True),
    ("ml-25m/", True),
    ("ml-25m/./ratings.csv", True),
    ("ml-25m/sub/../movies.csv", True),   # stays inside
    ("../evil.txt", False),
    ("ml-25m/../../evil.txt", False),
    ("..", False),
    ("/etc/cron.d/evil", False),
    ("\\windows\\evil.txt", False),
    ("..\\evil.txt", False),
    ("C:evil.txt", False),
    ("C:\\evil.txt", False),
])
def test_is_safe_member(name: str, safe: bool) -> None:
    """Only members that stay inside the extraction folder are safe."""
    assert is_safe_member(name) is safe


def test_default_cache_dir_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """MOVIELENS_CACHE_DIR (e.g. set in .env) wins over the platform folder."""
    monkeypatch.setenv("MOVIELENS_CACHE_DIR", str(tmp_path / "movielens"))
    assert default_cache_dir() == tmp_path / "movielens"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_default_cache_dir_falls_back_to_the_user_cache(monkeypatch: pytest.MonkeyPatch,
                                                        value: str | None,
                                                        tmp_path: Path) -> None:
    """Unset or empty (as in .env.example), the user cache folder is used: on Linux
    ``$XDG_CACHE_HOME/mlops-essentials/movielens``."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the XDG cache folder is the Linux convention")
    if value is None:
        monkeypatch.delenv("MOVIELENS_CACHE_DIR", raising=False)
    else:
        monkeypatch.setenv("MOVIELENS_CACHE_DIR", value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    assert default_cache_dir() == tmp_path / "xdg-cache" / "mlops-essentials" / "movielens"
