"""Progress bars on stderr (rich). Never on stdout, so machine-readable output stays clean.

Shown when stderr is a terminal, or when ``HEAPLENS_PROGRESS=1``; ``--no-progress`` or
``HEAPLENS_PROGRESS=0`` turns them off.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn


def enabled(flag: bool | None = None) -> bool:
    env = os.environ.get("HEAPLENS_PROGRESS")
    if flag is False or env == "0":
        return False
    if env == "1":
        return True
    return sys.stderr.isatty()


@contextmanager
def byte_progress(show: bool) -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """Yields ``task(label, total_bytes) -> advance(n)``; a no-op when ``show`` is false."""
    if not show:
        yield lambda label, total: (lambda n: None)
        return
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:

        def task(label: str, total: int) -> Callable[[int], None]:
            tid = bar.add_task(label, total=total)
            return lambda n: bar.advance(tid, n)

        yield task


@contextmanager
def status(show: bool) -> Iterator[Callable[[str], None]]:
    """Yields ``say(text)``: a one-line spinner on stderr showing the current step (no-op when off)."""
    if not show:
        yield lambda text: None
        return
    console = Console(stderr=True)
    with console.status("heaplens") as st:
        yield lambda text: st.update(f"heaplens: {text}")
