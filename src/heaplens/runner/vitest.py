"""The Vitest runner: the suite's Vitest (version, file listing, each project's resolved config) and the command of
one lane — a generated config that imports the suite's own and adds heaplens's setup file (``js/trace-setup.mjs``)
and worker flags. :data:`RUNNER` is Vitest's implementation of :class:`heaplens.runner.seam.Runner`.

Everything here starts real processes through the suite's own package manager (chosen from the lockfile),
as a list of arguments: file paths never pass through a shell that heaplens composes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import UsageError
from .suite import (  # noqa: F401  (LOCKFILES, find_root, … are this module's names for its callers)
    GATE_JS,
    LOCKFILES,
    MAIN_PID_JS,
    LaneCommand,
    LaneSetup,
    Project,
    RunnerError,
    SuiteConfig,
    detect_package_manager,
    direct_cli,
    exec_prefix,
    find_root,
    first_file,
    node_version,
    package_bin,
    package_evidence,
    package_json,
    rel_to_root,
    resolve_config,
    runner_env,
)

CONFIG_NAMES = tuple(
    f"{stem}.config.{ext}" for stem in ("vitest", "vite") for ext in ("ts", "mts", "cts", "js", "mjs", "cjs")
)


class VitestError(RunnerError):
    """Vitest could not be found or could not list the suite's files."""


@dataclass
class Suite:
    root: Path
    package_manager: str
    vitest_version: str
    node_version: str
    config: Path | None

    @property
    def vitest_major(self) -> int:
        try:
            return int(self.vitest_version.split(".")[0])
        except ValueError:
            return 0

    @property
    def version(self) -> str:
        return self.vitest_version

    @property
    def runner(self) -> VitestRunner:
        return RUNNER

    def exec_prefix(self) -> list[str]:
        """argv that runs the suite's local ``vitest`` binary through its package manager."""
        try:
            return exec_prefix(self.package_manager, "vitest", vitest_bin(self.root))
        except RunnerError as exc:
            raise VitestError(str(exc)) from None


def vitest_package(root: Path) -> Path | None:
    return package_json("vitest", root)


def vitest_bin(root: Path) -> Path | None:
    """The suite's Vitest CLI script (``bin.vitest`` of its package.json), if it is a plain file."""
    return package_bin("vitest", root)


def vitest_version(root: Path) -> str:
    pj = vitest_package(root)
    if pj is not None:
        try:
            return str(json.loads(pj.read_text())["version"])
        except (OSError, ValueError, KeyError):
            pass
    raise VitestError(
        f"vitest is not installed for {root} (no node_modules/vitest): install the suite's dependencies first"
    )


def find_config(root: Path) -> Path | None:
    """The config Vitest itself loads from ``root``: vitest.config.* before vite.config.*."""
    return first_file(root, CONFIG_NAMES)


def load_suite(root: Path, config: str | None = None) -> Suite:
    cfg = resolve_config(root, config, CONFIG_NAMES, "vitest")
    return Suite(
        root=root,
        package_manager=detect_package_manager(root),
        vitest_version=vitest_version(root),
        node_version=node_version(),
        config=cfg,
    )


POOLS = ("forks", "threads", "vmForks", "vmThreads")
THREAD_POOLS = ("threads", "vmThreads")


def _node_entry(suite: Suite) -> Path | None:
    """The file ``import 'vitest/node'`` resolves to in the suite (from its package.json ``exports``)."""
    pj = vitest_package(suite.root)
    if pj is None:
        return None
    try:
        exports = json.loads(pj.read_text()).get("exports") or {}
    except (OSError, ValueError):
        return None
    entry = exports.get("./node") if isinstance(exports, dict) else None
    for _ in range(4):  # nested conditions: {"import": {"default": …}} etc.
        if isinstance(entry, dict):
            entry = entry.get("import") or entry.get("default") or entry.get("node")
    if not isinstance(entry, str):
        return None
    path = (pj.parent / entry).resolve()
    return path if path.is_file() else None


def _rel(suite: Suite, f: str) -> str:
    return rel_to_root(suite.root, f)


