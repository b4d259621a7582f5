"""The Jest runner (work in progress)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UsageError


class JestRunner:
    name = "jest"
    title = "Jest"
    log_name = "jest.log"
    pools = ("workers", "workerThreads", "inBand")
    thread_pools = ("workerThreads",)
    helper_titles = frozenset()
    crash_patterns = ()
    exit_pattern: re.Pattern | None = None

    def evidence(self, root: Path, pkg: dict) -> list[tuple[int, str]]:
        return []

    def load_suite(self, root, config):
        raise UsageError("jest: not yet")


RUNNER = JestRunner()
