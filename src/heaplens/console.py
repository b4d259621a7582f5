"""Console output shared by every layer: progress lines that survive a closed pipe, and the one place that
decides whether standard output is a terminal. Machine-readable output (``--format json|markdown``) owns
stdout; :func:`progress_to_stderr` sends the progress lines to stderr while it is written."""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Iterator

_print_lock = threading.Lock()


def say(line: str) -> None:
    """One progress line on standard output (as OpenClaw's wrapper prints its ``[test-parallel]`` lines)."""
    write(line + "\n")


def write(text: str) -> None:
    """Our stdout may be a pipe that closed (``heaplens run | head``, a killed ``grep``): the lanes must
    still be watched and stopped properly, so a failed write is dropped, never raised."""
    with _print_lock:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


def is_terminal(stream=None) -> bool:
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def progress_to_stderr(active: bool = True) -> Iterator[None]:
    """While active, what is printed to stdout (progress lines, the lanes' output) goes to stderr."""
    if not active:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield
