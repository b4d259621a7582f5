"""The Jest runner: the suite's Jest (version, test files, each project's resolved config) and the command of one
lane — a generated config that reads the suite's own (jest-config's ``readInitialOptions``: ``jest.config.*``,
``package.json#jest``, a function config) and adds heaplens's per-file hook (``js/jest-setup.cjs``) first in every
project's ``setupFilesAfterEnv``. :data:`RUNNER` is Jest's implementation of :class:`heaplens.runner.seam.Runner`.

How Jest runs files, and what heaplens makes of it:

- every test file gets a fresh module registry, ``Runtime`` and environment global (a VM context) inside a
  long-lived worker: a jest-worker child process (``workers``), a worker thread (``workerThreads: true``), or the
  Jest process itself (``inBand``: ``--runInBand``, ``--maxWorkers=1``, or Jest's own choice for few, fast files).
  A worker always runs many files, so it is traced and snapshotted like Vitest's vm pools: its first file after
  collection and at its end, a middle, its last file's end. Which of the three a worker is, is known only when it
  runs: its trace lines say (``pool``), the lane's main PID is the Jest process.
- the workers' Node flags (heap limit, ``--diagnostic-dir``, near-heap-limit snapshots) go in the lane's
  ``NODE_OPTIONS``: jest-worker forks its children with the parent's environment (there is no ``execArgv`` option).
- files are Jest's own: ``jest --listTests --json`` with the run's PATHS and ``--shard`` (Jest's sequencer's
  ``shard()``), per project with ``--selectProjects`` when the suite has named projects. A lane with some of the
  files names them with ``--runTestsByPath`` (Jest's positional arguments are regular expressions).

Everything here starts real processes as argument lists: file paths never pass through a shell heaplens composes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import UsageError
from .suite import (
    GATE_JS,
    MAIN_PID_JS,
    LaneCommand,
    LaneSetup,
    Project,
    RunnerError,
    SuiteConfig,
    detect_package_manager,
    direct_cli,
    exec_prefix,
    first_file,
    node_version,
    package_bin,
    package_evidence,
    package_json,
    package_version,
    rel_to_root,
    resolve_config,
    runner_env,
)

CONFIG_NAMES = tuple(f"jest.config.{ext}" for ext in ("js", "ts", "mjs", "cjs", "mts", "cts", "json"))
POOLS = ("workers", "workerThreads", "inBand")
THREAD_POOLS = ("workerThreads",)


class JestError(RunnerError):
    """Jest could not be found or could not list the suite's files."""


@dataclass
class Suite:
    root: Path
    package_manager: str
    jest_version: str
    node_version: str
    config: Path | None  # a config file; None: package.json#jest or Jest's defaults
    # the Node flags the suite's test script runs Jest with that the lanes must pass too (vm_modules_flag)
    node_flags: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.jest_version

    @property
    def major(self) -> int:
        try:
            return int(self.jest_version.split(".")[0])
        except ValueError:
            return 0

    @property
    def runner(self) -> JestRunner:
        return RUNNER

    def exec_prefix(self) -> list[str]:
        return exec_prefix(self.package_manager, "jest", package_bin("jest", self.root))


def find_config(root: Path) -> Path | None:
    """The ``jest.config.*`` file Jest loads from ``root`` (None: ``package.json#jest`` or Jest's defaults)."""
    return first_file(root, CONFIG_NAMES)


def _jest_config_entry(root: Path) -> Path | None:
    """The file ``require('jest-config')`` gives Jest itself: from the root, else from jest's own dependencies
    (jest → @jest/core / jest-cli → jest-config; pnpm does not hoist them)."""
    candidates = [root]
    for pkg in ("jest", "jest-cli", "@jest/core"):
        pj = package_json(pkg, root)
        if pj is not None:
            candidates.append(pj.parent)
    for base in candidates:
        pj = package_json("jest-config", base)
        if pj is None:
            # beside the package, in the store layout of pnpm (node_modules/.pnpm/<pkg>/node_modules/jest-config)
            sib = base.parent / "jest-config" / "package.json"
            pj = sib if sib.is_file() else None
        if pj is not None:
            try:
                main = json.loads(pj.read_text()).get("main") or "build/index.js"
            except (OSError, ValueError):
                continue
            entry = (pj.parent / main).resolve()
            if entry.is_file():
                return entry
    return None


