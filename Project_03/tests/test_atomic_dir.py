"""A run's files land together or not at all, and two runs never mix them."""
import fcntl
import logging
import os
import threading
from pathlib import Path

import pytest

from heart_disease_knn import atomic_dir


def _contents(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def test_files_are_written_and_stale_outputs_removed(tmp_path: Path) -> None:
    """Every file lands; a listed old output this run does not write is deleted."""
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "old.png").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_bytes(b"not ours")
    written = atomic_dir.write_files(tmp_path, {"a.json": b"{}", "plots/b.png": b"png"},
                                     remove=("plots/old.png", "plots/b.png"))
    assert written == [tmp_path / "a.json", tmp_path / "plots" / "b.png"]
    assert _contents(tmp_path) == {"a.json": b"{}", "keep.txt": b"not ours",
                                   "plots/b.png": b"png"}


def test_interrupt_while_staging_leaves_the_directory_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the last file is written: the old files stay, no temporary file stays."""
    atomic_dir.write_files(tmp_path, {"model.joblib": b"old model", "model.json": b"old meta"})
    before = _contents(tmp_path)
    real_write_bytes = Path.write_bytes

    def write_then_interrupt(path: Path, data: bytes) -> int:
        if path.name.startswith(".model.json"):
            real_write_bytes(path, data[:2])
            raise KeyboardInterrupt
        return real_write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_dir.write_files(tmp_path, {"model.joblib": b"new model",
                                          "model.json": b"new meta"})
    monkeypatch.undo()
    assert _contents(tmp_path) == before


def test_second_writer_waits_for_the_first(tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """While another run holds the directory, a writer logs that it waits and writes nothing."""
    holder = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    writer = threading.Thread(target=atomic_dir.write_files,
                              args=(tmp_path, {"metrics.json": b"{}"}))
    with caplog.at_level(logging.WARNING):
        writer.start()
        writer.join(timeout=1.0)
        assert writer.is_alive()
        assert not (tmp_path / "metrics.json").exists()
        os.close(holder)
        writer.join(timeout=10)
    assert not writer.is_alive()
    assert (tmp_path / "metrics.json").read_bytes() == b"{}"
    assert "another training run is writing there; waiting for it to finish" in caplog.text
