"""Shards the way the runner makes them: heaplens shard k runs exactly the files of `vitest list --shard k/3` (the
lane's own command is `vitest run --shard=k/3`); three shards of a real suite, their run directories moved as CI
artifacts are, merged into one run that report, diagnose, verify, baseline and check all read."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import copy_suite, run_suite
from helpers import heaplens, npm_ci

RUNNER_FIXTURES = Path(__file__).parents[1] / "runner" / "fixtures"


def vitest_list(suite: Path, shard: str, *filters: str) -> list[str]:
    """The files `vitest list --shard` names (it collects them: Vitest 3 and 4 ignore --shard with --filesOnly)."""
    out = suite / f"list-{shard.replace('/', '-')}.json"
    cp = subprocess.run(["node", "node_modules/vitest/vitest.mjs", "list", f"--shard={shard}", f"--json={out}",
                         *filters], cwd=suite, capture_output=True, text=True, timeout=300)
    assert out.is_file(), cp.stdout + cp.stderr
    files = [str(Path(e["file"]).resolve().relative_to(suite.resolve())) for e in json.loads(out.read_text())]
    out.unlink()
    return sorted(set(files))


@pytest.fixture(scope="session")
def sharded(ci_suite, tmp_path_factory) -> dict:
    """Three shard runs (heap snapshots on), each moved into a `downloaded/shard-k` directory as a CI job
    downloads its artifacts, then merged (given in another order)."""
    base = tmp_path_factory.mktemp("sharded")
    suite = copy_suite(base / "suite")
    runs = [run_suite(suite, base / f"runs-{k}", "--shard", f"{k}/3", "--snapshots") for k in (1, 2, 3)]
    moved = []
    for k, run in enumerate(runs, 1):
        dest = base / "downloaded" / f"shard-{k}" / run.name
        dest.parent.mkdir(parents=True)
        shutil.move(str(run), str(dest))  # the original directory is gone: nothing can read it by accident
        moved.append(dest)
    merged = base / "merged"
    cp = heaplens("merge", moved[2], moved[0], moved[1], "-o", merged / "run.json", cwd=suite)
    assert cp.returncode == 0, cp.stderr
    return {"suite": suite, "runs": moved, "merged": merged, "base": base, "merge_out": cp.stdout}


def test_heaplens_shard_k_is_vitest_shard_k(sharded):
    suite = sharded["suite"]
    every = []
    for k, run in enumerate(sharded["runs"], 1):
        rec = json.loads((run / "run.json").read_text())
        (lane,) = rec["lanes"].values()
        ran = sorted(f["file"] for f in lane["files"])
        assert ran == vitest_list(suite, f"{k}/3"), k
        assert sorted(rec["plan"]["lanes"][0]["files"]) == ran and rec["plan"]["shard"] == f"{k}/3"
        # the lane is CI's own command: Vitest shards, heaplens names no files
        assert lane["argv"][-1] == f"--shard={k}/3" and not any(a.endswith(".test.js") for a in lane["argv"])
        every += ran
    assert len(every) == len(set(every)) == 10  # each file in exactly one shard


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_plan_shards_match_vitest_list_on_older_majors(version):
    # Vitest 3 and 4 shard in the pool (the sequencer's shard(); Vitest 3 per sequence group), not in `list
    # --filesOnly`: heaplens asks the sequencer as the pool does
    suite = npm_ci(RUNNER_FIXTURES / version)
    for k in (1, 2, 3):
        cp = heaplens("plan", "suite/basic", "--shard", f"{k}/3", "--format", "json", cwd=suite)
        assert cp.returncode == 0, cp.stderr
        planned = sorted(f for lane in json.loads(cp.stdout)["lanes"] for f in lane["files"])
        assert planned == vitest_list(suite, f"{k}/3", "suite/basic"), (version, k)
    # more shards than files: Vitest's own refusal, one line
    bad = heaplens("plan", "suite/basic", "--shard", "1/9", cwd=suite)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "--shard 1/9: Vitest says: --shard <count> must be a smaller than count of test files" in bad.stderr


def test_the_merged_run_is_one_run(sharded):
    merged, suite = sharded["merged"], sharded["suite"]
    doc = json.loads((merged / "run.json").read_text())
    assert list(doc["lanes"]) == ["unit-fast@1of3", "unit-fast@2of3", "unit-fast@3of3"]  # in shard order
    assert doc["plan"]["merged_shards"] == ["1/3", "2/3", "3/3"] and doc["plan"]["notes"] == []
    assert sum(len(lane["files"]) for lane in doc["lanes"].values()) == 10
    # the shards' files are read where the artifacts were downloaded
    for lane in doc["lanes"].values():
        assert "/downloaded/shard-" in lane["trace"] and Path(lane["trace"]).is_file()
        assert all("/downloaded/shard-" in w["path"] and Path(w["path"]).is_file() for w in lane["snapshots"]["written"])
    rep = heaplens("report", merged, cwd=suite)
    assert rep.returncode == 0 and "Traceback" not in rep.stderr, rep.stderr[-2000:]
    for name in doc["lanes"]:
        assert f"\n{name}  " in rep.stdout
    js = json.loads(heaplens("report", merged, "--format", "json", cwd=suite).stdout)
    assert {w["lane"] for w in js["workers"]} == set(doc["lanes"])
    # the known leak, in the shard that ran test/sessions.test.js, with that shard's reproduce command
    shard_of = {f["file"]: name for name, lane in doc["lanes"].items() for f in lane["files"]}
    leak = next(f for f in js["findings"] if (f.get("holder") or {}).get("variable") == "sessionCache")
    lane = shard_of["test/sessions.test.js"]
    assert leak["lane"] == lane
    worker = next(w for w in js["workers"] if w["lane"] == lane and w["findings"])
    k = lane.split("@")[1].split("of")[0]
    assert f" --shard {k}/3 --snapshots" in worker["reproduce"] and worker["reproduce"].endswith("--lane unit-fast")
    diag = json.loads(heaplens("diagnose", merged, "--format", "json", cwd=suite).stdout)
    assert sum(len(w["findings"]) for w in diag["workers"]) == len(js["findings"])


def test_baseline_and_check_read_the_merged_run(sharded, tmp_path):
    merged, suite = sharded["merged"], sharded["suite"]
    out = tmp_path / "base.json"
    cp = heaplens("baseline", "save", merged, "-o", out, cwd=suite)
    assert cp.returncode == 0, cp.stderr
    base = json.loads(out.read_text())
    assert sorted(base["lanes"]) == ["unit-fast@1of3", "unit-fast@2of3", "unit-fast@3of3"]
    assert len(base["files"]) == 10 and base["runs"][0]["shards"] == [r.name for r in sharded["runs"]]
    assert "--shard" not in json.dumps(base["config"])  # the shard decides files, not the config
    check = heaplens("check", merged, "--baseline", out, cwd=suite)
    assert check.returncode == 0 and "compared 10 file(s), 3 lane(s), 1 finding(s)" in check.stdout, check.stdout


def test_verify_reads_the_merged_run(sharded):
    merged, suite = sharded["merged"], sharded["suite"]
    doc = json.loads((merged / "run.json").read_text())
    lane = next(n for n, lane in doc["lanes"].items() if any(f["file"] == "test/sessions.test.js" for f in lane["files"]))
    # the lanes (no holder check): what was rerun is that shard's lane, compared with itself; its peak without
    # snapshots is not comparable with the run's, which wrote them: not verified (exit 1)
    cp = heaplens("verify", merged, "--no-snapshots", "--no-holders", cwd=suite, timeout=900)
    assert cp.returncode == 1, cp.stdout[-3000:] + cp.stderr[-2000:]
    assert "not verified: the peaks are not comparable" in cp.stdout
    assert f"verify: 3 file(s) of lane(s) {lane} rerun after the fix" in cp.stdout
    assert f"[heaplens][verify] {lane} peak RSS " in cp.stdout and "(new lane)" not in cp.stdout
    # the leak is not fixed: its holder, rerun from the files of that shard that fed it in one worker like that
    # shard's lane, still grows — not verified (exit 1)
    cp = heaplens("verify", merged, "--format", "json", cwd=suite, timeout=900)
    assert cp.returncode == 1, cp.stdout[-3000:] + cp.stderr[-2000:]
    [c] = json.loads(cp.stdout)["holders"]["checks"]
    assert c["lane"] == lane and c["rerun_lane"] == "unit-fast-verify" and c["verdict"] == "still grows", c
    shard_files = {f["file"] for f in doc["lanes"][lane]["files"]}
    assert "test/sessions.test.js" in c["files"] and set(c["files"]) <= shard_files, c
