"""The runner seam: everything heaplens's plan/run/investigate/verify needs from a JavaScript test runner, behind one
small interface with one implementation per runner (:mod:`heaplens.runner.vitest`, :mod:`heaplens.runner.jest`).

A runner knows how to

- find itself in a project (:meth:`Runner.evidence`: config files, ``package.json`` keys, scripts, dependencies)
  and load the suite (:meth:`Runner.load_suite`: its version, config file, package manager);
- read the suite's test files and each project's resolved config, a shard's files as its own ``--shard`` picks
  them (:meth:`Runner.inspect`);
- write what one lane needs — a wrapper config that requires the suite's own and adds heaplens's per-file setup
  module to every project, the worker Node flags — and give the lane's command line (:meth:`Runner.lane_command`);
- tell its workers apart (pools, helper processes, whether a worker runs one file or many) and read its own words
  about dead workers in its output (:attr:`Runner.crash_patterns`, :attr:`Runner.exit_pattern`).

The setup module it injects runs inside each worker and speaks one protocol for every runner: JSON lines in
``$HEAPLENS_TRACE_FILE`` (``start`` / ``collected`` / ``end`` / ``settle`` / ``snapshot`` …, docs/runner.md), heap
snapshots written with ``v8.writeHeapSnapshot`` at test-file boundaries after a forced GC, the lane's snapshot
ledger and started-files counter. The lane runner (:mod:`heaplens.runner.execute`) reads that protocol and knows
no runner. Config *edits* for fixes are the fix layer's (``heaplens.fix.runner_config``), keyed by
:attr:`Runner.name`. A third runner (node:test, Mocha) is one more module implementing :class:`Runner` and one
more setup module speaking the protocol, registered in :data:`RUNNERS`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import UsageError
from . import jest as _jest
from . import vitest as _vitest
from .suite import LaneCommand, LaneSetup, SuiteConfig

if TYPE_CHECKING:  # the plan's Lane; plan.py imports nothing of the runners
    from .plan import Lane


@runtime_checkable
class Suite(Protocol):
    root: Path
    package_manager: str
    node_version: str
    config: Path | None

    @property
    def runner(self) -> Runner: ...

    @property
    def version(self) -> str: ...

    def exec_prefix(self) -> list[str]: ...


@runtime_checkable
class Runner(Protocol):
    name: str  # "vitest", "jest": the word in --runner, the run record's versions and the fix layer's editors
    title: str  # "Vitest", "Jest"
    log_name: str  # the lane's output file in the run directory
    pools: tuple[str, ...]  # how its workers can run
    thread_pools: tuple[str, ...]  # pools whose workers are threads of the main process (no per-worker RSS)
    helper_titles: frozenset[str]  # children of the main process that are not workers, by process title
    crash_patterns: tuple[str, ...]  # its output when a worker died
    oom_patterns: tuple[str, ...]  # its own output when a worker ran out of heap (besides Node's)
    # children of the main process that never wrote a trace line are its helpers, not workers (Jest: the crawl
    # workers of jest-haste-map run the same jest-worker child script as the test workers)
    untraced_children_are_helpers: bool
    exit_pattern: re.Pattern | None  # groups (how, files) of its "worker exited … while running FILES" line
    # its generated lane config waits for $HEAPLENS_GATE: a lane can start before the plan is made
    # (runner/early_lane.py)
    gated: bool

    def evidence(self, root: Path, pkg: dict) -> list[tuple[int, str]]:
        """Why this project would use this runner: (weight, what was seen) — a config file 3, a ``package.json``
        key 3, the test script 2, a dependency 1, installed 1."""
        ...

    def load_suite(self, root: Path, config: str | None) -> Suite: ...

    def inspect(self, suite: Suite, filters: list[str], shard: tuple[int, int] | None = None) -> SuiteConfig: ...

    def check_overrides(self, pool: str | None, isolate: bool | None) -> None:
        """Refuse, with a usage error, a lane override the runner has no way to apply."""
        ...

    def per_file_worker(self, pool: str | None, isolate: bool | None) -> bool:
        """Whether a worker of this pool/isolation runs a single test file (a fresh worker per file)."""
        ...

    def lane_command(self, suite: Suite, setup: LaneSetup) -> LaneCommand: ...

    def command_text(self, lane: Lane) -> str:
        """The lane's command as ``plan --explain`` shows it."""
        ...


RUNNERS: dict[str, Runner] = {r.name: r for r in (_vitest.RUNNER, _jest.RUNNER)}
DEFAULT = "vitest"  # a project that shows no runner at all (heaplens's first runner; its error says what to install)


def get(name: str | None) -> Runner:
    if not name:
        return RUNNERS[DEFAULT]
    try:
        return RUNNERS[name]
    except KeyError:
        raise UsageError(f"unknown runner {name!r} (known: {', '.join(RUNNERS)})") from None


def parse_runner(text) -> str:
    name = str(text).strip().lower()
    if name not in RUNNERS:
        raise ValueError(f"not a runner heaplens knows ({', '.join(RUNNERS)}): {text!r}")
    return name


def _package(root: Path) -> dict:
    try:
        doc = json.loads((root / "package.json").read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


@dataclass
class Detection:
    runner: Runner
    reason: str  # what decided it, for the plan's notes


def detect(root: Path, override: str | None = None) -> Detection:
    """The suite's runner: ``--runner`` if given, else the one the project shows most evidence of (config files
    and ``package.json`` keys outweigh the test script, which outweighs dependencies). A tie between runners with
    evidence is refused: ``--runner`` decides."""
    if override:
        return Detection(get(override), "--runner")
    pkg = _package(root)
    scored = []
    for r in RUNNERS.values():
        ev = r.evidence(root, pkg)
        scored.append((sum(w for w, _ in ev), r, ev))
    scored.sort(key=lambda t: -t[0])
    best, runner, ev = scored[0]
    if best == 0:
        return Detection(get(DEFAULT), "no runner configured or installed")
    tied = [r for s, r, _ in scored if s == best]
    if len(tied) > 1:
        said = "; ".join(f"{r.title}: " + ", ".join(t for _, t in e) for s, r, e in scored if s == best)
        raise UsageError(f"the project shows {' and '.join(r.title for r in tied)} alike ({said}): "
                         f"say which with --runner {'|'.join(r.name for r in tied)}")
    return Detection(runner, ", ".join(t for _, t in ev))


def load_suite(root: Path, config: str | None = None, runner: str | None = None) -> tuple[Suite, Detection]:
    d = detect(root, runner)
    return d.runner.load_suite(root, config), d
