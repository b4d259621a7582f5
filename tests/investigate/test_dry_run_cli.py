"""`heaplens investigate --dry-run`, end to end from the command line, on a copy of a corpus scenario (real
Vitest 4 from npm, real snapshots): the fix's diff is shown and not one byte of the suite changes; with
`--format json` the diff goes to stderr and stdout is the report document alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import heaplens, npm_ci

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


def _suite(tmp_path: Path) -> Path:
    npm_ci(CORPUS)
    (tmp_path / "node_modules").symlink_to(CORPUS / "node_modules", target_is_directory=True)
    shutil.copy2(CORPUS / "package.json", tmp_path / "package.json")
    return Path(shutil.copytree(CORPUS / "module-graph", tmp_path / "module-graph"))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {".heaplens", "node_modules"} & set(p.parts)}


def test_dry_run_shows_the_diff_and_writes_nothing(tmp_path):
    root = _suite(tmp_path)
    before = _files(root)
    cp = heaplens("investigate", "--root", root, "--dry-run", cwd=root, timeout=600)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    out = cp.stdout.splitlines()
    assert "[heaplens] investigate: step 3/4 the fix (--dry-run: shown, nothing written)" in out
    at = out.index("--- a/vitest.config.js")
    assert out[at + 1] == "+++ b/vitest.config.js" and out[at + 2].startswith("@@ ")
    assert any(line.startswith("+") and "isolate: true" in line for line in out[at:])
    assert not any("wrote" in line and "vitest.config.js" in line for line in out)
    assert _files(root) == before  # not one byte of the suite

    js = heaplens("investigate", "--root", root, "--dry-run", "--format", "json", cwd=root, timeout=600)
    assert js.returncode == 0, js.stderr[-3000:]
    doc = json.loads(js.stdout)  # the document alone on stdout
    [mg] = [f for f in doc["findings"] if f["kind"] == "module-graph"]
    assert mg["fix"]["applied"] is False and mg["fix"]["target_kind"] == "vitest-config"
    assert "--- a/vitest.config.js" in js.stderr.splitlines()
    assert _files(root) == before
