"""`heaplens investigate --apply --verify` and `heaplens verify` on copies of the bundled demo suite
(examples/demo/suite, run with the Vitest 4 of tests/runner/fixtures/v4): isolation that lowers the
peak is verified; isolation of a file that does not matter is not."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import npm_ci

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "examples" / "demo" / "suite"
V4 = ROOT / "tests" / "runner" / "fixtures" / "v4"
MANIFEST = "test/fixtures/test-parallel.behavior.json"


def copy_suite(dest: Path, short_waits: bool = False) -> Path:
    """A copy of the demo; with ``short_waits`` its catalog and util files wait a quarter as long (1.2 s → 0.3 s,
    0.4 s → 0.1 s) — the waits only pace the files: what unit-fast's worker keeps comes from the catalogs they
    import. Not with interval snapshots (--snapshot-interval): the first test keeps the demo's pace."""
    shutil.copytree(SUITE, dest, ignore=shutil.ignore_patterns("node_modules", ".heaplens", "generated"))
    for f in sorted([*dest.glob("test/catalog-*.test.js"), *dest.glob("test/util-*.test.js")]) if short_waits else ():
        text = f.read_text().replace("setTimeout(r, 1200)", "setTimeout(r, 300)")
        text = text.replace("setTimeout(r, 400)", "setTimeout(r, 100)")
        assert set(re.findall(r"setTimeout\(r, (\d+)\)", text)) <= {"300", "100"}, f  # every wait shortened
        f.write_text(text)
    os.symlink(npm_ci(V4) / "node_modules", dest / "node_modules")
    subprocess.run(["node", "gen.mjs"], cwd=dest, check=True)
    return dest


def hl(*args, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env["HEAPLENS_PROGRESS"] = "0"
    return subprocess.run([sys.executable, "-m", "heaplens", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=timeout)


def runs(suite: Path) -> list[Path]:
    return sorted(p.parent for p in (suite / ".heaplens" / "runs").glob("*/run.json"))


def test_investigate_isolates_the_module_graph_and_verifies_it(tmp_path):
    suite = copy_suite(tmp_path / "suite")
    before_manifest = (suite / MANIFEST).read_text()
    cp = hl("investigate", "--workers", "1", "--snapshot-interval", "3", "--apply", "--verify", cwd=suite)
    assert cp.returncode == 0, cp.stdout[-4000:] + cp.stderr[-4000:]
    out = cp.stdout
    # the four catalog files, and only they, were added to the manifest; the old entry and format stay
    manifest = json.loads((suite / MANIFEST).read_text())
    isolated = [e["file"] for e in manifest["unit"]["isolated"]]
    assert isolated[0] == "test/sessions.test.js"
    assert sorted(isolated[1:]) == [f"test/catalog-{i}.test.js" for i in range(4)]
    assert (suite / MANIFEST).read_text().startswith(before_manifest.split('"talks to the session store"')[0])
    assert manifest["unit"]["singletonIsolated"] == []
    # verify: unit-fast's peak fell, and heaplens says so
    m = re.search(r"\[heaplens\]\[verify\] unit-fast peak RSS (\S+) → (\S+) \(−(\d+) %\)", out)
    assert m, out[-3000:]
    assert int(m.group(3)) >= 25
    assert "[heaplens][verify] verified" in out
    first, second = runs(suite)
    report = json.loads((first / "report.json").read_text())
    findings = {f["lane"]: f for f in report["findings"]}
    assert findings["unit-fast"]["kind"] == "module-graph"
    assert findings["unit-fast"]["fix"]["kind"] == "isolate" and findings["unit-fast"]["fix"]["applied"] is True
    leak = findings["unit-sessions-isolated"]
    assert leak["kind"] == "runtime-leak"
    assert leak["fix"]["kind"] == "map-clear" and leak["fix"]["applied"] is False
    assert leak["holder"]["variable"] == "sessionCache" and leak["holder"]["file"] == "src/session-store.js"
    assert [f["kind"] for f in report["findings"]] == sorted((f["kind"] for f in report["findings"]),
                                                            key=lambda k: k != "module-graph")  # biggest first
    assert report["verification"]["verdict"] == "verified"
    assert report["verification"]["after_run"] == str(second)
    assert (first / "report.html").is_file()
    # the rerun planned the catalog files into their own lanes
    lanes = json.loads((second / "run.json").read_text())["lanes"]
    assert sorted(lanes) == ["unit-catalog-0-isolated", "unit-catalog-1-isolated", "unit-catalog-2-isolated",
                             "unit-catalog-3-isolated", "unit-fast"]
    # the leak's source was shown, not changed
    assert (suite / "src" / "session-store.js").read_text() == (SUITE / "src" / "session-store.js").read_text()


def test_verify_says_not_verified_when_isolation_does_not_help(tmp_path):
    suite = copy_suite(tmp_path / "suite", short_waits=True)  # two runs of unit-fast, no snapshots
    cp = hl("run", "--workers", "1", "--lane", "unit-fast", cwd=suite)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    [run] = runs(suite)
    # a light file: unit-fast keeps every catalog, so its worker peaks as high as before
    cp = hl("isolate", "test/util-1.test.js", "--reason", "try", cwd=suite)
    assert cp.returncode == 0, cp.stderr
    cp = hl("verify", run, "--format", "json", cwd=suite)
    assert cp.returncode == 1, cp.stdout[-3000:] + cp.stderr[-3000:]
    v = json.loads(cp.stdout)
    assert v["verdict"] == "not verified"
    assert v["moved"] is True and v["snapshots"] is False
    assert set(v["lanes_after"]) == {"unit-fast", "unit-util-1-isolated"}
    assert v["change_pct"] > -10
    assert any("did not fall" in line for line in v["lines"])
    assert json.loads((run / "report.json").read_text())["verification"]["verdict"] == "not verified"


def test_verify_bad_input(tmp_path):
    cp = hl("verify", tmp_path, cwd=tmp_path)
    assert cp.returncode == 2 and "not a heaplens run directory" in cp.stderr
    assert cp.stderr.count("\n") == 1
