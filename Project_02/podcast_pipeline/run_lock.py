"""One run at a time per data folder: an exclusive lock on ``<data_dir>/.lock``.

Two runs on the same folder would download the same episodes twice into the same
``.part`` files. The lock is ``fcntl.flock`` (POSIX): the kernel drops it when the
holding process ends, even on ``SIGKILL``, so a crashed run never leaves a stale lock.
"""
import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import TextIO

from podcast_pipeline import PodcastError

LOCK_FILENAME = ".lock"


class RunLockedError(PodcastError):
    """Another run holds the data folder's lock, or the lock file cannot be opened."""


class RunLock:
    """The lock of one data folder; ``acquire`` never waits, ``release`` is idempotent."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_FILENAME
        self._handle: TextIO | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock (a no-op when already held); write this process id into it.

        Raises:
            RunLockedError: another process holds it.
        """
        if self._handle is not None:
            return
        try:
            handle = self.path.open("a+", encoding="utf-8")  # "a+": never truncate a holder's
        except OSError as err:  # a read-only folder or lock file, a folder named .lock...
            raise RunLockedError(f"cannot open the run lock {self.path}: "
                                 f"{err.strerror or err}") from err
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunLockedError(
                f"another run (process {holder}) is using {self.path.parent}; "
                "try again when it has finished") from err
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Let the lock go (the file stays; an unlocked file means nobody holds it)."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()
