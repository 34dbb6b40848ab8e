"""What a person sees while the local stack builds and starts: each step, how long it has taken so far.

On a terminal a step's line is redrawn in place every second ("… building kube-apiserver  42 s"),
then replaced by its outcome; elsewhere (CI logs, pipes) a line when a step starts and one when it
ends, never a carriage return. A step that is cached says so instead of taking time.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from typing import TextIO

Phase = Callable[[str], contextlib.AbstractContextManager[None]]

_CLEAR_LINE = "\r\033[K"


@contextlib.contextmanager
def quiet(_: str) -> Iterator[None]:
    """The phase of a caller that shows nothing (tests, libraries)."""
    yield


class Progress:
    def __init__(self, stream: TextIO, live: bool, tick: float = 1.0) -> None:
        self._stream, self._live, self._tick = stream, live, tick
        self._lock = threading.Lock()

    @classmethod
    def to(cls, stream: TextIO) -> Progress:
        return cls(stream, live=stream.isatty())

    def cached(self, what: str) -> None:
        self._write(f"  ✓ {what}: cached\n")

    @contextlib.contextmanager
    def phase(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        stop = threading.Event()
        ticker = None
        if self._live:
            ticker = threading.Thread(target=self._redraw, args=(what, started, stop), daemon=True)
            ticker.start()
        else:
            self._write(f"  … {what}\n")
        try:
            yield
        except BaseException:
            self._end(stop, ticker)
            self._write(f"{_CLEAR_LINE if self._live else ''}  ✗ {what} failed after {_elapsed(started)}\n")
            raise
        self._end(stop, ticker)
        self._write(f"{_CLEAR_LINE if self._live else ''}  ✓ {what} ({_elapsed(started)})\n")

    def _redraw(self, what: str, started: float, stop: threading.Event) -> None:
        while True:
            self._write(f"{_CLEAR_LINE}  … {what}  {_elapsed(started)}")
            if stop.wait(self._tick):
                return

    def _end(self, stop: threading.Event, ticker: threading.Thread | None) -> None:
        stop.set()
        if ticker is not None:
            ticker.join()

    def _write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text)
            self._stream.flush()


def _elapsed(started: float) -> str:
    seconds = time.monotonic() - started
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60)} s"


class LiveBlock:
    """A block of lines (a status table) redrawn in place on a terminal, below whatever was printed
    before it; elsewhere each update is appended whole, so a log keeps every one."""

    def __init__(self, stream: TextIO, live: bool, width: int | None = None) -> None:
        self._stream, self._live = stream, live
        self._width = width or shutil.get_terminal_size().columns
        self._drawn = 0

    @classmethod
    def to(cls, stream: TextIO) -> LiveBlock:
        return cls(stream, live=stream.isatty())

    def show(self, text: str) -> None:
        lines = text.splitlines()
        if self._live:
            # A wrapped line would take two rows and throw the count off: cut at the terminal's width.
            lines = [line[: self._width - 1] for line in lines]
            if self._drawn:
                self._stream.write(f"\033[{self._drawn}F\033[J")  # up to the block's first row, clear below
        self._stream.write("\n".join(lines) + "\n")
        self._stream.flush()
        self._drawn = len(lines)
