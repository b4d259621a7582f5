"""Jest's own fixes in the suite's Jest config (fix/jest_config.py): the edit on the config shapes Jest reads, each
result read back by real Jest 29 (jest-config's readConfigs), refusals with a patch for a person; and the
``workerIdleMemoryLimit`` value derived from a real run's GC-settled per-file trace."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from heaplens.errors import UsageError
from heaplens.fix.jest_config import MB, idle_memory_limit, plan_settings
from heaplens.runner.record import RunRecord
from helpers import NODE, npm_ci

JEST29 = Path(__file__).parents[1] / "runner" / "fixtures" / "jest29"
SETTINGS = {"workerIdleMemoryLimit": "410MB", "maxWorkers": 2}


@pytest.fixture(scope="session")
def jest29() -> Path:
    return npm_ci(JEST29, "jest")

CASES = {
    "cjs-trailing-comma": ("jest.config.js", "// the suite's config\nmodule.exports = {\n  testEnvironment: 'node',\n"
                           "  maxWorkers: 4, // four cores in CI\n};\n"),
    "esm-variable": ("jest.config.mjs", 'const config = { testEnvironment: "node" };\n\nexport default config;\n'),
    "json": ("jest.config.json", '{\n    "testEnvironment": "node"\n}\n'),
    "package-json": ("package.json", '{\n  "name": "x",\n  "private": true,\n  "jest": {\n    "verbose": true\n  }\n}\n'),
    "function": ("jest.config.cjs", "module.exports = async () => ({ verbose: true });\n"),
}


def _jest_reads(root: Path) -> dict:
    """The global config real Jest 29 reads from ``root`` (the fixture's jest-config, as the CLI calls it)."""
    script = ("const {readConfigs} = require(process.argv[1]);"
              "readConfigs({$0: 'jest', _: []}, [process.cwd()]).then(({globalConfig}) => "
              "console.log(JSON.stringify({w: globalConfig.workerIdleMemoryLimit, m: globalConfig.maxWorkers})))")
    cp = subprocess.run([NODE, "-e", script, str(JEST29 / "node_modules" / "jest-config")], cwd=root,
                        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)


@pytest.mark.parametrize("case", list(CASES))
def test_the_settings_are_written_where_jest_reads_them(jest29, tmp_path, case):
    name, text = CASES[case]
    root = tmp_path / case
    root.mkdir()
    if name != "package.json":
        (root / "package.json").write_text('{"name": "x", "private": true}\n')
    (root / name).write_text(text)
    edit = plan_settings(root, SETTINGS)
    assert not edit.refused, edit.refused_reason
    # only the two options change: every line of the original is still there, in order
    new = edit.text.splitlines()
    it = iter(new)
    kept = [l for l in text.splitlines() if "maxWorkers" not in l and "testEnvironment" not in l and "verbose" not in l]
    assert all(any(l == x for x in it) for l in kept), edit.diff
    assert edit.diff.startswith(f"--- a/{name}\n+++ b/{name}\n")
    assert (root / name).read_text() == text  # planned, not written
    assert edit.apply() and (root / name).read_text() == edit.text
    assert _jest_reads(root) == {"w": 410 * MB, "m": 2}
    if case == "cjs-trailing-comma":  # an existing option's value is replaced, its comment kept
        assert "  maxWorkers: 2, // four cores in CI\n  workerIdleMemoryLimit: '410MB',\n};" in edit.text
    if case == "esm-variable":  # the file's own quotes
        assert 'workerIdleMemoryLimit: "410MB"' in edit.text


def test_a_computed_config_is_refused_with_a_patch(tmp_path):
    (tmp_path / "package.json").write_text("{}\n")
    cfg = tmp_path / "jest.config.js"
    cfg.write_text("const nextJest = require('next/jest');\nmodule.exports = nextJest({ dir: './' })({});\n")
    edit = plan_settings(tmp_path, SETTINGS)
    assert edit.refused and "nextJest" in edit.refused_reason
    assert "workerIdleMemoryLimit: '410MB'," in edit.patch
    with pytest.raises(UsageError):
        edit.apply()
    assert cfg.read_text().startswith("const nextJest")


def test_no_config_gets_a_new_one(jest29, tmp_path):
    (tmp_path / "package.json").write_text('{"name": "x"}\n')
    edit = plan_settings(tmp_path, SETTINGS, reason="heaplens: the worker keeps each file's registry")
    assert edit.original is None and edit.apply()
    assert _jest_reads(tmp_path) == {"w": 410 * MB, "m": 2}


def test_the_idle_limit_follows_the_measured_growth(jest29, tmp_path):
    """The leak fixture (each file keeps its registry through a listener on process.stdout) run in band with the
    trace: the limit is the clean worker's heap plus k files of the measured growth (the median of the GC-settled
    steps, checked against the trace); the basic fixture, whose files leave less, gets a longer recycle period."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env.update({"HEAPLENS_PROGRESS": "0", "HEAPLENS_RUNS_DIR": str(tmp_path / "runs")})
    got = {}
    for suite in ("suite/leak", "suite/basic"):
        # every file end GC-settled: the reference below reads the per-file steps of the trace
        cp = subprocess.run([sys.executable, "-m", "heaplens", "run", suite, "--gc-overhead", "off"], cwd=jest29, capture_output=True,
                            text=True, env=env, timeout=300)
        assert cp.returncode == 0, cp.stdout[-2000:] + cp.stderr
        rec = RunRecord.load(sorted((tmp_path / "runs").glob("*/run.json"))[-1])
        trace = [json.loads(l) for l in Path(rec.lanes["unit-fast"].trace).read_text().splitlines()]
        files = [dataclasses.asdict(f) for f in rec.lanes["unit-fast"].files]
        got[suite] = (idle_memory_limit(files), trace)
    leak, trace = got["suite/leak"]
    # the slow, obvious reference: the settled heap at each file end in the trace, in order
    ends = [e["heapUsed"] for e in trace if e["ev"] == "end" and e.get("settled")]
    steps = sorted(b - a for a, b in zip(ends, ends[1:]))
    assert leak is not None and leak.per_file == int(steps[len(steps) // 2] if len(steps) % 2 else
                                                     (steps[len(steps) // 2 - 1] + steps[len(steps) // 2]) / 2)
    assert leak.per_file >= 60_000 * 20  # at least the 60,000 planted objects per file (and a registry)
    assert leak.every == math.ceil(leak.clean / leak.per_file)
    assert leak.limit == leak.clean + int(leak.every * leak.per_file) and leak.text == f"{math.ceil(leak.limit / MB)}MB"
    basic, _ = got["suite/basic"]
    assert basic is None or (basic.per_file < leak.per_file and basic.every > leak.every)

