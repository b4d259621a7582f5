"""The suite's own command measured from outside (heaplens.runner.plain): nothing injected, the tree's RSS
sampled, the workers found, and nothing left running after a timeout."""

from __future__ import annotations

import shutil
import time

import psutil
import pytest

from heaplens.runner.plain import run_plain

MIB = 1024 * 1024


def test_plain_vitest_run_workers_and_peaks(v4, tmp_path):
    npm = shutil.which("npm")
    argv = [npm, "exec", "--no", "--", "vitest", "run", "suite/basic", "--pool=forks", "--maxWorkers=2", "--no-isolate"]
    r = run_plain(argv, v4, log=tmp_path / "out.log", poll_s=0.05)
    text = (tmp_path / "out.log").read_text()
    assert r.exit_code == 0, text[-2000:]
    assert "passed" in text and "heaplens" not in text  # the suite ran as it is
    # two fork workers under Vitest's main process, each a Node of tens of MiB
    assert 1 <= len(r.peak_workers) <= 2, r.peak_workers
    assert all(20 * MIB < v < 2048 * MIB for v in r.peak_workers.values())
    # the whole tree (npm, Vitest's main, the workers) is more than any one worker
    assert r.peak_total > r.peak_worker and r.samples >= 5 and r.wall_s > 0.5


def test_timeout_leaves_nothing_running(tmp_path):
    script = tmp_path / "spin.js"
    script.write_text("const { fork } = require('child_process');\n"
                      "if (process.argv[2] !== 'child') { fork(__filename, ['child']); fork(__filename, ['child']); }\n"
                      "setInterval(() => {}, 1000);\n")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    t0 = time.monotonic()
    r = run_plain([node, str(script)], tmp_path, timeout=2.0, grace=1.0, poll_s=0.05)
    assert r.timed_out and r.exit_code == -15 and time.monotonic() - t0 < 8  # SIGTERM ended it
    assert len(r.peak_workers) == 2  # the two forked Node children
    time.sleep(0.3)
    for pid in r.peak_workers:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
