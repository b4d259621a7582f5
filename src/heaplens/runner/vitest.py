"""The suite side: its package manager, its Vitest (version, file listing) and the command of one lane.

Everything here starts real processes through the suite's own package manager (chosen from the lockfile),
as a list of arguments: file paths never pass through a shell that heaplens composes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import HeaplensError, UsageError

LOCKFILES = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
)

CONFIG_NAMES = tuple(
    f"{stem}.config.{ext}" for stem in ("vitest", "vite") for ext in ("ts", "mts", "cts", "js", "mjs", "cjs")
)


class VitestError(HeaplensError):
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

    def exec_prefix(self) -> list[str]:
        """argv that runs the suite's local ``vitest`` binary through its package manager."""
        pm = self.package_manager
        exe = shutil.which(pm)
        if exe is None:
            raise VitestError(f"the suite uses {pm} (from its lockfile) but {pm} is not on PATH")
        if pm == "npm":
            return [exe, "exec", "--no", "--", "vitest"]
        if pm == "pnpm":
            return [exe, "exec", "vitest"]
        return [exe, "vitest"]  # yarn 1 and berry both run a dependency's bin this way


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


def vitest_package(root: Path) -> Path | None:
    for d in (root, *root.parents):
        pj = d / "node_modules" / "vitest" / "package.json"
        if pj.is_file():
            return pj
    return None


def vitest_bin(root: Path) -> Path | None:
    """The suite's Vitest CLI script (``bin.vitest`` of its package.json), if it is a plain file."""
    pj = vitest_package(root)
    if pj is None:
        return None
    try:
        b = json.loads(pj.read_text()).get("bin")
    except (OSError, ValueError):
        return None
    rel = b.get("vitest") if isinstance(b, dict) else b
    if not isinstance(rel, str):
        return None
    path = (pj.parent / rel).resolve()
    return path if path.is_file() else None


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


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        raise VitestError("node is not on PATH")
    return subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def find_config(root: Path) -> Path | None:
    for name in CONFIG_NAMES:
        if (root / name).is_file():
            return root / name
    return None


def load_suite(root: Path, config: str | None = None) -> Suite:
    cfg = None
    if config:
        cfg = Path(config)
        if not cfg.is_absolute():
            cfg = (root / cfg).resolve()
        if not cfg.is_file():
            raise UsageError(f"vitest config not found: {cfg}")
    else:
        cfg = find_config(root)
    return Suite(
        root=root,
        package_manager=detect_package_manager(root),
        vitest_version=vitest_version(root),
        node_version=node_version(),
        config=cfg,
    )