def _project(doc: dict) -> Project:
    mw = doc.get("maxWorkers")
    return Project(
        name=str(doc.get("name") or ""),
        pool=str(doc.get("pool") or "forks"),
        isolate=bool(doc.get("isolate", True)),
        max_workers=mw if isinstance(mw, (int, str)) and not isinstance(mw, bool) else None,
        file_parallelism=bool(doc.get("fileParallelism", True)),
        environment=str(doc.get("environment") or "node"),
        setup_files=[str(x) for x in doc.get("setupFiles") or []],
        exec_argv=[str(x) for x in doc.get("execArgv") or []],
        raw=doc,
    )


def inspect_suite(suite: Suite, filters: list[str], timeout: float = 600,
                  shard: tuple[int, int] | None = None) -> SuiteConfig:
    """The test files (relative to the root, POSIX separators, Vitest's order, no duplicates) and each
    project's resolved options, read from Vitest itself (``js/inspect.mjs``: ``createVitest`` + the
    ``getRelevantTestSpecifications`` call ``vitest list --filesOnly`` makes). If that fails (a Vitest
    without this API), the files come from ``vitest list`` and the config is marked unknown.

    With ``shard`` (i, n), ``shard_files`` are the files of shard i as ``vitest run --shard i/n`` runs them,
    chosen by Vitest's own sharding (its sequencer's ``shard()``), never by heaplens."""
    entry = _node_entry(suite)
    node = shutil.which("node")
    why = "vitest/node not found"
    shard_text = f"{shard[0]}/{shard[1]}" if shard else ""
    if entry is not None and node:
        with tempfile.TemporaryDirectory(prefix="heaplens-inspect-") as tmp:
            out = Path(tmp) / "suite.json"
            script = Path(str(resources.files("heaplens") / "js" / "inspect.mjs"))
            argv = [node, str(script), str(entry), str(out), str(suite.config or ""), *filters]
            env = runner_env()
            env["HEAPLENS_VITEST_MAJOR"] = str(suite.vitest_major)
            env["HEAPLENS_INSPECT_SHARD"] = shard_text
            try:
                cp = subprocess.run(argv, cwd=suite.root, capture_output=True, text=True, env=env, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise VitestError(f"reading the Vitest config took more than {timeout:.0f} s") from None
            if cp.returncode == 0 and out.is_file():
                doc = json.loads(out.read_text())
                projects = [_project(p) for p in doc.get("projects") or []]
                files: dict[str, list[int]] = {}
                for e in doc.get("files") or []:
                    rel = _rel(suite, e["file"])
                    idx = files.setdefault(rel, [])
                    if e.get("project") is not None and e["project"] not in idx:
                        idx.append(int(e["project"]))
                config = SuiteConfig(list(files), projects, files, "vitest")
                if shard:
                    if doc.get("shardError"):
                        raise UsageError(f"--shard {shard_text}: Vitest says: {doc['shardError']}")
                    config.shard_files = list(dict.fromkeys(_rel(suite, e["file"]) for e in doc.get("shardFiles") or []
                                                            if e.get("file")))
                return config
            tail = (cp.stderr or cp.stdout).strip().splitlines()[-3:]
            if "No test files found" in (cp.stdout + cp.stderr):
                return SuiteConfig([], [], {}, "vitest", shard_files=[] if shard else None)
            why = "reading the config failed: " + " | ".join(tail)
    files = list_files(suite, filters)
    config = SuiteConfig(files, [], {f: [] for f in files}, why, known=False)
    if shard:
        # `vitest list --shard` collects the files (imports them) and shards as `vitest run` does; with
        # --filesOnly, Vitest 3 and 4 would list every file
        config.shard_files = list_files(suite, filters, extra=[f"--shard={shard_text}"], files_only=False)
    return config


def list_files(suite: Suite, filters: list[str], extra: list[str] | None = None, timeout: float = 600,
               files_only: bool = True) -> list[str]:
    """Test files as Vitest itself resolves them (``vitest list --filesOnly --json=FILE``), relative to
    the root, POSIX separators, in Vitest's order, without duplicates (a file in two projects is one file)."""
    with tempfile.TemporaryDirectory(prefix="heaplens-list-") as tmp:
        out = Path(tmp) / "files.json"
        argv = [*direct_cli(suite, "vitest"), "list", *(["--filesOnly"] if files_only else []), f"--json={out}", "--root", str(suite.root)]
        if suite.config is not None:
            argv += ["--config", str(suite.config)]
        argv += [*(extra or []), *filters]
        cp = subprocess.run(argv, cwd=suite.root, capture_output=True, text=True, env=runner_env(), timeout=timeout)
        if not out.is_file():
            tail = (cp.stderr or cp.stdout).strip().splitlines()[-5:]
            if cp.returncode == 0 or "No test files found" in (cp.stdout + cp.stderr):
                return []
            raise VitestError(f"`vitest list` failed (exit {cp.returncode}): " + " | ".join(tail))
        data = json.loads(out.read_text() or "[]")
    seen: dict[str, None] = {}
    for entry in data:
        f = entry.get("file") if isinstance(entry, dict) else entry
        if not f:
            continue
        seen.setdefault(_rel(suite, f), None)
    return list(seen)


def setup_file() -> Path:
    return Path(str(resources.files("heaplens") / "js" / "trace-setup.mjs"))


WORKSPACE_FILES = tuple(
    f"vitest.workspace.{ext}" for ext in ("ts", "mts", "cts", "js", "mjs", "cjs", "json")
)

# A Vitest globalSetup of the lane's root config, generated beside it when the suite has projects. The projects
# that do not extend the root config (inline ones without `extends: true` on Vitest 3/4, `extends: false` on 5,
# directory and config-file projects on all) never see the root `test` options, so heaplens's setup file and
# worker flags are added here to every *resolved* project. The root project's globalSetup always runs, in
# Vitest's main process, after the projects are resolved and before any worker of the run starts (the pool
# reads `setupFiles` and, on Vitest >= 4, `execArgv` from each project's config when it starts a worker).
# Adding is idempotent: a project that already has a value (it extends the root config) keeps one copy.
# The worker flags go only to projects whose pool runs a process per worker (forks, vmForks): a worker
# thread refuses V8 flags in its execArgv (ERR_WORKER_INVALID_EXEC_ARGV); threads get the heap limit from
# the lane's NODE_OPTIONS instead.
PROJECTS_HOOK = """// Generated by heaplens for one lane; safe to delete.
const heaplens = %s;
const THREADS = ['threads', 'vmThreads'];
function toList(list) {
  return Array.isArray(list) ? [...list] : (list == null ? [] : [list]);
}
function withAll(list, items) {
  const out = toList(list);
  for (const item of items) if (!out.includes(item)) out.push(item);
  return out;
}
function first(list, items) {
  const out = toList(list).filter((x) => !items.includes(x));
  return [...items, ...out];
}
export default function heaplensProjects(project) {
  const vitest = project && project.vitest;
  const projects = new Set(vitest && Array.isArray(vitest.projects) ? vitest.projects : []);
  if (project) projects.add(project);
  for (const p of projects) {
    const c = p && p.config;
    if (!c) continue;
    if (heaplens.setupFiles.length) c.setupFiles = first(c.setupFiles, heaplens.setupFiles);
    const pool = c.pool || 'forks';
    if (heaplens.major >= 4) {
      if (!THREADS.includes(pool)) c.execArgv = withAll(c.execArgv, heaplens.execArgv);
      else if (c.execArgv) c.execArgv = toList(c.execArgv).filter((x) => !heaplens.execArgv.includes(x));
    } else {
      c.poolOptions = c.poolOptions || {};
      for (const key of ['forks', 'vmForks']) {
        c.poolOptions[key] = c.poolOptions[key] || {};
        c.poolOptions[key].execArgv = withAll(c.poolOptions[key].execArgv, heaplens.execArgv);
      }
      if (heaplens.isolate != null) {
        for (const key of ['forks', 'threads']) {
          c.poolOptions[key] = c.poolOptions[key] || {};
          c.poolOptions[key].isolate = heaplens.isolate;
        }
      }
    }
    for (const [key, value] of Object.entries(heaplens.timeouts)) c[key] = value;
  }
}
"""




def projects_hook_path(config_path: Path) -> Path:
    """Where the projects hook of a generated lane config is written (beside it, same stem)."""
    name = config_path.name
    stem = name[: -len(".vitest.config.mjs")] if name.endswith(".vitest.config.mjs") else config_path.stem
    return config_path.with_name(stem + ".heaplens-projects.mjs")


def write_wrapper_config(
    path: Path,
    suite: Suite,
    *,
    exec_argv: list[str],
    trace: bool,
    test_timeout_ms: int | None,
    pool: str | None = None,
    isolate: bool | None = None,
) -> Path:
    """A Vitest config that imports the suite's own config and adds heaplens's parts only: the trace setup
    file (first, so that its hooks wrap the suite's), the worker Node flags (``execArgv`` where each major
    version wants them, for process pools only) and, with interval snapshots, raised timeouts. The suite's
    pool, isolate, workers, environment and projects are left as its config says; a lane that deviates
    (``pool``/``isolate`` given) also says so on the command line (:func:`run_argv`), and on Vitest 3 in the
    per-pool options that would otherwise win. It also writes Vitest's main PID (the config is evaluated
    in that process): the fork workers are that process's children.

    When the suite's config declares ``test.projects`` (or ``test.workspace``, or a ``vitest.workspace.*``
    file exists), the same parts are also added to every resolved project by a generated globalSetup
    (:data:`PROJECTS_HOOK`, written beside ``path``), since projects that do not extend the root config
    would not see them."""
    setup = [str(setup_file())] if trace else []
    major = suite.vitest_major or 99
    timeouts = {}
    if test_timeout_ms:
        timeouts = {"testTimeout": test_timeout_ms, "hookTimeout": test_timeout_ms,
                    "teardownTimeout": test_timeout_ms}
    hook = projects_hook_path(path)
    hook.write_text(PROJECTS_HOOK % json.dumps({
        "setupFiles": setup,
        "execArgv": exec_argv,
        "major": major,
        "timeouts": timeouts,
        "isolate": isolate,
    }, indent=2))
    workspace_file = any((suite.root / n).is_file() for n in WORKSPACE_FILES)
    user_import = f"import * as userModule from {json.dumps(str(suite.config))};" if suite.config else "const userModule = {};"
    lane = {"setupFiles": setup, "execArgv": exec_argv, "major": major, "timeouts": timeouts, "pool": pool,
            "isolate": isolate}
    text = f"""// Generated by heaplens for one lane; safe to delete.
import fs from 'node:fs';
import {{ mergeConfig }} from 'vitest/config';
{user_import}
const lane = {json.dumps(lane, indent=2)};
const projectsHook = {json.dumps(str(hook))};
const workspaceFile = {json.dumps(workspace_file)};
const THREADS = ['threads', 'vmThreads'];
{MAIN_PID_JS}const toList = (x) => (Array.isArray(x) ? x : x == null ? [] : [x]);
{GATE_JS}export default async function heaplensConfig(env) {{
  await heaplensGate();
  let user = userModule.default ?? {{}};
  if (typeof user === 'function') user = await user(env);
  user = (await user) ?? {{}};
  const t = user.test ?? {{}};
  const pool = lane.pool ?? t.pool ?? 'forks';
  const test = {{ ...lane.timeouts }};
  const projects = workspaceFile || t.projects != null || t.workspace != null;
  if (lane.major >= 4) {{
    // with projects, each project gets the flags from the projects hook, by its own pool
    if (!projects && !THREADS.includes(pool) && lane.execArgv.length) test.execArgv = lane.execArgv;
    if (lane.isolate != null) test.isolate = lane.isolate;
  }} else {{
    test.poolOptions = {{ forks: {{ execArgv: lane.execArgv }}, vmForks: {{ execArgv: lane.execArgv }} }};
    if (lane.isolate != null) {{
      test.isolate = lane.isolate;
      test.poolOptions.forks.isolate = lane.isolate;
      test.poolOptions.threads = {{ isolate: lane.isolate }};
    }}
  }}
  if (projects) test.globalSetup = [projectsHook];
  const merged = mergeConfig(user, {{ test }});
  merged.test = merged.test ?? {{}};
  if (lane.setupFiles.length) {{
    merged.test.setupFiles = [...lane.setupFiles, ...toList(merged.test.setupFiles).filter((f) => !lane.setupFiles.includes(f))];
  }}
  return merged;
}}
"""
    path.write_text(text)
    return path


def run_argv(suite: Suite, config_path: Path, files: list[str] | None, *, workers: int | None = None,
             pool: str | None = None, isolate: bool | None = None, extra: list[str] | None = None) -> list[str]:
    """The lane's command line. Only what the lane changes is given: no ``--pool``, ``--isolate`` or
    ``--maxWorkers`` unless the lane deviates from the suite's config, and no file filters when the lane
    runs every file (``files`` None), so the run is the suite's own ``vitest run``."""
    argv = [*suite.exec_prefix(), "run", "--root", str(suite.root), "--config", str(config_path)]
    if pool:
        argv.append(f"--pool={pool}")
    if workers:
        argv.append(f"--maxWorkers={workers}")
        if suite.vitest_major and suite.vitest_major < 4:
            argv.append("--minWorkers=1")
    if isolate is not None:
        argv.append("--isolate" if isolate else "--no-isolate")
    argv += list(extra or [])
    if files:
        argv += [str((suite.root / f).resolve()) for f in files]
    return argv


# Vitest ≥ 4: "Worker exited unexpectedly with signal SIGABRT during started state while running test files A, B"
VITEST_EXIT = re.compile(r"exited unexpectedly with (?:signal|code) (\S+) .*?while running test files? (.+)")


class VitestRunner:
    """Vitest behind the runner seam (:class:`heaplens.runner.seam.Runner`)."""

    name = "vitest"
    title = "Vitest"
    log_name = "vitest.log"
    pools = POOLS
    thread_pools = THREAD_POOLS
    gated = True
    # Children of Vitest's main process that are not workers, by the process title they set. Vitest 5 forks a
    # "vitest-watchdog" (same Node binary, started with the first worker) that kills the workers if the main
    # process dies: it has no snapshot signal handler (SIGUSR2 would kill it) and ignores SIGINT/SIGTERM.
    helper_titles = frozenset({"vitest-watchdog"})
    oom_patterns: tuple[str, ...] = ()  # Node's own words (execute.OOM_PATTERNS) are enough
    untraced_children_are_helpers = False  # its helpers are told apart by title
    crash_patterns = ("Worker exited unexpectedly", "Worker terminated due to", "Channel closed", "worker exited")
    exit_pattern = VITEST_EXIT

    def evidence(self, root: Path, pkg: dict) -> list[tuple[int, str]]:
        out = []
        cfg = next((n for n in CONFIG_NAMES if n.startswith("vitest.") and (root / n).is_file()), None)
        if cfg:
            out.append((3, cfg))
        elif any((root / n).is_file() for n in WORKSPACE_FILES):
            out.append((3, "vitest.workspace"))
        return out + package_evidence(root, pkg, "vitest")

    def load_suite(self, root: Path, config: str | None) -> Suite:
        return load_suite(root, config)

    def inspect(self, suite: Suite, filters: list[str], shard: tuple[int, int] | None = None) -> SuiteConfig:
        return inspect_suite(suite, filters, shard=shard)

    def check_overrides(self, pool: str | None, isolate: bool | None) -> None:
        if pool is not None and pool not in POOLS:
            raise UsageError(f"--pool {pool}: not a Vitest pool ({', '.join(POOLS)})")

    def per_file_worker(self, pool: str | None, isolate: bool | None) -> bool:
        return bool(isolate) and pool in ("forks", "threads")

    def lane_command(self, suite: Suite, setup: LaneSetup) -> LaneCommand:
        lane = setup.lane
        config_path = setup.config_dir / f"{lane.name}.vitest.config.mjs"
        cfg = write_wrapper_config(config_path, suite, exec_argv=setup.exec_argv, trace=setup.trace,
                                   test_timeout_ms=setup.test_timeout_ms, pool=lane.pool, isolate=lane.isolate)
        # a lane with every listed file runs as the suite's own `vitest run [PATHS]`; others name their files
        argv = run_argv(suite, cfg, None if lane.all_files else lane.files, workers=lane.workers, pool=lane.pool,
                        isolate=lane.isolate, extra=[*setup.extra_args, *lane.runner_paths()])
        env = {}
        heap = [a for a in setup.exec_argv if a.startswith("--max-old-space-size=")]
        if heap and setup.pools & set(THREAD_POOLS):
            # worker threads take V8's heap limit from the process's flags (the Vitest main process's)
            env["NODE_OPTIONS"] = " ".join(heap)
        return LaneCommand(argv, env, {"VITEST_GROUP": lane.name}, [config_path, projects_hook_path(config_path)])

    def command_text(self, lane) -> str:
        return ("vitest run" + (f" --pool={lane.pool}" if lane.pool else "")
                + (f" --maxWorkers={lane.workers}" if lane.workers else "")
                + ("" if lane.isolate is None else (" --isolate" if lane.isolate else " --no-isolate"))
                + lane.files_text())


RUNNER = VitestRunner()
