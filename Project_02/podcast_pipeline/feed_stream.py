"""Hand a feed file's episodes over in batches while it is parsed; big files use two cores.

``FeedStream.write_to(write)`` parses a staged feed file and calls ``write`` with each
batch of episodes as soon as it is ready, so only one batch is in memory at a time.

xmltodict and the item normalisation are pure Python. In one process they take turns
with storing; a thread would not help, as it would wait for the GIL. So a file of
``PARSER_PROCESS_MIN_BYTES`` or more is read by xmltodict in a child process
(``python -m podcast_pipeline.feed_stream FILE URL ITEMS``), which sends the raw
``<channel>`` children to this process as pickles on its standard output; this process
turns them into episodes and stores them meanwhile. Parse + store of a 127 MB feed:
5.3 s in one process, 3.6 s with the child. Smaller feeds, the usual case, are parsed
in this process: starting an interpreter would cost more than it saves.

The child is this package's own code, started by us, so unpickling its output is safe.
It ignores Ctrl-C (the parent's to handle, which then kills it) and ends by itself when
the parent is gone (its next write to the closed pipe fails).
"""
import contextlib
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from podcast_pipeline.feed import Episode, FeedBuilder, FeedParseError, ParsedFeed, read_channel

PARSER_PROCESS_MIN_BYTES = 16 << 20
"""Feed files this large are parsed in a child process."""

_PICKLES_AHEAD = 8  # batches the parser process may have waiting for the pipe (~2 MB each)

ChannelChild = tuple[list[tuple[str, Any]], Any]
"""One child of ``<channel>`` as ``read_channel`` gives it: ``(xml_path, value)``."""


@dataclass
class FeedStream:
    """A staged feed file whose episodes ``write_to`` hands over in batches."""

    path: Path
    feed_url: str
    batch_size: int = 2000
    process_min_bytes: int = PARSER_PROCESS_MIN_BYTES
    result: ParsedFeed | None = field(default=None, init=False)

    def write_to(self, write: Callable[[list[Episode]], None]) -> ParsedFeed:
        """Parse the file, calling ``write`` with each batch of episodes in feed order.

        Returns:
            The ``ParsedFeed`` (channel facts and counts; its episode list is empty),
            also kept as ``result``.

        Raises:
            FeedParseError: the document is not a readable RSS feed, or the parser
                process died; raised after the batches before the error were written
                (the caller rolls them back).
            OSError: the file cannot be read.
            Whatever ``write`` raises, unchanged: parsing stops there.
        """
        batch: list[Episode] = []

        def emit(episode: Episode) -> None:
            batch.append(episode)
            if len(batch) >= self.batch_size:
                write(batch.copy())
                batch.clear()

        builder = FeedBuilder(self.feed_url, emit=emit)
        if self.path.stat().st_size >= self.process_min_bytes:
            # closing(): an error here (a bad feed, a failed write) stops the child at once
            with contextlib.closing(channel_children_from_child(
                    self.path, self.feed_url, self.batch_size)) as batches:
                for children in batches:
                    for xml_path, value in children:
                        builder.add(xml_path, value)
        else:
            with self.path.open("rb") as stream:
                read_channel(stream, self.feed_url, builder.add)
        self.result = builder.result()
        if batch:
            write(batch)
        return self.result


def channel_children_from_child(path: Path, feed_url: str,
                                items_per_batch: int) -> Iterator[list[ChannelChild]]:
    """Read ``path`` with ``read_channel`` in a child process; yield its lists of children.

    Raises:
        FeedParseError: the child's own (not RSS, not well-formed, entities), after the
            lists sent before it; or the child died without finishing.
        OSError: the child could not read the file.
    """
    package_root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, (package_root,
                                                       os.environ.get("PYTHONPATH"))))}
    with subprocess.Popen(_child_command(path, feed_url, items_per_batch),
                          stdout=subprocess.PIPE, env=env) as child:
        assert child.stdout is not None  # stdout=PIPE
        try:
            while True:
                try:
                    kind, payload = pickle.load(child.stdout)
                except EOFError:
                    raise FeedParseError(f"{feed_url}: the feed parser process stopped "
                                         f"(exit code {child.wait()})") from None
                if kind == "end":
                    return
                if kind == "error":
                    raise payload
                yield payload
        finally:
            child.kill()  # a no-op once it has finished; else the reader stopped early


def _child_command(path: Path, feed_url: str, items_per_batch: int) -> list[str]:
    """The command line of the parser process (this module run as a script)."""
    return [sys.executable, "-m", __name__, str(path), feed_url, str(items_per_batch)]


def send_channel_children(path: Path, feed_url: str, items_per_batch: int,
                          out: BinaryIO) -> None:
    """The child's work: pickle lists of ``<channel>`` children to ``out``, each with
    ``items_per_batch`` items (the last one fewer), then ``("end", None)``, or the
    error that stopped the parse.

    The pickles are written by a thread, so that parsing goes on while the parent is
    busy storing and the pipe is full (up to ``_PICKLES_AHEAD`` of them wait).
    """
    pickles: queue.Queue[bytes | None] = queue.Queue(maxsize=_PICKLES_AHEAD)
    broken = threading.Event()
    writer = threading.Thread(target=_write_all, args=(pickles, out, broken), daemon=True)
    writer.start()
    children: list[ChannelChild] = []
    items = 0

    def send(kind: str, payload: Any) -> None:
        if broken.is_set():
            raise BrokenPipeError("the parent process stopped reading")
        pickles.put(pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))

    def add(xml_path: list[tuple[str, Any]], value: Any) -> bool:
        nonlocal items
        children.append((xml_path[:3], value))  # a copy: xmltodict reuses its path list
        items += xml_path[-1][0] == "item"
        if items >= items_per_batch:
            send("children", children.copy())
            children.clear()
            items = 0
        return True

    try:
        with path.open("rb") as stream:
            read_channel(stream, feed_url, add)
    except (FeedParseError, OSError) as err:
        send("error", err)
    else:
        send("children", children)
        send("end", None)
    pickles.put(None)
    writer.join()
    if broken.is_set():
        raise BrokenPipeError("the parent process stopped reading")


def _write_all(pickles: "queue.Queue[bytes | None]", out: BinaryIO,
               broken: threading.Event) -> None:
    """Write each pickle from the queue to ``out`` until None.

    When the pipe breaks (the parent is gone), set ``broken`` and keep emptying the
    queue, so that the parser never waits for room that will not come.
    """
    try:
        while (data := pickles.get()) is not None:
            out.write(data)
        out.flush()
    except BrokenPipeError:
        broken.set()
        while pickles.get() is not None:
            pass


def _child_main(argv: list[str]) -> int:
    """Entry point of the parser process: ``FILE URL ITEMS_PER_BATCH``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    path, feed_url, items_per_batch = argv
    try:
        send_channel_children(Path(path), feed_url, int(items_per_batch), sys.stdout.buffer)
    except BrokenPipeError:  # the parent stopped reading: nothing left to do
        # Python flushes stdout at exit; point it at devnull so that is silent too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
