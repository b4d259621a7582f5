"""`make demo`: the whole job on the bundled example suite — `heaplens investigate --apply --verify`.

The suite (examples/demo/suite) is copied to .heaplens/demo/suite and installed there (npm ci), so the
demo can edit its behavior manifest without touching the repository. Its shared lane runs twelve
large generated modules through one long-lived worker (module-graph retention: heaplens isolates the
test files that load them, then reruns and measures), and one already-isolated file leaks sessions into
a module-level Map (a runtime leak: heaplens names the variable and the cleanup, and leaves the code
alone).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SUITE = HERE / "suite"
WORK = ROOT / ".heaplens" / "demo" / "suite"


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}", flush=True)


def run(*cmd: str, cwd: Path, check: bool = True) -> int:
    print(f"$ (cd {cwd.relative_to(ROOT) if cwd.is_relative_to(ROOT) else cwd}) " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=cwd, check=check).returncode


def main() -> int:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            print(f"make demo needs {tool} (Node >= 20) on PATH", file=sys.stderr)
            return 2
    step("copy the example suite")
    if WORK.exists():
        shutil.rmtree(WORK)
    shutil.copytree(SUITE, WORK, ignore=shutil.ignore_patterns("node_modules", ".heaplens", "generated"))
    print(f"{SUITE.relative_to(ROOT)} → {WORK.relative_to(ROOT)}")
    step("install it (npm ci) and generate its large modules")
    run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=WORK)
    run("node", "gen.mjs", cwd=WORK)
    step("heaplens investigate --apply --verify")
    env_cmd = [sys.executable, "-m", "heaplens"]
    # investigate's default capture: snapshots at test-file boundaries within the overhead budget
    code = subprocess.run([*env_cmd, "investigate", "--workers", "1", "--apply", "--verify"], cwd=WORK,
                          env={**os.environ, "HEAPLENS_PROGRESS": os.environ.get("HEAPLENS_PROGRESS", "1")}).returncode
    step("what changed in the suite")
    subprocess.run(["git", "--no-pager", "diff", "--no-index", "--stat",
                    str(SUITE / "test/fixtures/test-parallel.behavior.json"),
                    str(WORK / "test/fixtures/test-parallel.behavior.json")])
    html = sorted((WORK / ".heaplens" / "runs").glob("*/report.html"))
    if html:
        print(f"\nHTML report: {html[0]}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
