"""`heaplens investigate --apply --verify` on a suite without OpenClaw's manifests (issue 13): the isolation goes
into the suite's own vitest.config.js, the diff is shown before it is written, every byte outside the edited
node stays, --dry-run writes nothing, and the suite's own `vitest run` — not heaplens — shows the lower peak.
A change that does nothing is `not verified (within noise)`.

The suite: the bundled demo (examples/demo/suite, Vitest 4 of tests/runner/fixtures/v4) without its behavior
manifest, its config saying one worker (as a 2-core CI machine runs it), and its tests' waits a quarter as long:
the waits only pace the files (what a worker keeps comes from the modules a file imports and the sessions it
opens, not from how long it waits), and verify runs the suite eight times (the traced run, 3 + 3 plain runs, the
retained-heap run). Measured on the 2-core VM: the plain runs take 7 s instead of 20 s, and their peaks are the
same: 244 MiB before the change, 125 MiB after (240 and 122 MiB with the demo's own waits)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from heaplens.fix.vitest_config import plan_isolation
from heaplens.report import model
from heaplens.workflow.investigate import apply_fixes
from heaplens.workflow.verify import _applied_config
from heaplens.workflow.verify_config import verify_change
from helpers import heaplens, npm_ci

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "examples" / "demo" / "suite"
V4 = ROOT / "tests" / "runner" / "fixtures" / "v4"
CONFIG = """import { defineConfig } from 'vitest/config';

