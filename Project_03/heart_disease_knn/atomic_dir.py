"""Write a run's files into a directory as one unit: locked, staged, then renamed.

Two training runs into one ``--output-dir`` never mix their files: the second waits for
the first to finish writing (an exclusive ``flock`` on the directory itself, so no lock
file is left behind). Every file is first written to a hidden temporary sibling; only
when all of them are complete are they renamed into place. An error or Ctrl-C before
that point leaves the directory as it was.
"""
import fcntl
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)


def temporary_sibling(path: Path) -> Path:
    """Return the hidden name ``path`` is staged under before its rename."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextmanager
def exclusive(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (created if needed) while the block runs.

    If another run holds it, log that and wait. Closing the descriptor releases the
    lock, also when the process dies.
    """
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.warning("%s: another training run is writing there; waiting for it to "
                           "finish", directory)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def write_files(directory: Path, files: Mapping[str, bytes],
                remove: tuple[str, ...] = ()) -> list[Path]:
    """Write ``files`` (relative name -> bytes) into ``directory`` as one unit.

    Args:
        directory: created if missing; locked while writing.
        files: what to write, in order.
        remove: names of earlier outputs to delete if this run does not write them
            (so no stale file from another run stays beside the new ones).

    Returns:
        The written paths, in the order of ``files``.

    Raises:
        OSError: if a file cannot be written (the directory is then left unchanged).
    """
    targets = [directory / name for name in files]
    staged: list[Path] = []
    with exclusive(directory):
        try:
            for target, content in zip(targets, files.values()):
                target.parent.mkdir(parents=True, exist_ok=True)
                staged.append(temporary_sibling(target))
                staged[-1].write_bytes(content)
            for target in targets:
                os.replace(temporary_sibling(target), target)
            for name in remove:
                if name not in files:
                    (directory / name).unlink(missing_ok=True)
        finally:
            for tmp in staged:
                tmp.unlink(missing_ok=True)
    return targets
