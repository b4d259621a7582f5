"""Issue 14 item 3: gzip input is checked while it streams and its inflation is bounded.

The file limit of the child process (RLIMIT_FSIZE) proves how much was inflated: heaplens writes the
inflated copy to a temporary file, so a process that may not write more than N bytes cannot have
inflated more than N bytes. The inflated copy is unnamed (O_TMPFILE): nothing is left behind, even
after kill -9.
"""

from __future__ import annotations

import errno
import gzip
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from fuzz_helpers import assert_clean, env_clean, hl, one_line_error, peak_rss

from heaplens.errors import SnapshotError
from heaplens.snapshot import read_snapshot
from heaplens.snapshot import reader as R
from helpers import plant

MiB = 1 << 20


@pytest.fixture(scope="module")
def snaps(tmp_path_factory):
    d = tmp_path_factory.mktemp("gz")
    before, after = plant(d, 50, snapshots=2)["files"]
    gz = d / "after.heapsnapshot.gz"
    gz.write_bytes(gzip.compress(after.read_bytes(), 6))
    return {"before": before, "after": after, "gz": gz, "dir": d}


def gz_stream(path, parts, level=9):
    """Write a gzip file from an iterable of byte chunks (without holding it all in memory)."""
    with gzip.open(path, "wb", compresslevel=level) as fh:
        for p in parts:
            fh.write(p)
    return path


def test_a_valid_gzip_snapshot_reads_like_the_plain_one(snaps):
    plain = hl("top", "--format", "json", snaps["after"])
    gz = hl("top", "--format", "json", snaps["gz"])
    assert gz.returncode == 0, gz.stderr
    assert gz.stdout.replace(str(snaps["gz"]), "X") == plain.stdout.replace(str(snaps["after"]), "X")


def test_concatenated_members_are_one_stream(snaps, tmp_path):
    data = snaps["after"].read_bytes()
    p = tmp_path / "multi.heapsnapshot.gz"
    p.write_bytes(gzip.compress(data[:1000]) + gzip.compress(data[1000:]))
    assert hl("diff", snaps["before"], p).returncode == 0


def test_a_bomb_that_is_not_a_snapshot_stops_at_its_first_bytes(snaps, tmp_path):
    """1 GiB of 'A' in 1 MB: refused after the first chunk, not after inflating 1 GiB to disk."""
    p = gz_stream(tmp_path / "bomb.heapsnapshot.gz", (b"A" * (4 * MiB) for _ in range(256)))
    assert p.stat().st_size < 2 * MiB
    t = time.monotonic()
    cp = hl("diff", snaps["before"], p, fsize=16 * MiB)  # could not write more than 16 MiB anyway
    one_line_error(cp, "not JSON", "at byte 0")
    print(f"\n1 GiB of 'A' in {p.stat().st_size:,} bytes of gzip: refused in {time.monotonic() - t:.2f} s")
    assert time.monotonic() - t < 60


def test_a_whitespace_bomb_stops_at_the_ratio_limit(snaps, tmp_path):
    """A valid snapshot followed by 384 MiB of whitespace: stopped at 100x the compressed size (or the
    64 MiB floor), so the process never writes more than that."""
    p = gz_stream(tmp_path / "ws.heapsnapshot.gz", [snaps["after"].read_bytes().rstrip()] +
                  [b" " * (4 * MiB) for _ in range(96)])
    limit = max(R.GZIP_FLOOR, 100 * p.stat().st_size)
    assert limit < 300 * MiB, "the test's whitespace must be past the limit"
    t = time.monotonic()
    cp = hl("top", p, fsize=limit + 8 * MiB)
    line = one_line_error(cp, "likely gzip bomb", "HEAPLENS_GZIP_MAX_RATIO")
    print(f"\n384 MiB of whitespace after a snapshot in {p.stat().st_size:,} bytes of gzip: stopped at "
          f"{limit:,} bytes in {time.monotonic() - t:.2f} s")
    assert f"{limit:,} bytes" in line
    # raised, it is read — with the whitespace walked through and released, not kept resident
    code, rss, err = peak_rss(["top", p], tmp_path, env={"HEAPLENS_GZIP_MAX_RATIO": "100000"})
    assert code == 0, err
    print(f"the same with the limit raised: read, peak RSS {rss / MiB:.0f} MiB")
    assert rss < 160 * MiB, rss


def test_the_absolute_limit(snaps):
    one_line_error(hl("top", snaps["gz"], env={"HEAPLENS_GZIP_MAX_BYTES": "1M"}),
                   "more than 1,048,576 bytes", "HEAPLENS_GZIP_MAX_BYTES")
    assert hl("top", snaps["gz"], env={"HEAPLENS_GZIP_MAX_BYTES": "64MiB"}).returncode == 0


