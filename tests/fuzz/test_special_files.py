"""Issue 14 item 7: a FIFO, a device, a socket or a directory given as an input file is refused by what it
is, in one line, at once — never waited on (a FIFO's open blocks until a writer comes) and never read
forever (``/dev/zero``)."""

from __future__ import annotations

import os
import socket

import pytest
from fuzz_helpers import hl, hl_each, one_line_error

from helpers import plant


@pytest.fixture(scope="module")
def snaps(tmp_path_factory):
    info = plant(tmp_path_factory.mktemp("snaps"), 10, snapshots=2, names="default")
    return info["files"]


@pytest.fixture()
def specials(tmp_path):
    d = tmp_path / "special"
    d.mkdir()
    fifo = d / "fifo.heapsnapshot"
    os.mkfifo(fifo)
    sock_path = d / "sock.heapsnapshot"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock_path))
    link = d / "link.heapsnapshot"
    link.symlink_to(fifo)
    yield {"fifo": (fifo, "is a FIFO (named pipe), not a regular file"),
           "symlink to a FIFO": (link, "is a FIFO (named pipe), not a regular file"),
           "/dev/zero": ("/dev/zero", "is a character device, not a regular file"),
           "/dev/null": ("/dev/null", "is a character device, not a regular file"),
           "socket": (sock_path, "not a regular file"),
           "directory": (d, "is a directory")}
    s.close()


@pytest.mark.parametrize("which", ["fifo", "symlink to a FIFO", "/dev/zero", "/dev/null", "socket", "directory"])
def test_snapshot_commands_refuse_special_files(snaps, specials, which):
    path, why = specials[which]
    argvs = [["diff", snaps[0], path], ["diff", "--ids", snaps[0], path], ["diff", "--trend", snaps[0], snaps[1], path],
             ["top", path], ["retainers", "--class", "Object", path], ["diagnose", snaps[0], path]]
    for argv, cp in zip(argvs, hl_each(argvs)):  # one child, each command under a 30 s alarm
        one_line_error(cp, why)
        assert cp.seconds < 10, argv


def test_a_fifo_in_a_lane_directory_is_not_a_snapshot(snaps, tmp_path):
    """``--lane-dir`` lists regular files only: a FIFO named like a snapshot is not opened."""
    d = tmp_path / "lane"
    d.mkdir()
    for f in snaps:
        (d / f.name).symlink_to(f)
    os.mkfifo(d / "Heap.20991231.235959.1.0.999.heapsnapshot")
    cp = hl("diff", "--lane-dir", d, timeout=60)
    assert cp.returncode == 0, cp.stderr


def test_manifests_rules_and_logs_refuse_special_files(tmp_path):
    root = tmp_path / "suite"
    (root / "src").mkdir(parents=True)
    (root / "package.json").write_text("{}\n")
    (root / "src" / "a.test.ts").write_text("")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    one_line_error(hl("isolate", "src/a.test.ts", "--behavior", fifo, cwd=root, timeout=60), str(fifo))
    one_line_error(hl("hotspots", "update", "--log", fifo, cwd=root, timeout=60), str(fifo))
    one_line_error(hl("hotspots", "update", "--log", "/dev/zero", cwd=root, timeout=60), "/dev/zero")
    one_line_error(hl("diagnose", "--rules", fifo, "a", "b", cwd=root, timeout=60), str(fifo))
    one_line_error(hl("diagnose", "--rules", "/dev/zero", "a", "b", cwd=root, timeout=60), "/dev/zero")


def test_a_lane_directory_that_is_a_symlink_loop(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    one_line_error(hl("diff", "--lane-dir", loop, timeout=60), "cannot list it")
