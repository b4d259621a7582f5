"""A worker's snapshots in the order they were written, when two counters numbered them.

In interval mode a worker's directory holds Node's own snapshots (``--heapsnapshot-signal``: Node's counter, from 1,
three digits) beside heaplens's boundary snapshots (js/trace-core.cjs: one past the highest number in the
directory, four digits). Real snapshots of one Node process written by both: heaplens's two first (its first
file's collection and end), then Node's first on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from heaplens.snapshot.files import find_series, in_order, parse_name
from helpers import NODE, requires_node

CORE = Path(__file__).resolve().parents[2] / "src" / "heaplens" / "js" / "trace-core.cjs"

SCRIPT = r"""
const { newState, tracer } = require(process.argv[2])
const st = newState({})
const trace = tracer({ st, slot: 'x', fields: () => ({}) })
trace.snapshot('first', 'collected', 'a.test.js', null)
trace.snapshot('first', 'end', 'a.test.js', null)
process.stdout.write('written\n')
setTimeout(() => {}, 60000)  // until Node's own snapshot on the signal is written, then killed
"""


def _wait_for(pred, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.05)
    assert pred()


def _settled(path: Path) -> bool:
    size = path.stat().st_size
    time.sleep(0.3)
    return size > 0 and path.stat().st_size == size


@requires_node
def test_heaplens_and_node_numbering_one_worker_are_ordered_as_written_and_never_share_a_name(tmp_path):
    snaps = tmp_path / "snaps"
    snaps.mkdir()
    script = tmp_path / "w.js"
    script.write_text(SCRIPT)
    env = dict(os.environ, HEAPLENS_SNAPSHOTS="1", HEAPLENS_SNAPSHOT_DIR=str(snaps))
    proc = subprocess.Popen([NODE, "--heapsnapshot-signal=SIGUSR2", f"--diagnostic-dir={snaps}", str(script), str(CORE)],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "written"
        ours = sorted(snaps.glob("*.heapsnapshot"))
        assert [p.name.split(".")[-2] for p in ours] == ["0001", "0002"]  # heaplens's: four digits, 1 then 2
        proc.send_signal(signal.SIGUSR2)
        _wait_for(lambda: len(list(snaps.glob("*.heapsnapshot"))) == 3)
        node = next(p for p in snaps.glob("*.heapsnapshot") if p not in ours)
        _wait_for(lambda: _settled(node))  # Node writes to its final name: complete once its size holds
    finally:
        proc.kill()
        proc.wait()
    assert node.name.split(".")[-2] == "001"  # Node's counter: 1 again, three digits
    assert parse_name(node).pid == parse_name(ours[0]).pid and parse_name(node).tid == parse_name(ours[0]).tid
    # the three in one second, as when the signal comes right after a worker's first file: the names' stamp made
    # the same (a rename keeps the files' times) — Node's name still is not heaplens's first one
    stamp = parse_name(ours[0]).stamp
    written = []
    for p in [*ours, node]:
        q = p.with_name(f"Heap.{stamp[:8]}.{stamp[8:]}." + ".".join(p.name.split(".")[3:]))
        if q != p:
            assert not q.exists()
            p.rename(q)
        written.append(q)
    assert len(set(written)) == 3
    series = [parse_name(p) for p in written]
    # the numbers alone put Node's 1 before heaplens's 2: not the order they were written in
    assert [n.path for n in sorted(series, key=lambda n: n.sort_key)] != written
    assert [n.path for n in in_order(reversed(series))] == written
    assert [n.path for n in find_series(snaps).files] == written


def test_one_counter_keeps_its_numbers_order_whatever_the_files_times(tmp_path):
    """A series numbered by one counter, copied without its times — here made newest first: its numbers' order
    (only the names and the files' times are read: empty files)."""
    names = []
    for seq in (3, 2, 1):
        p = tmp_path / f"Heap.20261130.120000.42.0.{seq:03d}.heapsnapshot"
        p.touch()
        names.append(p)
        time.sleep(0.01)
    assert [n.seq for n in in_order(map(parse_name, names))] == [1, 2, 3]
