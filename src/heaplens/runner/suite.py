"""What every test runner's side shares: the suite root, its package manager, Node, and the shape of a suite's
resolved config (its projects and which of them run each test file). The runners themselves (runner/vitest.py,
runner/jest.py) fill these in from their own tools; nothing here knows a runner."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import HeaplensError, UsageError

LOCKFILES = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
)


class RunnerError(HeaplensError):
    """The suite's test runner could not be found, or could not list the suite's files."""


def first_file(root: Path, names: tuple[str, ...]) -> Path | None:
    """The first of ``names`` that is a file in ``root`` (a runner's config files, in its own order)."""
    for name in names:
        if (root / name).is_file():
            return root / name
    return None


def resolve_config(root: Path, config: str | None, names: tuple[str, ...], title: str) -> Path | None:
    """The config a suite's runner loads: ``config`` (``--config``, relative to the root) when given — it must
    exist — else the first of ``names`` in the root (None: none)."""
    if not config:
        return first_file(root, names)
    cfg = Path(config)
    if not cfg.is_absolute():
        cfg = (root / cfg).resolve()
    if not cfg.is_file():
        raise UsageError(f"{title} config not found: {cfg}")
    return cfg


def package_evidence(root: Path, pkg: dict, binary: str) -> list[tuple[int, str]]:
    """What ``package.json`` and ``node_modules`` show of a runner: the test script runs ``binary`` (2), a
    dependency (1), installed (1) — a runner's :meth:`~heaplens.runner.seam.Runner.evidence` besides its config."""
    out = []
    script = str((pkg.get("scripts") or {}).get("test") or "")
    if re.search(rf"(^|[\s/]){re.escape(binary)}\b", script):
        out.append((2, f"scripts.test runs {binary}"))
    deps = {**(pkg.get("dependencies") or {}), **(pkg.get("devDependencies") or {})}
    if binary in deps:
        out.append((1, f"{binary} in package.json dependencies"))
    if package_json(binary, root) is not None:
        out.append((1, f"node_modules/{binary}"))
    return out


def runner_env() -> dict[str, str]:
    """The environment heaplens runs a suite's runner in to read the suite (list files, read its config)."""
    env = dict(os.environ)
    env.setdefault("CI", "true")  # no watch mode, no interactive output
    return env


def direct_cli(suite, binary: str) -> list[str]:
    """The suite's own ``binary`` CLI run by Node directly: the same resolution as through the package manager,
    without its start-up (``npm exec`` alone takes 0.5-1 s) — for reading the suite; the lanes do go through the
    package manager (``suite.exec_prefix()``, also the fallback when the bin script or Node is not found)."""
    script = package_bin(binary, suite.root)
    node = shutil.which("node")
    return [node, str(script)] if (script is not None and node) else suite.exec_prefix()


# The generated lane configs' first statement (CommonJS or ESM, `fs` imported): they are evaluated in the
# runner's main process, whose PID the lane runner needs (its workers are that process's children).
MAIN_PID_JS = """if (process.env.HEAPLENS_MAIN_PID_FILE) {
  try { fs.writeFileSync(process.env.HEAPLENS_MAIN_PID_FILE, String(process.pid)); } catch {}
}
"""

# A lane started while heaplens still reads the suite (runner/early_lane.py) waits at the top of its generated
# config (an async function, evaluated in the runner's main process) for heaplens's word in the file
# $HEAPLENS_GATE: the settings that depend on the suite's files, merged into the environment the workers inherit
# — or no word at all, in which case heaplens kills the lane. Vitest: after Node and Vitest have started and the
# suite's config module was imported (as the inspection imports it), before Vitest resolves anything of the
# suite, runs a globalSetup or starts a worker. Jest: before its config function reads the suite's config, so
# before Jest crawls the files or starts a worker. Without the variable it returns at once.
GATE_JS = """async function heaplensGate() {
  const gate = process.env.HEAPLENS_GATE;
  if (!gate) return;
  delete process.env.HEAPLENS_GATE;
  const until = Date.now() + 600000;
  for (;;) {
    let text = '';
    try { text = fs.readFileSync(gate, 'utf8'); } catch {}
    if (text) {
      Object.assign(process.env, JSON.parse(text).env || {});
      return;
    }
    if (Date.now() > until) throw new Error(`heaplens: no word at ${gate}: the lane does not start`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
"""


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding a package.json."""
    start = start.resolve()
    for d in (start, *start.parents):
        if (d / "package.json").is_file():
            return d
    raise UsageError(f"no package.json at or above {start}: give the suite root with --root DIR")


def detect_package_manager(root: Path) -> str:
    for d in (root, *root.parents):
        for name, pm in LOCKFILES:
            if (d / name).is_file():
                return pm
        if (d / ".git").exists():
            break
    try:
        pkg = json.loads((root / "package.json").read_text())
        field = str(pkg.get("packageManager", ""))
        for pm in ("pnpm", "yarn", "npm"):
            if field.startswith(pm + "@"):
                return pm
    except (OSError, ValueError):
        pass
    return "npm"


def exec_prefix(package_manager: str, binary: str, script: Path | None = None) -> list[str]:
    """argv that runs the suite's local ``binary`` (a dependency's bin) through its package manager; when that
    package manager is not installed (a pnpm lockfile in a tree npm installed), the installed ``script`` (the
    package's bin file) with Node, as ``npx`` would (:func:`package_manager_note` says so, once per run)."""
    exe = shutil.which(package_manager)
    if exe is None:
        node = shutil.which("node")
        if script is not None and node is not None:
            return [node, str(script)]
        raise RunnerError(f"the suite uses {package_manager} (from its lockfile) but {package_manager} is not on PATH"
                          + ("" if script is None else ", and node is not either"))
    if package_manager == "npm":
        return [exe, "exec", "--no", "--", binary]
    if package_manager == "pnpm":
        return [exe, "exec", binary]
    return [exe, binary]  # yarn 1 and berry both run a dependency's bin this way


def package_manager_note(package_manager: str, binary: str, script: Path | None) -> str | None:
    """The plan's note when the lockfile's package manager is missing and the lanes run ``script`` instead."""
    if shutil.which(package_manager) is not None or script is None:
        return None
    return (f"the suite's lockfile names {package_manager}, but {package_manager} is not on PATH: the lanes run the "
            f"installed {binary} ({script}, from node_modules) with Node")


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        raise RunnerError("node is not on PATH")
    return subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def package_json(pkg: str, root: Path) -> Path | None:
    """``node_modules/<pkg>/package.json`` at or above ``root`` (Node's lookup)."""
    for d in (root, *root.parents):
        pj = d / "node_modules" / pkg / "package.json"
        if pj.is_file():
            return pj
    return None


def package_version(pkg: str, root: Path) -> str | None:
    pj = package_json(pkg, root)
    if pj is None:
        return None
    try:
        return str(json.loads(pj.read_text())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def package_bin(pkg: str, root: Path, name: str | None = None) -> Path | None:
    """The CLI script ``bin.<name>`` of a package the suite has installed, if it is a plain file."""
    pj = package_json(pkg, root)
    if pj is None:
        return None
    try:
        b = json.loads(pj.read_text()).get("bin")
    except (OSError, ValueError):
        return None
    rel = b.get(name or pkg) if isinstance(b, dict) else b
    if not isinstance(rel, str):
        return None
    path = (pj.parent / rel).resolve()
    return path if path.is_file() else None


def rel_to_root(root: Path, f: str) -> str:
    """A test file as the record names it: relative to the root, POSIX separators (absolute when outside)."""
    p = Path(f)
    if not p.is_absolute():
        p = root / p
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.resolve().as_posix()


@dataclass
class Project:
    """One project's options that decide how its files run, as its runner resolved them. ``pool`` names how the
    runner runs a worker (Vitest: forks, threads, vmForks, vmThreads; Jest: workers, workerThreads, inBand);
    ``isolate`` whether each test file gets a fresh module graph."""

    name: str
    pool: str = "forks"
    isolate: bool = True
    max_workers: int | str | None = None  # None: the runner's default
    file_parallelism: bool = True
    environment: str = "node"
    setup_files: list[str] = field(default_factory=list)
    exec_argv: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or "(root)"

    @property
    def per_file_worker(self) -> bool:
        """Each test file gets a fresh worker (Vitest's forks/threads with isolate); vm pools reuse theirs."""
        return self.isolate and self.pool in ("forks", "threads")

    def value(self, setting: str):
        return {"pool": self.pool, "isolate": self.isolate,
                "workers": 1 if not self.file_parallelism else self.max_workers}[setting]

    def to_json(self) -> dict:
        return {"name": self.name, "pool": self.pool, "isolate": self.isolate, "max_workers": self.max_workers,
                "file_parallelism": self.file_parallelism, "environment": self.environment,
                "setup_files": self.setup_files, "exec_argv": self.exec_argv}


@dataclass
class SuiteConfig:
    """The suite's test files and, for each, the projects that run it (a file in two projects runs twice)."""

    files: list[str]
    projects: list[Project]
    file_projects: dict[str, list[int]]
    source: str  # the runner that read the config ("vitest", "jest"), or why it could not be read
    known: bool = True  # False: only the file list is known (the config could not be read)
    # with a shard: the files of that shard as the runner's own sharding picks them (None: not sharded)
    shard_files: list[str] | None = None
    notes: list[str] = field(default_factory=list)  # what the plan should say about how the suite runs

    def projects_of(self, file: str) -> list[Project]:
        return [self.projects[i] for i in self.file_projects.get(file, [])]

    def runs(self, files: list[str]) -> int:
        """How many times the runner starts a test file for these files: once per project that includes it."""
        return sum(max(1, len(self.file_projects.get(f, []))) for f in files)

    def to_json(self) -> dict:
        return {"source": self.source, "known": self.known, "projects": [p.to_json() for p in self.projects]}


@dataclass
class LaneSetup:
    """What the lane runner asks of a runner for one lane."""

    lane: Any  # the plan's Lane
    config_dir: Path  # where generated files go: under the suite root, so the suite's packages resolve from them
    exec_argv: list[str]  # Node flags for the workers (heap limit, diagnostic dir, near-limit/signal snapshots)
    trace: bool  # inject the per-file setup module
    test_timeout_ms: int | None  # raise the test/hook/teardown timeouts (interval snapshots) or None
    extra_args: list[str] = field(default_factory=list)  # the user's arguments after `--`
    pools: set[str] = field(default_factory=set)  # the pools the lane's workers run in


@dataclass
class LaneCommand:
    argv: list[str]
    # added to the lane's environment and recorded in the run (NODE_OPTIONS is appended to the inherited one)
    env: dict[str, str] = field(default_factory=dict)
    internal_env: dict[str, str] = field(default_factory=dict)  # added, not recorded (labels for the runner)
    generated: list[Path] = field(default_factory=list)  # files to delete after the lane
