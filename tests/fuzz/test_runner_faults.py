"""Faults while heaplens runs a real Vitest suite (issue 14 items 1, 2, 9 and 13; the fault part of Deliver).

The suites are made in a temporary directory from the installed fixtures' node_modules (tests/runner/fixtures/v3,
v4, v5, installed by ``npm ci``), with a package-lock.json so that the lane is ``npm exec vitest``: heaplens →
npm → sh -c → Vitest's Node → its workers (and Vitest 5's own watchdog) — the tree a kill must take down.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from fuzz_helpers import assert_clean, env_clean, hl

from helpers import npm_ci

FIXTURES = Path(__file__).parents[1] / "runner" / "fixtures"
pytestmark = pytest.mark.skipif(shutil.which("npm") is None and os.environ.get("CI") != "true",
                                reason="npm is not installed")

SLOW_TEST = """import {{ test }} from 'vitest';
test('slow {i}', async () => {{ await new Promise((r) => setTimeout(r, {ms})); }}, 600000);
"""


def make_suite(d: Path, version: str, files: dict[str, str], lockfile: str = "package-lock.json") -> Path:
    """A suite at ``d`` using fixtures/<version>'s installed Vitest, with ``files`` (name → text) under test/."""
    nm = npm_ci(FIXTURES / version) / "node_modules"
    (d / "test").mkdir(parents=True)
    os.symlink(nm, d / "node_modules")
    (d / "package.json").write_text(json.dumps({"name": f"faults-{version}", "private": True, "type": "module"}))
    if lockfile == "package-lock.json":
        (d / lockfile).write_text(json.dumps({"name": f"faults-{version}", "lockfileVersion": 3, "packages": {}}))
    else:
        (d / lockfile).write_text("lockfileVersion: '9.0'\n")
    for name, text in files.items():
        (d / "test" / name).write_text(text)
    return d