@pytest.mark.parametrize("var,value", [("HEAPLENS_GZIP_MAX_BYTES", "lots"), ("HEAPLENS_GZIP_MAX_RATIO", "-1"),
                                       ("HEAPLENS_GZIP_MAX_RATIO", "nan")])
def test_bad_limits_are_one_line(snaps, var, value):
    one_line_error(hl("top", snaps["gz"], env={var: value}), var)


@pytest.mark.parametrize("damage", ["truncated", "garbage-after", "bad-crc", "not-gzip-after-magic", "empty-member",
                                    "header-only"])
def test_damaged_gzip_is_one_line(snaps, tmp_path, damage):
    blob = snaps["gz"].read_bytes()
    p = tmp_path / f"{damage}.heapsnapshot.gz"
    if damage == "truncated":
        p.write_bytes(blob[: len(blob) // 2])
    elif damage == "garbage-after":
        p.write_bytes(blob + b"\x00garbage")
    elif damage == "bad-crc":
        p.write_bytes(blob[:-8] + bytes(8))
    elif damage == "not-gzip-after-magic":
        p.write_bytes(b"\x1f\x8b" + os.urandom(200))
    elif damage == "empty-member":
        p.write_bytes(gzip.compress(b""))
    else:
        p.write_bytes(blob[:10])
    cp = hl("diff", snaps["before"], p)
    assert cp.returncode == 2 or damage == "garbage-after", cp.stderr
    assert_clean(cp)
    if cp.returncode == 2:
        one_line_error(cp, str(p))


def test_no_space_to_inflate(snaps, monkeypatch):
    """ENOSPC while writing the inflated copy: one line naming the directory, nothing left."""

    real = tempfile.TemporaryFile

    class Full:
        def __init__(self, *a, **k):
            self._f = real()

        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

        def fileno(self):
            return self._f.fileno()

        def close(self):
            self._f.close()

    monkeypatch.setattr(R.tempfile, "TemporaryFile", Full)
    with pytest.raises(SnapshotError, match="no space left in .* to inflate it .*TMPDIR"):
        read_snapshot(snaps["gz"])


def test_no_space_on_a_real_small_filesystem(snaps, tmp_path):
    """The same on a 1 MiB tmpfs as TMPDIR (needs mount rights: root in CI containers)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    cp = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if cp.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {cp.stderr.decode(errors='replace').strip()}")
    try:
        line = one_line_error(hl("top", snaps["gz"], env={"TMPDIR": str(mnt)}), "no space left in", str(mnt))
        assert "point TMPDIR at a larger disk" in line
        assert os.listdir(mnt) == []
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def open_files(pid: int) -> list[str]:
    """What the process has open (an fd closed while it is listed is skipped)."""
    got = []
    for f in os.listdir(f"/proc/{pid}/fd"):
        try:
            got.append(os.readlink(f"/proc/{pid}/fd/{f}"))
        except FileNotFoundError:
            pass
    return got


def test_kill_9_while_inflating_leaves_nothing(tmp_path):
    """The inflated copy has no name: a heaplens killed in the middle leaves no file in TMPDIR."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    # a header that passes the first-bytes check, then ~200 MB of digits (~2.5x: not a bomb), slow to inflate
    head = b'{"snapshot":{"meta":{},"node_count":0,"edge_count":0},\n"nodes":['
    rnd = os.urandom(1 << 20)
    digits = bytes(48 + (b % 10) for b in rnd)
    p = gz_stream(tmp_path / "slow.heapsnapshot.gz", [head] + [digits] * 200, level=1)
    proc = subprocess.Popen([sys.executable, "-m", "heaplens", "top", str(p)], env=env_clean({"TMPDIR": str(tmp)}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        # wait until it is inflating: its temporary file is open (visible in /proc, not in TMPDIR)
        while time.monotonic() < deadline:
            if any(str(tmp) in f for f in open_files(proc.pid)):
                break
            time.sleep(0.02)
        else:
            pytest.fail("heaplens never opened a temporary file")
        assert os.listdir(tmp) == []
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert os.listdir(tmp) == []


def test_inflation_checks_the_head_once_whatever_the_chunking(snaps, tmp_path, monkeypatch):
    """The first-bytes check waits for enough bytes even when they arrive in tiny pieces."""
    monkeypatch.setattr(R, "GZIP_STEP", 7)
    with read_snapshot(snaps["gz"]) as snap:
        assert snap.node_count > 0
