"""The Vitest config edit, checked by the suite's own Vitest (3, 4 and 5 from npm), not by heaplens.

tests/runner/fixtures/configs/suite is one small suite: `a` and `b` log a module-level counter they share;
`hot1` and `hot-[2]` expect it at 1, so they pass only isolated. Each variant (variants/*: a TS config with
`satisfies`, the function form, a plain object with Vitest's default include, mergeConfig with a local
vite.config, inline projects, a CommonJS config, a Vitest 3 workspace file) sets `isolate: false`. After
heaplens's edit, plain `vitest list` must put the hot files in the new project only and the others in the shared
one (and nothing from node_modules: a trap test file sits in suite/node_modules), and plain `vitest run` with one
worker must pass — the hot files isolated, `a` and `b` still sharing their worker (they see 1 and 2)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from heaplens.fix.vitest_config import find_config, plan_isolation
from helpers import npm_ci

FIXTURES = Path(__file__).parent.parent / "runner" / "fixtures"
CONFIGS = FIXTURES / "configs"
HOT = ["suite/hot1.test.js", "suite/hot-[2].test.js"]

CASES = [
    ("define-ts", 3), ("projects", 3), ("workspace", 3),
    ("function-form", 4), ("plain-object", 4), ("merge", 4), ("cjs", 4), ("projects", 4),
    ("define-ts", 5), ("function-form", 5), ("plain-object", 5), ("projects", 5),
]


def make_suite(tmp: Path, variant: str, version: int) -> Path:
    fixture = npm_ci(FIXTURES / f"v{version}")
    shutil.copytree(CONFIGS / "suite", tmp / "suite")
    for p in (CONFIGS / "variants" / variant).iterdir():
        (shutil.copytree if p.is_dir() else shutil.copy)(p, tmp / p.name)
    (tmp / "package.json").write_text('{"type": "module", "private": true}\n')
    os.symlink(fixture / "node_modules", tmp / "node_modules")
    trap = tmp / "suite" / "node_modules" / "trap"
    trap.mkdir(parents=True)
    (trap / "x.test.js").write_text("import { test } from 'vitest'\ntest('trap', () => { throw new Error('collected') })\n")
    return tmp


def vitest(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["node", "node_modules/vitest/vitest.mjs", *args], cwd=tmp, capture_output=True, text=True,
                          env={**os.environ, "CI": "true", "NO_COLOR": "1"}, timeout=300)


def listed(tmp: Path) -> dict[str, list[str]]:
    out = tmp / "list.json"
    cp = vitest(tmp, "list", "--filesOnly", f"--json={out}")
    assert out.is_file(), cp.stdout + cp.stderr
    by: dict[str, list[str]] = {}
    for e in json.loads(out.read_text()):
        by.setdefault(e.get("projectName") or "", []).append(Path(e["file"]).relative_to(tmp).as_posix())
    return {k: sorted(v) for k, v in by.items()}


@pytest.mark.parametrize("variant,version", CASES, ids=[f"{v}-v{n}" for v, n in CASES])
def test_after_the_edit_vitest_runs_the_hot_files_isolated(tmp_path, variant, version):
    tmp = make_suite(tmp_path, variant, version)
    config = tmp / "vitest.config.mjs" if variant == "workspace" else find_config(tmp)
    edit = plan_isolation(config, HOT, root=tmp)
    assert not edit.refused, edit.refused_reason
    assert edit.apply() is True
    projects = listed(tmp)
    iso = edit.isolated_projects
    assert len(iso) == 1 and projects[iso[0]] == sorted(HOT), projects
    shared = edit.shared_projects[0]
    assert projects[shared] == ["suite/a.test.js", "suite/b.test.js"], projects
    assert not any("node_modules" in f for files in projects.values() for f in files)
    workers = ["--maxWorkers=1", "--minWorkers=1"] if version == 3 else ["--maxWorkers=1"]
    cp = vitest(tmp, "run", *workers)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-2000:]
    counts = dict(re.findall(r"HL-COUNT (\S+) (\d+)", cp.stdout + cp.stderr))
    assert counts["hot1"] == counts["hot-[2]"] == "1"  # isolated: a fresh counter each
    assert sorted([counts["a"], counts["b"]]) == ["1", "2"]  # still one shared worker for the others


def test_the_unedited_variant_fails_so_the_check_can_fail(tmp_path):
    """Without the edit the hot files share the worker and one of them sees the counter past 1."""
    tmp = make_suite(tmp_path, "define-ts", 4)
    cp = vitest(tmp, "run", "--maxWorkers=1")
    assert cp.returncode == 1 and "expected 2 to be 1" in (cp.stdout + cp.stderr).replace("\x1b", "")


def test_a_refused_config_is_left_as_it_was(tmp_path):
    tmp = make_suite(tmp_path, "define-ts", 4)
    cfg = tmp / "vitest.config.ts"
    (tmp / "shared.mjs").write_text("export default { isolate: false, include: ['suite/**/*.test.js'] }\n")
    text = "import { defineConfig } from 'vitest/config'\nimport shared from './shared.mjs'\n\n" \
           "export default defineConfig({ test: { ...shared } })\n"
    cfg.write_text(text)
    edit = plan_isolation(cfg, HOT, root=tmp)
    assert edit.refused_reason.startswith("the test options spread `...shared`")
    assert "isolate: true" in edit.patch
    with pytest.raises(Exception):
        edit.apply()
    assert cfg.read_text() == text