def list_files(suite: Suite, filters: list[str], extra: list[str] | None = None, timeout: float = 600) -> list[str]:
    """Test files as Vitest itself resolves them (``vitest list --filesOnly --json=FILE``), relative to
    the root, POSIX separators, in Vitest's order, without duplicates (a file in two projects is one file)."""
    with tempfile.TemporaryDirectory(prefix="heaplens-list-") as tmp:
        out = Path(tmp) / "files.json"
        # The suite's own Vitest CLI run by Node directly: the same resolution as through the package manager,
        # without its start-up (npm exec alone takes 0.5-1 s); the lanes do go through the package manager.
        script = vitest_bin(suite.root)
        node = shutil.which("node")
        prefix = [node, str(script)] if (script is not None and node) else suite.exec_prefix()
        argv = [*prefix, "list", "--filesOnly", f"--json={out}", "--root", str(suite.root)]
        if suite.config is not None:
            argv += ["--config", str(suite.config)]
        argv += [*(extra or []), *filters]
        env = dict(os.environ)
        env.setdefault("CI", "true")  # no watch mode, no TTY tricks
        cp = subprocess.run(argv, cwd=suite.root, capture_output=True, text=True, env=env, timeout=timeout)
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
        p = Path(f)
        if not p.is_absolute():
            p = suite.root / p
        try:
            rel = p.resolve().relative_to(suite.root.resolve()).as_posix()
        except ValueError:
            rel = p.resolve().as_posix()
        seen.setdefault(rel, None)
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
PROJECTS_HOOK = """// Generated by heaplens for one lane; safe to delete.
const heaplens = %s;
function withAll(list, items) {
  const out = Array.isArray(list) ? [...list] : (list == null ? [] : [list]);
  for (const item of items) if (!out.includes(item)) out.push(item);
  return out;
}
export default function heaplensProjects(project) {
  const vitest = project && project.vitest;
  const projects = new Set(vitest && Array.isArray(vitest.projects) ? vitest.projects : []);
  if (project) projects.add(project);
  for (const p of projects) {
    const c = p && p.config;
    if (!c) continue;
    if (heaplens.setupFiles.length) c.setupFiles = withAll(c.setupFiles, heaplens.setupFiles);
    if (heaplens.major >= 4) {
      c.execArgv = withAll(c.execArgv, heaplens.execArgv);
    } else {
      c.poolOptions = c.poolOptions || {};
      c.poolOptions.forks = c.poolOptions.forks || {};
      c.poolOptions.forks.execArgv = withAll(c.poolOptions.forks.execArgv, heaplens.execArgv);
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
    isolate: bool,
    trace: bool,
    test_timeout_ms: int | None,
) -> Path:
    """A Vitest config that imports the suite's own config and adds heaplens's parts: the trace setup
    file, the worker Node flags (``execArgv``, where each major version wants them) and the isolate
    setting. It also writes Vitest's main PID (the config is evaluated in that process), which is how
    the workers are found: as that process's children.

    When the suite's config declares ``test.projects`` (or ``test.workspace``, or a ``vitest.workspace.*``
    file exists), the same parts are also added to every resolved project by a generated globalSetup
    (:data:`PROJECTS_HOOK`, written beside ``path``), since projects that do not extend the root config
    would not see them."""
    test: dict = {}
    if trace:
        test["setupFiles"] = [str(setup_file())]
    major = suite.vitest_major
    if major and major < 4:
        test["poolOptions"] = {"forks": {"execArgv": exec_argv, "isolate": isolate}}
    else:
        test["execArgv"] = exec_argv
    test["isolate"] = isolate
    timeouts = {}
    if test_timeout_ms:
        timeouts = {"testTimeout": test_timeout_ms, "hookTimeout": test_timeout_ms,
                    "teardownTimeout": test_timeout_ms}
        test.update(timeouts)
    overrides = {"test": test}
    hook = projects_hook_path(path)
    hook.write_text(PROJECTS_HOOK % json.dumps({
        "setupFiles": test.get("setupFiles", []),
        "execArgv": exec_argv,
        "major": major or 99,
        "timeouts": timeouts,
    }, indent=2))
    workspace_file = any((suite.root / n).is_file() for n in WORKSPACE_FILES)
    user_import = f"import * as userModule from {json.dumps(str(suite.config))};" if suite.config else "const userModule = {};"
    text = f"""// Generated by heaplens for one lane; safe to delete.
import fs from 'node:fs';
import {{ mergeConfig }} from 'vitest/config';
{user_import}
const overrides = {json.dumps(overrides, indent=2)};
const projectsHook = {json.dumps(str(hook))};
const workspaceFile = {json.dumps(workspace_file)};
if (process.env.HEAPLENS_MAIN_PID_FILE) {{
  try {{ fs.writeFileSync(process.env.HEAPLENS_MAIN_PID_FILE, String(process.pid)); }} catch {{}}
}}
export default async function heaplensConfig(env) {{
  let user = userModule.default ?? {{}};
  if (typeof user === 'function') user = await user(env);
  user = (await user) ?? {{}};
  const t = user.test ?? {{}};
  const projects = workspaceFile || t.projects != null || t.workspace != null;
  return mergeConfig(user, projects ? mergeConfig(overrides, {{ test: {{ globalSetup: [projectsHook] }} }}) : overrides);
}}
"""
    path.write_text(text)
    return path


def run_argv(suite: Suite, config_path: Path, files: list[str], workers: int | None, isolate: bool,
             extra: list[str]) -> list[str]:
    argv = [*suite.exec_prefix(), "run", "--root", str(suite.root), "--config", str(config_path), "--pool=forks"]
    if workers:
        argv.append(f"--maxWorkers={workers}")
        if suite.vitest_major and suite.vitest_major < 4:
            argv.append("--minWorkers=1")
    argv.append("--isolate" if isolate else "--no-isolate")
    argv += extra
    argv += [str((suite.root / f).resolve()) for f in files]
    return argv