def start(args: list, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "heaplens", *map(str, args)], cwd=cwd, env=env_clean(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def tree(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            pass
    return out


def trace_pids(root: Path) -> set[int]:
    """The workers that wrote a trace line (a test file started in them)."""
    pids = set()
    for trace in root.glob(".heaplens/runs/*/lanes/*/trace.jsonl"):
        for line in trace.read_text(errors="replace").splitlines():
            try:
                pids.add(int(json.loads(line)["pid"]))
            except (ValueError, KeyError, TypeError):
                pass
    return pids


def wait_for_workers(proc: subprocess.Popen, root: Path, count: int, timeout: float = 120) -> list[psutil.Process]:
    """The heaplens process tree once ``count`` Vitest workers run a test file."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if len(trace_pids(root)) >= count:
            time.sleep(0.5)
            return tree(proc.pid)
        time.sleep(0.2)
    raise AssertionError(f"{count} workers never started")


def _cmd(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


# ---- item 1: kill -9 of heaplens ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v3", "v4", "v5"])
def test_kill_9_of_heaplens_takes_the_run_with_it(tmp_path, version):
    suite = make_suite(tmp_path / "suite", version, {f"s{i}.test.js": SLOW_TEST.format(i=i, ms=60_000) for i in range(4)})
    proc = start(["run", "--workers", "2"], suite)
    procs: list[psutil.Process] = []
    try:
        procs = wait_for_workers(proc, suite, 2)
        assert trace_pids(suite) <= {p.pid for p in procs}  # the workers are in heaplens's tree
        assert any("npm" in _cmd(p) for p in procs), [_cmd(p) for p in procs]
        config = list((suite / ".heaplens" / "config").iterdir())
        assert len(config) == 1 and any(config[0].iterdir())  # the lane's generated config is there
        t0 = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        while alive(procs) and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        took = time.monotonic() - t0
        left = [(p.pid, _cmd(p)[:120]) for p in alive(procs)]
    finally:  # never leave the suite running, whatever failed
        for p in alive(procs + tree(proc.pid)):
            p.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"\n{version}: {len(procs)} processes of the run, all gone {took:.2f} s after kill -9 of heaplens")
    assert left == [], f"left running {took:.1f} s after kill -9: {left}"
    assert took <= 5.0
    assert not config[0].exists(), "the lane's generated config is left behind"
    # a later command sees the run as abandoned
    (run,) = (suite / ".heaplens" / "runs").iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    cp = hl("report", run.name, cwd=suite)
    assert cp.returncode == 0, cp.stderr
    assert_clean(cp)
    first = cp.stdout.splitlines()[0]
    assert "abandoned" in first and "running" not in first and "exit None" not in first, first
    assert json.loads((run / "run.json").read_text())["status"] == "abandoned"
    cp = hl("diagnose", run.name, cwd=suite)
    assert cp.returncode == 0 and "abandoned" in cp.stdout, cp.stdout + cp.stderr
    doc = json.loads(hl("diagnose", run.name, "--format", "json", cwd=suite).stdout)
    assert doc["status"] == "abandoned"


# ---- item 13: the lockfile's package manager is not installed ------------------------------------------

FAST_TEST = """import {{ test, expect }} from 'vitest';
test('fast {i}', () => {{ expect({i}).toBe({i}); }});
"""


def _path_without(*tools: str) -> str:
    """$PATH without the directories that hold any of ``tools`` (node and npm stay)."""
    keep = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d and not any(os.path.exists(os.path.join(d, t)) for t in tools):
            keep.append(d)
    return os.pathsep.join(keep)


@pytest.mark.parametrize("lockfile,pm", [("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn")])
def test_a_lockfile_whose_package_manager_is_missing_runs_the_installed_vitest(tmp_path, lockfile, pm):
    """node_modules installed by npm, a pnpm (yarn) lockfile, no pnpm (yarn) on PATH: the lanes run the
    installed Vitest with Node, said once, no traceback."""
    suite = make_suite(tmp_path / "suite", "v5", {f"f{i}.test.js": FAST_TEST.format(i=i) for i in range(3)},
                       lockfile=lockfile)
    path = _path_without(pm)
    assert shutil.which(pm, path=path) is None and shutil.which("node", path=path)
    cp = hl("run", "--workers", "1", cwd=suite, env={"PATH": path}, timeout=300)
    assert "Traceback" not in cp.stdout + cp.stderr  # (Vitest's own colours pass through: not assert_clean)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    said = [line for line in (cp.stdout + cp.stderr).splitlines() if f"{pm} is not on PATH" in line]
    assert len(said) == 1 and "node_modules" in said[0], said
    (run,) = (suite / ".heaplens" / "runs").iterdir()
    rec = json.loads((run / "run.json").read_text())
    assert rec["status"] == "passed" and rec["lanes"], rec["status"]
    lane = next(iter(rec["lanes"].values()))
    assert lane["argv"][0].endswith("node") and "vitest" in lane["argv"][1], lane["argv"][:3]
    assert any(pm in n and "not on PATH" in n for n in rec["plan"]["notes"]), rec["plan"]["notes"]


def test_a_lane_that_cannot_start_is_one_line(tmp_path, monkeypatch, capsys):
    """When the lane's command cannot be made at all (here: no package manager and no installed bin, forced),
    the lane fails with one line and a recorded fault, the run goes on to its record: no traceback."""
    from heaplens.cli import main
    from heaplens.runner import vitest
    from heaplens.runner.vitest import VitestError

    suite = make_suite(tmp_path / "suite", "v5", {f"f{i}.test.js": FAST_TEST.format(i=i) for i in range(2)},
                       lockfile="pnpm-lock.yaml")

    def cannot(self):
        raise VitestError("the suite uses pnpm (from its lockfile) but pnpm is not on PATH")

    monkeypatch.setattr(vitest.Suite, "exec_prefix", cannot)
    monkeypatch.chdir(suite)
    monkeypatch.setenv("HEAPLENS_PROGRESS", "0")
    code = main(["run", "--workers", "1"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err[-3000:]
    assert code == 1
    lines = [line for line in (out + err).splitlines() if "cannot start" in line]
    assert len(lines) == 1 and "pnpm is not on PATH" in lines[0], out + err
    (run,) = (suite / ".heaplens" / "runs").iterdir()
    rec = json.loads((run / "run.json").read_text())
    (lane,) = rec["lanes"].values()
    assert rec["status"] == "failed" and lane["faults"][0]["kind"] == "cannot-start"


# ---- item 9: two concurrent runs share one --snapshot-dir ---------------------------------------------

LEAK_TEST = """import {{ test }} from 'vitest';
globalThis.__kept ??= [];
test('leaks {i}', async () => {{
  for (let k = 0; k < 5000; k++) globalThis.__kept.push({{ k, pad: 'x'.repeat(200) + k }});
  await new Promise((r) => setTimeout(r, 1500));
}});
"""


def test_concurrent_runs_sharing_a_snapshot_dir_keep_their_files_apart(tmp_path):
    """The README's shared-directory recipe: two runs at once, same --snapshot-dir, same lane name (so the same
    <dir>/<lane>/), boundary snapshots and interval signals. Each record lists only its own workers' files,
    diagnose names only its own workers, and nothing of either run is deleted."""
    shared = tmp_path / "snaps"
    suites = [make_suite(tmp_path / f"suite{k}", "v5", {f"l{i}.test.js": LEAK_TEST.format(i=i) for i in range(3)})
              for k in (1, 2)]
    for s in suites:
        (s / "vitest.config.js").write_text("export default { test: { isolate: false } }\n")
    procs = [start(["run", "--workers", "1", "--snapshots", "--snapshot-interval", "1", "--snapshot-dir", shared], s)
             for s in suites]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, out[-3000:] + err[-3000:]
        assert "Traceback" not in err
    on_disk = {str(f) for f in shared.rglob("*.heapsnapshot")}
    mine = []
    for s in suites:
        (run,) = (s / ".heaplens" / "runs").iterdir()
        rec = json.loads((run / "run.json").read_text())
        (lane,) = rec["lanes"].values()
        pids = {w.split(".")[0] for w in lane["workers"]}
        files = set(lane["snapshots"]["files"])
        assert files, "no snapshot written"
        assert all(Path(f).name.split(".")[3] in pids for f in files), (pids, files)
        mine.append(files)
        doc = json.loads(hl("diagnose", run, "--no-retainers", "--format", "json", cwd=s).stdout)
        assert {str(w["pid"]) for w in doc["workers"]} <= pids
    assert not mine[0] & mine[1]
    assert mine[0] | mine[1] == on_disk, "a run's snapshots were deleted, or a file belongs to neither"


# ---- item 2: the snapshot disk fills up during a run ---------------------------------------------------

GROW_TEST = """import {{ test }} from 'vitest';
globalThis.__kept ??= [];
test('grow {i}', async () => {{
  for (let k = 0; k < 100000; k++) globalThis.__kept.push({{ k, s: 'y'.repeat(50) + k }});
  await new Promise((r) => setTimeout(r, 1500));
}});
"""


@pytest.fixture()
def small_disk(tmp_path):
    """A 300 MiB tmpfs (needs mount rights: root in CI containers), unmounted after the test."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    cp = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300m", "tmpfs", str(mnt)], capture_output=True)
    if cp.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {cp.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill_when(d: Path, disk: Path, nth: int, done: threading.Event) -> None:
    """Another writer on the same disk: when the nth snapshot file appears in ``d`` (its write has begun),
    take all the free space — the snapshot being written then meets ENOSPC."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not done.is_set():
        try:
            n = sum(1 for x in os.listdir(d) if x.endswith(".heapsnapshot"))
        except OSError:
            n = 0
        if n >= nth:
            chunk = b"\0" * (1 << 20)
            fd = os.open(disk / "filler", os.O_CREAT | os.O_WRONLY)
            try:
                while True:
                    os.write(fd, chunk)
            except OSError:
                pass
            finally:
                os.close(fd)
            return
        time.sleep(0.005)


@pytest.mark.parametrize("mode", ["boundary", "interval"])
def test_enospc_while_snapshotting_is_said_once_and_the_tests_go_on(tmp_path, small_disk, mode):
    suite = make_suite(tmp_path / "suite", "v5", {f"g{i}.test.js": GROW_TEST.format(i=i) for i in range(4)})
    (suite / "vitest.config.js").write_text("export default { test: { isolate: false } }\n")
    snaps = small_disk / "unit-fast"
    snaps.mkdir()
    done = threading.Event()
    filler = threading.Thread(target=fill_when, args=(snaps, small_disk, 2, done), daemon=True)
    filler.start()
    how = ["--snapshots"] if mode == "boundary" else ["--snapshot-interval", "1"]
    t0 = time.monotonic()
    cp = hl("run", "--workers", "1", *how, "--snapshot-budget-gb", "0", "--snapshot-dir", small_disk, cwd=suite,
            timeout=600)
    took = time.monotonic() - t0
    done.set()
    filler.join(timeout=10)
    out = cp.stdout + cp.stderr
    assert "Traceback" not in out
    assert cp.returncode == 0, out[-4000:]  # the tests passed, and nothing of the failed write reached them
    said = [line for line in out.splitlines() if line.startswith("[heaplens]") and "ENOSPC" in line]
    assert len(said) == 1, said
    (run,) = (suite / ".heaplens" / "runs").iterdir()
    rec = json.loads((run / "run.json").read_text())
    lane = rec["lanes"]["unit-fast"]
    assert rec["status"] == "passed" and lane["snapshots"]["stopped"] == "ENOSPC", lane["snapshots"]["stopped"]
    left = sorted(snaps.glob("*.heapsnapshot"))
    assert left, "the snapshot written before the disk filled is kept"
    for f in left:  # no zero-byte file, no cut one
        assert f.stat().st_size > 0 and f.read_bytes()[-64:].rstrip().endswith(b"}"), f
    assert {str(f) for f in left} == set(lane["snapshots"]["files"])
    cp = hl("diagnose", run, "--no-retainers", cwd=suite)
    assert cp.returncode == 0 and "exited while writing" not in cp.stdout, cp.stdout[-3000:] + cp.stderr[-2000:]
    print(f"\n{mode}: ENOSPC on the 2nd snapshot; run {took:.1f} s, {len(left)} snapshot(s) kept; {said[0][:160]}")


# ---- kill -9 of a worker while it writes a snapshot ---------------------------------------------------


def test_kill_9_of_a_worker_mid_snapshot(tmp_path):
    """The worker dies in the middle of its 2nd snapshot (61 MiB, seconds to write): the lane ends with the
    worker's fault, the cut file is removed and recorded, nothing is left running, no traceback."""
    suite = make_suite(tmp_path / "suite", "v5", {f"g{i}.test.js": GROW_TEST.format(i=i) for i in range(3)})
    (suite / "vitest.config.js").write_text("export default { test: { isolate: false } }\n")
    snaps = tmp_path / "snaps"
    proc = start(["run", "--workers", "1", "--snapshots", "--snapshot-dir", snaps], suite)
    procs: list[psutil.Process] = []
    victim = None
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and victim is None:
            assert proc.poll() is None, proc.communicate()
            names = sorted((snaps / "unit-fast").glob("*.heapsnapshot")) if (snaps / "unit-fast").is_dir() else []
            if len(names) >= 2 and names[-1].stat().st_size > 0:
                procs = tree(proc.pid)
                victim = int(names[-1].name.split(".")[3])
                os.kill(victim, signal.SIGKILL)
                cut = names[-1]
            time.sleep(0.01)
        assert victim is not None, "no 2nd snapshot was started"
        out, err = proc.communicate(timeout=300)
    finally:
        for p in alive(procs + tree(proc.pid)):
            p.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in out + err, err[-3000:]
    assert proc.returncode == 1, out[-3000:]
    time.sleep(0.3)
    assert alive(procs) == []
    (run,) = (suite / ".heaplens" / "runs").iterdir()
    rec = json.loads((run / "run.json").read_text())
    lane = rec["lanes"]["unit-fast"]
    assert any(f["kind"] == "crash" for f in lane["faults"]), lane["faults"]  # (its pid is not attributed yet)
    assert not cut.exists() and any(str(cut) in d and "cut" in d for d in lane["snapshots"]["dropped"])
    for f in (snaps / "unit-fast").glob("*.heapsnapshot"):
        assert f.read_bytes()[-64:].rstrip().endswith(b"}"), f
    cp = hl("diagnose", run, "--no-retainers", cwd=suite)
    assert cp.returncode in (0, 2) and "Traceback" not in cp.stderr, cp.stderr[-2000:]


def test_kill_9_during_a_plain_run_takes_the_command_with_it(tmp_path):
    """`verify` and the benchmarks run the suite's own command through runner/plain.py: a killed heaplens leaves
    nothing of it running either."""
    script = tmp_path / "plain.py"
    script.write_text("import sys\nfrom heaplens.runner.plain import run_plain\n"
                      "run_plain(['sh', '-c', 'sleep 300 & sleep 300 & wait'], '.')\n")
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env_clean())
    procs: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            procs = tree(proc.pid)
            if sum(1 for p in procs if p.name() == "sleep") >= 2:
                break
            time.sleep(0.1)
        assert sum(1 for p in procs if p.name() == "sleep") >= 2, [_cmd(p) for p in procs]
        t0 = time.monotonic()
        proc.kill()
        proc.wait()
        while alive(procs) and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        took = time.monotonic() - t0
        left = [_cmd(p) for p in alive(procs)]
    finally:
        for p in alive(procs):
            p.kill()
    assert left == [] and took <= 5.0, (left, took)