def load_suite(root: Path, config: str | None = None) -> Suite:
    version = package_version("jest", root)
    if version is None:
        raise JestError(f"jest is not installed for {root} (no node_modules/jest): install the suite's dependencies first")
    cfg = resolve_config(root, config, CONFIG_NAMES, "jest")
    return Suite(root=root, package_manager=detect_package_manager(root), jest_version=version,
                 node_version=node_version(), config=cfg, node_flags=vm_modules_flag(root))


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise JestError("node is not on PATH")
    return node


def list_tests(suite: Suite, filters: list[str], extra: list[str] | None = None, timeout: float = 600) -> list[str]:
    """``jest --listTests --json``: the test files Jest would run, relative to the root, in Jest's order."""
    argv = [*direct_cli(suite, "jest"), "--listTests", "--json", *(["--config", str(suite.config)] if suite.config else []),
            *(extra or []), *filters]
    try:
        cp = subprocess.run(argv, cwd=suite.root, capture_output=True, text=True, env=runner_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise JestError(f"`jest --listTests` took more than {timeout:.0f} s") from None
    text = cp.stdout.strip()
    start = text.find("[")
    try:
        data = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        data = None
    if not isinstance(data, list):
        tail = (cp.stderr or cp.stdout).strip().splitlines()[-5:]
        if "No tests found" in (cp.stdout + cp.stderr):
            return []
        raise JestError(f"`jest --listTests` failed (exit {cp.returncode}): " + " | ".join(tail))
    return list(dict.fromkeys(rel_to_root(suite.root, str(f)) for f in data if f))


def _project(doc: dict, glob: dict) -> Project:
    pool = "workerThreads" if glob.get("workerThreads") else "workers"
    if glob.get("runInBand"):
        pool = "inBand"  # Jest also runs in band by its own choice (one worker, few fast files): the trace says
    return Project(
        name=str(doc.get("name") or ""),
        pool=pool,
        isolate=True,  # Jest: a fresh module registry and environment per test file, always
        max_workers=glob.get("maxWorkers") if isinstance(glob.get("maxWorkers"), int) else None,
        environment=str(doc.get("environment") or "node"),
        setup_files=[str(x) for x in [*(doc.get("setupFiles") or []), *(doc.get("setupFilesAfterEnv") or [])]],
        raw={**doc, "global": glob},
    )


def read_config(suite: Suite, timeout: float = 600) -> dict:
    """Each project's resolved options (``js/jest-inspect.cjs``: jest-config's ``readConfigs``, as the CLI)."""
    entry = _jest_config_entry(suite.root)
    if entry is None:
        raise JestError("jest-config (Jest's config reader) not found beside the suite's jest")
    with tempfile.TemporaryDirectory(prefix="heaplens-jest-") as tmp:
        out = Path(tmp) / "config.json"
        script = Path(str(resources.files("heaplens") / "js" / "jest-inspect.cjs"))
        argv = [_node(), str(script), str(entry), str(out), str(suite.config or "")]
        try:
            cp = subprocess.run(argv, cwd=suite.root, capture_output=True, text=True, env=runner_env(), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise JestError(f"reading the Jest config took more than {timeout:.0f} s") from None
        if cp.returncode != 0 or not out.is_file():
            tail = (cp.stderr or cp.stdout).strip().splitlines()[-3:]
            raise JestError("reading the Jest config failed: " + " | ".join(tail))
        return json.loads(out.read_text())


def inspect_suite(suite: Suite, filters: list[str], shard: tuple[int, int] | None = None) -> SuiteConfig:
    """The test files and each project's resolved options; with ``shard`` (i, n), ``shard_files`` are the files of
    ``jest --shard=i/n`` as Jest's sequencer picks them."""
    try:
        doc, why = read_config(suite), None
    except JestError as exc:
        doc, why = None, str(exc)
    files = list_tests(suite, filters)
    shard_files = list_tests(suite, filters, [f"--shard={shard[0]}/{shard[1]}"]) if shard else None
    if doc is None:
        return SuiteConfig(files, [], {f: [] for f in files}, why, known=False, shard_files=shard_files)
    glob = doc.get("global") or {}
    projects = [_project(p, glob) for p in doc.get("projects") or []]
    file_projects: dict[str, list[int]] = {f: [] for f in files}
    names = [p.name for p in projects]
    distinct = all(names) and len(set(names)) == len(names)
    if len(projects) == 1:
        for f in files:
            file_projects[f] = [0]
    elif projects and distinct:
        for i, name in enumerate(names):
            for f in list_tests(suite, filters, ["--selectProjects", name]):
                file_projects.setdefault(f, []).append(i)
    notes = []
    if len(projects) > 1 and not distinct:
        notes.append("the suite's Jest projects have no distinct displayName: which project runs a file is not known")
    if suite.node_flags:
        notes.append("the test script runs Jest with --experimental-vm-modules (ESM): the lanes pass it in NODE_OPTIONS")
    return SuiteConfig(files, projects, file_projects, "jest", shard_files=shard_files, notes=notes)


def vm_modules_flag(root: Path) -> list[str]:
    """``--experimental-vm-modules`` when the suite's test script runs Jest with it (Jest's ESM support) and the
    environment does not already pass it: the lane runs the suite as its script does."""
    try:
        script = str((json.loads((root / "package.json").read_text()).get("scripts") or {}).get("test") or "")
    except (OSError, ValueError, AttributeError):
        return []
    flag = "--experimental-vm-modules"
    return [flag] if flag in script and flag not in os.environ.get("NODE_OPTIONS", "") else []


def setup_file() -> Path:
    return Path(str(resources.files("heaplens") / "js" / "jest-setup.cjs"))


WRAPPER = """// Generated by heaplens for one lane; safe to delete. The suite's own Jest config (read as Jest reads it) with
// heaplens's per-file hook first in every project's setupFilesAfterEnv.
'use strict';
const fs = require('fs');
const path = require('path');
const lane = %s;
%s
const withSetup = (cfg) => {
  if (!lane.setup.length) return cfg;
  const own = (cfg.setupFilesAfterEnv || []).filter((f) => !lane.setup.includes(f));
  return { ...cfg, setupFilesAfterEnv: [...lane.setup, ...own] };
};
const withTimeout = (cfg) => (lane.testTimeout ? { ...cfg, testTimeout: Math.max(cfg.testTimeout || 0, lane.testTimeout) } : cfg);
module.exports = async function heaplensJestConfig() {
  await heaplensGate();
  const { readInitialOptions } = require(lane.jestConfig);
  const opts = { packageRootOrConfig: lane.root, skipMultipleConfigError: true };
  const { config, configPath } = await readInitialOptions(lane.config || undefined, opts);
  const dir = configPath ? path.dirname(configPath) : lane.root;
  const rootDir = config.rootDir ? path.resolve(dir, config.rootDir) : dir;
  const out = withTimeout(withSetup({ ...config, rootDir }));
  if (Array.isArray(config.projects)) {
    out.projects = [];
    for (const p of config.projects) {
      if (p && typeof p === 'object') {
        const own = p.rootDir ? path.resolve(rootDir, String(p.rootDir).replace('<rootDir>', rootDir)) : rootDir;
        out.projects.push(withTimeout(withSetup({ ...p, rootDir: own })));
        continue;
      }
      // a project given by its directory or config file: read as Jest reads it, then given the hook
      const where = path.resolve(rootDir, String(p).replace('<rootDir>', rootDir));
      let read = null;
      try {
        if (fs.existsSync(where)) read = await readInitialOptions(where, { skipMultipleConfigError: true, parentConfigDirname: rootDir });
      } catch {}
      if (!read) {
        out.projects.push(p); // a glob: Jest expands it; its files run without heaplens's hook
        continue;
      }
      const pdir = read.configPath ? path.dirname(read.configPath) : where;
      out.projects.push(withTimeout(withSetup({ ...read.config, rootDir: read.config.rootDir ? path.resolve(pdir, read.config.rootDir) : pdir })));
    }
  }
  return out;
};
"""


def write_wrapper_config(path: Path, suite: Suite, *, trace: bool, test_timeout_ms: int | None) -> Path:
    entry = _jest_config_entry(suite.root)
    if entry is None:
        raise JestError("jest-config (Jest's config reader) not found beside the suite's jest")
    lane = {"jestConfig": str(entry), "root": str(suite.root), "config": str(suite.config) if suite.config else None,
            "setup": [str(setup_file())] if trace else [], "testTimeout": test_timeout_ms}
    path.write_text(WRAPPER % (json.dumps(lane, indent=2), MAIN_PID_JS + GATE_JS.rstrip("\n")))
    return path


def run_argv(suite: Suite, config_path: Path, files: list[str] | None, *, workers: int | None = None,
             extra: list[str] | None = None) -> list[str]:
    """The lane's command line: only what the lane changes (``--maxWorkers`` when it overrides the worker count);
    no file arguments when the lane runs every file (``files`` None): the suite's own ``jest [PATHS]``."""
    argv = [*suite.exec_prefix(), "--config", str(config_path)]
    if workers:
        argv.append(f"--maxWorkers={workers}")
    argv += list(extra or [])
    if files:
        argv += ["--runTestsByPath", *[str((suite.root / f).resolve()) for f in files]]
    return argv


# Jest 29/30: "A jest worker process (pid=1234) was terminated by another process: signal=SIGKILL, exitCode=null"
JEST_EXIT = re.compile(r"jest worker process \(pid=\d+\) was terminated by another process: signal=(\S+?),")


class JestRunner:
    """Jest behind the runner seam (:class:`heaplens.runner.seam.Runner`)."""

    name = "jest"
    title = "Jest"
    log_name = "jest.log"
    pools = POOLS
    thread_pools = THREAD_POOLS
    gated = True
    helper_titles: frozenset[str] = frozenset()
    crash_patterns = ("was terminated by another process", "Jest worker encountered", "Call retries were exceeded",
                      "worker process has failed to exit gracefully")
    # Jest 30 says it for a worker V8 stopped at its heap limit (Jest 29: Node's own "heap out of memory" lines)
    oom_patterns = ("Jest worker ran out of memory",)
    exit_pattern = None
    # jest-haste-map crawls the files with jest-worker children (the same child script as the test workers')
    untraced_children_are_helpers = True  # Jest's words for a dead worker do not name the files: the trace lines do

    def evidence(self, root: Path, pkg: dict) -> list[tuple[int, str]]:
        out = []
        cfg = find_config(root)
        if cfg is not None:
            out.append((3, cfg.name))
        if isinstance(pkg.get("jest"), dict):
            out.append((3, "package.json#jest"))
        return out + package_evidence(root, pkg, "jest")

    def load_suite(self, root: Path, config: str | None) -> Suite:
        return load_suite(root, config)

    def inspect(self, suite: Suite, filters: list[str], shard: tuple[int, int] | None = None) -> SuiteConfig:
        return inspect_suite(suite, filters, shard=shard)

    def check_overrides(self, pool: str | None, isolate: bool | None) -> None:
        if pool is not None:
            raise UsageError(f"--pool {pool}: Jest has no pools to choose (its workers are jest-worker processes, "
                             "`workerThreads` in its config, or --runInBand after `--`)")
        if isolate is not None:
            raise UsageError("--isolate/--no-isolate: Jest always gives each test file a fresh module registry")

    def per_file_worker(self, pool: str | None, isolate: bool | None) -> bool:
        return False  # a Jest worker runs file after file (a fresh registry each, the same process)

    def lane_command(self, suite: Suite, setup: LaneSetup) -> LaneCommand:
        lane = setup.lane
        config_path = setup.config_dir / f"{lane.name}.jest.config.cjs"
        write_wrapper_config(config_path, suite, trace=setup.trace, test_timeout_ms=setup.test_timeout_ms)
        argv = run_argv(suite, config_path, None if lane.all_files else lane.files, workers=lane.workers,
                        extra=[*setup.extra_args, *lane.runner_paths()])
        flags = [*suite.node_flags, *setup.exec_argv]
        env = {"NODE_OPTIONS": " ".join(flags)} if flags else {}
        return LaneCommand(argv, env, {}, [config_path])

    def command_text(self, lane) -> str:
        return ("jest" + (f" --maxWorkers={lane.workers}" if lane.workers else "")
                + lane.files_text(" --runTestsByPath"))


RUNNER = JestRunner()
