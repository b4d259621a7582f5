"""The seeded fuzz/fault suite (issue 14, Deliver): bad inputs of every kind through the real commands.

Each family runs tests/fuzz/fuzz_driver.py in a child process: COUNT cases from SEED, or fewer when its
time budget runs out (a slow machine runs fewer, never different, cases). A failure names its case and
prints the command that replays it alone::

    python tests/fuzz/fuzz_driver.py FAMILY SEED COUNT WORKDIR --only I

Settings (environment): ``HEAPLENS_FUZZ_SEED`` (default ``14``), ``HEAPLENS_FUZZ_SCALE`` (multiplies the
counts and budgets; 1 in ``make test``). The figures of a long run are in docs/guarantees.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fuzz_helpers import env_clean

from helpers import NODE, plant

DRIVER = Path(__file__).parent / "fuzz_driver.py"
SEED = os.environ.get("HEAPLENS_FUZZ_SEED", "14")
SCALE = float(os.environ.get("HEAPLENS_FUZZ_SCALE", "1"))
# cases and seconds per family in `make test` (the seconds cap a loaded machine: ~45 s in all)
PLAN = {"snapshot": (300, 12), "header": (400, 8), "gzip": (60, 8), "special": (60, 4), "manifest": (500, 6),
        "record": (80, 8), "report": (80, 8)}


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> Path:
    """A real snapshot (``base``) and an earlier one of the same process (``before``)."""
    d = tmp_path_factory.mktemp("fuzz")
    before, after = plant(d / "plant", 20, snapshots=2)["files"]
    shutil.copy(before, d / "before.heapsnapshot")
    shutil.copy(after, d / "base.heapsnapshot")
    return d


def run_family(family: str, work: Path) -> tuple[list[dict], float]:
    count, budget = PLAN[family]
    count, budget = max(1, int(count * SCALE)), budget * SCALE
    t = time.monotonic()
    cmd = [sys.executable, str(DRIVER), family, SEED, str(count), str(work), "--budget", str(budget)]
    replay = f"python {DRIVER.relative_to(Path.cwd()) if DRIVER.is_relative_to(Path.cwd()) else DRIVER} {family} {SEED} {count} {work}"
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, env=env_clean(), timeout=budget + 180)
        out, err, code = cp.stdout, cp.stderr, cp.returncode
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err, code = "the driver hung", None
    results, started = [], None
    for line in out.splitlines():
        if line.startswith("START "):
            started = int(line.split()[1])
        elif line.startswith("{"):
            results.append(json.loads(line))
            started = None
    if started is not None or code != 0:
        pytest.fail(f"fuzz {family} seed {SEED}: the driver died or hung in case {started} (exit {code}); "
                    f"replay: {replay} --only {started}\n{err[-3000:]}")
    return results, time.monotonic() - t


def report(family: str, results: list[dict], seconds: float, work: Path) -> None:
    bad = [r for r in results if not r["ok"]]
    codes = {c: sum(1 for r in results if r["code"] == c) for c in sorted({r["code"] for r in results}, key=str)}
    print(f"\nfuzz {family}: seed {SEED}, {len(results)} cases in {seconds:.1f} s, exit codes {codes}, "
          f"slowest {max((r['seconds'] for r in results), default=0):.2f} s, failures {len(bad)}")
    if bad:
        lines = [f"case {r['i']} ({r['what']}): heaplens {' '.join(r['argv'])}\n    {r['why'][:1500]}" for r in bad[:10]]
        count = max(1, int(PLAN[family][0] * SCALE))
        pytest.fail(f"fuzz {family} seed {SEED}: {len(bad)} of {len(results)} cases failed; replay one with\n"
                    f"  python {DRIVER} {family} {SEED} {count} {work} --only I\n" + "\n".join(lines))


@pytest.mark.parametrize("family", ["snapshot", "header", "gzip", "special", "manifest"])
def test_fuzz(family, work):
    results, seconds = run_family(family, work)
    assert len(results) >= min(10, PLAN[family][0]), "the budget ran out before 10 cases"
    report(family, results, seconds, work)


@pytest.fixture(scope="session")
def run_dir(work) -> Path:
    """A real run (the v4 fixture's basic suite, one worker) whose run.json the record family corrupts."""
    from helpers import npm_ci

    v4 = npm_ci(Path(__file__).parents[1] / "runner" / "fixtures" / "v4")
    runs = work / "runs"
    cp = subprocess.run([sys.executable, "-m", "heaplens", "run", "suite/basic", "--workers", "1"], cwd=v4,
                        capture_output=True, text=True, timeout=600,
                        env=env_clean({"HEAPLENS_RUNS_DIR": str(runs)}))
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    (rec,) = runs.glob("*/run.json")
    shutil.copytree(rec.parent, work / "run", symlinks=True)
    cp = subprocess.run([sys.executable, "-m", "heaplens", "report", str(work / "run"), "--no-retainers",
                         "--format", "json"], capture_output=True, text=True, timeout=600, env=env_clean())
    assert cp.returncode == 0 and (work / "run" / "report.json").is_file(), cp.stderr[-3000:]  # the cache
    return work / "run"


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_fuzz_records(run_dir, work):
    results, seconds = run_family("record", work)
    report("record", results, seconds, work)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_fuzz_cached_reports(run_dir, work):
    """Item 6: a damaged report.json (the cache) is rebuilt or refused in one line, never a traceback."""
    results, seconds = run_family("report", work)
    report("report", results, seconds, work)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("damage", ["worker-is-a-list", "lanes-junk", "run-junk"])
def test_a_damaged_cached_report_is_rebuilt(run_dir, tmp_path, damage):
    """Item 6, the case the fuzz family found first: report.json still parses, still says it was produced the
    same way and is newer than run.json, but a worker is a list: rendered as it was, that was a TypeError."""
    d = tmp_path / "run"
    shutil.copytree(run_dir, d, symlinks=True)
    good = subprocess.run([sys.executable, "-m", "heaplens", "report", str(d), "--no-retainers"], capture_output=True,
                          text=True, timeout=600, env=env_clean())
    assert good.returncode == 0, good.stderr
    doc = json.loads((d / "report.json").read_text())
    if damage == "worker-is-a-list":
        doc["workers"] = [[1, 2]] + doc["workers"]
    elif damage == "lanes-junk":
        doc["lanes"] = [{"name": None, "summary": 5}]
    else:
        doc["run"]["versions"] = "x"
    (d / "report.json").write_text(json.dumps(doc))
    later = (d / "run.json").stat().st_mtime + 10
    os.utime(d / "report.json", (later, later))
    cp = subprocess.run([sys.executable, "-m", "heaplens", "report", str(d), "--no-retainers"], capture_output=True,
                        text=True, timeout=600, env=env_clean())
    assert cp.returncode == 0 and "Traceback" not in cp.stderr, cp.stderr[-3000:]
    assert cp.stdout == good.stdout  # rebuilt: the same report as before the damage


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("damage", ["options-not-an-object", "no-options", "schema-version-a-string", "lanes-a-list"])
def test_verify_refuses_a_corrupt_record_before_rerunning(run_dir, tmp_path, damage):
    """Item 6: `verify` on a corrupt record is one line and exit 2, and reruns nothing (the probe saw three
    reruns start on corrupt records)."""
    d = tmp_path / "run"
    shutil.copytree(run_dir, d, symlinks=True)
    doc = json.loads((d / "run.json").read_text())
    if damage == "options-not-an-object":
        doc["options"] = ["x"]
    elif damage == "no-options":
        del doc["options"]
    elif damage == "schema-version-a-string":
        doc["schema_version"] = "2"
    else:
        doc["lanes"] = [1]
    (d / "run.json").write_text(json.dumps(doc))
    runs_before = {p.name for p in d.parent.iterdir()}
    cp = subprocess.run([sys.executable, "-m", "heaplens", "verify", str(d)], capture_output=True, text=True,
                        timeout=600, env=env_clean())
    lines = cp.stderr.strip().splitlines()
    assert cp.returncode == 2 and len(lines) == 1 and lines[0].startswith("heaplens: error: "), cp.stderr[-3000:]
    assert "[heaplens] start" not in cp.stdout + cp.stderr
    assert {p.name for p in d.parent.iterdir()} == runs_before