// one long-lived worker, as CI's 2-core runner has (maxWorkers: cores - 1)
export default defineConfig({
  test: {
    include: ['test/**/*.test.js'], // every test file
    isolate: false, maxWorkers: 1,
  },
});
"""


# the demo's waits (ms) and this copy's: a catalog file 1.2 s, a util file and each of the 24 session rounds 0.4 s
WAITS = {"setTimeout(r, 1200)": "setTimeout(r, 300)", "setTimeout(r, 400)": "setTimeout(r, 100)"}


def demo_without_manifest(dest: Path) -> Path:
    shutil.copytree(SUITE, dest, ignore=shutil.ignore_patterns("node_modules", ".heaplens", "generated", "fixtures"))
    for f in sorted((dest / "test").glob("*.test.js")):
        text = f.read_text()
        for old, new in WAITS.items():
            text = text.replace(old, new)
        assert set(re.findall(r"setTimeout\(r, (\d+)\)", text)) <= {"300", "100"}, f  # every wait shortened
        f.write_text(text)
    os.symlink(npm_ci(V4) / "node_modules", dest / "node_modules")
    subprocess.run(["node", "gen.mjs"], cwd=dest, check=True)
    (dest / "vitest.config.js").write_text(CONFIG)
    return dest


def test_apply_edits_the_vitest_config_and_plain_vitest_shows_the_lower_peak(tmp_path):
    suite = demo_without_manifest(tmp_path / "suite")
    cp = heaplens("investigate", "--apply", "--verify", cwd=suite, timeout=1500)
    assert cp.returncode == 0, cp.stdout[-4000:] + cp.stderr[-4000:]
    out = cp.stdout
    after = (suite / "vitest.config.js").read_text()
    # the diff was shown before the file was written
    shown = out.index("+++ b/vitest.config.js")
    assert shown < out.index("[heaplens][fix] wrote ")
    assert not (suite / "test" / "fixtures").exists()  # no OpenClaw manifest was created
    # the catalog files run in a project of their own with isolate: true; the rest of the file is as it was
    assert "isolate: true" in after and all(f"'test/catalog-{i}.test.js'" in after for i in range(4))
    assert "util-1" not in after
    assert after.startswith("import { defineConfig, configDefaults } from 'vitest/config';\n\n"
                            "// one long-lived worker, as CI's 2-core runner has (maxWorkers: cores - 1)\n"
                            "export default defineConfig({\n  test: {\n")
    assert after.endswith("\n  },\n});\n") and "maxWorkers: 1," in after
    assert "          // every test file\n          include: ['test/**/*.test.js']," in after  # the comment moved along
    # verify ran the suite's own command (no heaplens lane, no snapshot), three runs a side
    runs_dir = suite / ".heaplens" / "runs"
    run, traced = sorted(p.parent for p in runs_dir.glob("*/run.json"))  # investigate's, verify's traced run
    report = json.loads((run / "report.json").read_text())
    v = report["verification"]
    assert v["method"].startswith("the suite's own command") and v["runs_per_side"] == 3
    assert len(v["before_runs"]) == len(v["after_runs"]) == 3
    assert all("heaplens" not in " ".join(r["argv"]) for r in v["after_runs"])
    assert v["verdict"] == "verified", v["lines"]
    assert max(v["after"]["peak"]["runs"]) < min(v["before"]["peak"]["runs"])
    assert "[heaplens][verify] verified" in out
    # the retained heap per file (a traced run after the change, no snapshots): the shared worker keeps far less
    kept = v["retained_per_file"]
    assert kept["after_run"] == str(traced)
    assert max(kept["after"].values()) < max(kept["before"].values()) / 2, kept
    # the runtime leak the isolation does not fix is named
    assert any("sessionCache" in s for s in v["still_present"]), v["still_present"]
    # one "peak": the run table's lane peak is the highest RSS one worker reached (the run record's workers),
    # the process tree's sum is the total
    rec = json.loads((run / "run.json").read_text())
    for lane in report["lanes"]:
        workers = rec["lanes"][lane["name"]]["workers"].values()
        assert lane["summary"]["peak"] == max(w["peak_rss"] for w in workers)
        assert lane["summary"]["total_peak"] >= lane["summary"]["peak"]
    # the other fixes the diagnosis supports: the leak's cleanup at its line; nothing else (no OOM, the heap is
    # far from its limit, the module-graph growth is in 4 of the 11 files)
    other = report["fixes"]["other"]
    assert [(o["kind"], o.get("where")) for o in other] == [("code", "src/session-store.js:3")], other
    [mg] = [f for f in report["findings"] if f["kind"] == "module-graph"]
    assert mg["fix"]["applied"] is True and mg["fix"]["target_kind"] == "vitest-config"

    # the after-runs were plain `vitest run` with the edited config on disk (no --config, nothing injected)
    assert all(r["argv"][2:] == ["run"] and r["exit_code"] == 0 for r in v["after_runs"])
    assert all(r["argv"][-1].startswith("--config=") for r in v["before_runs"])
    assert v["after"]["peak"]["median"] < 0.8 * v["before"]["peak"]["median"]

    # `heaplens verify RUN` later compares the same two texts: the one before was kept in the run directory
    assert _applied_config(report) == (suite / "vitest.config.js", CONFIG)

    # --dry-run: the same change is shown and nothing is written
    (suite / "vitest.config.js").write_text(CONFIG)
    doc = model.load(run / "report.json")
    changes = apply_fixes(doc, run, dry_run=True)
    assert (suite / "vitest.config.js").read_text() == CONFIG
    assert changes[0].text == after and changes[0].written is False


def test_a_change_that_does_nothing_is_not_verified(tmp_path):
    suite = demo_without_manifest(tmp_path / "suite")
    # isolating a light file: the shared worker still loads every catalog
    edit = plan_isolation(suite / "vitest.config.js", ["test/util-1.test.js"], root=suite)
    assert not edit.refused
    lines = []
    # three of the files (short): the catalog file stays in the shared worker either way
    v = verify_change(suite, suite / "vitest.config.js", CONFIG, edit.text, say=lines.append,
                      paths=["test/util-1.test.js", "test/util-2.test.js", "test/catalog-0.test.js"])
    assert v.verdict == "not verified (within noise)", v.lines
    assert (suite / "vitest.config.js").read_text() == CONFIG  # the change ran from a temporary copy
    assert not list(suite.glob(".heaplens-*"))
    assert any(re.search(r"after run 3/3: peak \S+", line) for line in lines)
