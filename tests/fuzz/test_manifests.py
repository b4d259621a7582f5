"""Issue 14 item 8: manifest edits never lose or half-write anything.

A symlinked manifest is written through to its target; a directory heaplens cannot write is one line
(exit 2) with the manifest unchanged; a key twice in one object is refused (JSON readers keep the last,
a text edit would land in the first) and so is deep nesting; a kill -9 in the middle of a write leaves
the old file or the new one and no hidden temporary file (the write is unnamed until its rename).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fuzz_helpers import env_clean, hl, one_line_error

from heaplens import atomicfile
from heaplens.errors import UsageError, WriteError
from heaplens.inputfile import parse_json

BEH = "test/fixtures/test-parallel.behavior.json"
HOT = "test/fixtures/test-memory-hotspots.unit.json"
OLD = '{\n  "unit": {\n    "isolated": ["src/old.test.ts"]\n  }\n}\n'
LOG = ("[test-parallel][mem] summary unit-fast files=3 peak=1.0GiB totalDelta=+1.0GiB peakAt=x "
       "top=src/a.test.ts:+412.3MiB\n")


def suite(tmp: Path) -> Path:
    root = tmp / "suite"
    for f in ("src/a.test.ts", "src/b.test.ts", "src/old.test.ts"):
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_text("")
    (root / "package.json").write_text("{}\n")
    (root / "test/fixtures").mkdir(parents=True)
    return root


def listing(d: Path) -> list[str]:
    return sorted(os.listdir(d))


# ---- symlinks -------------------------------------------------------------------------------------


def test_a_symlinked_behavior_manifest_is_written_through(tmp_path):
    root = suite(tmp_path)
    shared = tmp_path / "shared" / "behavior.json"
    shared.parent.mkdir()
    shared.write_text(OLD)
    (root / BEH).symlink_to(shared)
    cp = hl("isolate", "src/a.test.ts", cwd=root)
    assert cp.returncode == 0, cp.stderr
    assert (root / BEH).is_symlink() and os.readlink(root / BEH) == str(shared)
    assert json.loads(shared.read_text())["unit"]["isolated"] == ["src/old.test.ts", "src/a.test.ts"]
    assert listing(shared.parent) == ["behavior.json"] and listing(root / "test/fixtures") == ["test-parallel.behavior.json"]


def test_a_relative_symlink_chain_to_the_hotspots_manifest(tmp_path):
    root = suite(tmp_path)
    (root / "real").mkdir()
    target = root / "real" / "hot.json"
    (root / "real" / "link2.json").symlink_to("hot.json")
    (root / HOT).symlink_to("../../real/link2.json")
    log = tmp_path / "ci.log"
    log.write_text(LOG)
    cp = hl("hotspots", "update", "--log", log, "--min-delta-kb", "1", cwd=root)
    assert cp.returncode == 0, cp.stderr
    assert (root / HOT).is_symlink() and (root / "real" / "link2.json").is_symlink()
    assert "src/a.test.ts" in json.loads(target.read_text())["files"]


# ---- permissions ----------------------------------------------------------------------------------


def test_a_read_only_directory_is_one_line_and_nothing_changes(tmp_path):
    root = suite(tmp_path)
    (root / BEH).write_text(OLD)
    fixtures = root / "test/fixtures"
    os.chmod(fixtures, 0o555)
    try:
        cp = hl("isolate", "src/a.test.ts", cwd=root, unprivileged=True)
        line = one_line_error(cp, str(root / BEH), "is not writable")
        assert "Traceback" not in cp.stderr and "PermissionError" not in line
    finally:
        os.chmod(fixtures, 0o755)
    assert (root / BEH).read_text() == OLD and listing(fixtures) == ["test-parallel.behavior.json"]


def test_a_missing_directory_that_cannot_be_created(tmp_path):
    root = suite(tmp_path)
    (root / "test/fixtures").rmdir()
    os.chmod(root / "test", 0o555)
    try:
        one_line_error(hl("isolate", "src/a.test.ts", cwd=root, unprivileged=True), "cannot create the directory")
    finally:
        os.chmod(root / "test", 0o755)
    assert listing(root / "test") == []


def test_the_target_is_not_a_regular_file(tmp_path):
    """A rename over a FIFO or a device would replace it with a file (never aim this at /dev/null)."""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(WriteError, match="not a regular file"):
        atomicfile.write_text_atomic(fifo, "x")
    assert fifo.is_fifo() and listing(tmp_path) == ["fifo.json"]


# ---- what JSON readers disagree on ----------------------------------------------------------------

DUP_TOP = '{\n  "unit": {"isolated": ["src/old.test.ts"]},\n  "unit": {"isolated": []}\n}\n'
DUP_INNER = '{\n  "unit": {"isolated": ["src/old.test.ts"], "isolated": []}\n}\n'


@pytest.mark.parametrize("text", [DUP_TOP, DUP_INNER], ids=["top-level", "inner"])
def test_a_duplicate_key_is_refused_and_nothing_is_written(tmp_path, text):
    root = suite(tmp_path)
    (root / BEH).write_text(text)
    line = one_line_error(hl("isolate", "src/a.test.ts", cwd=root))
    assert 'has the key "unit" twice' in line or 'has the key "isolated" twice' in line
    assert (root / BEH).read_text() == text


def test_a_duplicate_key_in_the_hotspots_manifest(tmp_path):
    root = suite(tmp_path)
    text = '{"files": {"src/a.test.ts": {"deltaKb": 1}}, "files": {}}\n'
    (root / HOT).write_text(text)
    log = tmp_path / "ci.log"
    log.write_text(LOG)
    one_line_error(hl("hotspots", "update", "--log", log, "--min-delta-kb", "1", cwd=root), 'the key "files" twice')
    assert (root / HOT).read_text() == text


@pytest.mark.parametrize("depth", [100, 5_000, 200_000])
def test_deep_nesting_is_one_line(tmp_path, depth):
    root = suite(tmp_path)
    text = '{"unit": {"isolated": ["src/old.test.ts"]}, "x": ' + "[" * depth + "]" * depth + "}"
    (root / BEH).write_text(text)
    one_line_error(hl("isolate", "src/a.test.ts", cwd=root), "nests")
    (root / HOT).write_text('{"files": {}, "x": ' + "[" * depth + "]" * depth + "}")
    log = tmp_path / "ci.log"
    log.write_text(LOG)
    one_line_error(hl("hotspots", "update", "--log", log, "--min-delta-kb", "1", cwd=root), "nests")
    assert (root / BEH).read_text() == text


def test_parse_json_unit():
    assert parse_json('{"a": {"b": [1, {"c": 2}]}}', "x") == {"a": {"b": [1, {"c": 2}]}}
    assert parse_json('{"a": 1, "a": 2}', "x", unique_keys=False) == {"a": 2}
    assert parse_json('{"s": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\""}', "x")
    with pytest.raises(UsageError, match="twice"):
        parse_json('{"a": {"b": 1, "b": 1}}', "x")
    with pytest.raises(UsageError, match="deeper than 3"):
        parse_json("[[[[1]]]]", "x", max_depth=3)


# ---- kill -9 in the middle of a write -------------------------------------------------------------

WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from heaplens import atomicfile
    if sys.argv[2] == "named":
        atomicfile._O_TMPFILE = 0
    real_fsync = os.fsync
    def slow_fsync(fd):
        print("writing", flush=True)  # the content is written, not yet synced or renamed
        time.sleep(60)
        real_fsync(fd)
    os.fsync = slow_fsync
    atomicfile.write_text_atomic(Path(sys.argv[1]), "NEW\\n" * 100000)
""")


@pytest.mark.parametrize("mode", ["unnamed", "named"])
def test_kill_9_during_a_write(tmp_path, mode):
    target = tmp_path / "manifest.json"
    target.write_text("OLD\n")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), mode], stdout=subprocess.PIPE,
                            env=env_clean())
    try:
        assert proc.stdout.readline() == b"writing\n"
        during = listing(tmp_path)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert target.read_text() == "OLD\n"  # the old file, whole
    if mode == "unnamed":
        assert during == ["manifest.json"] and listing(tmp_path) == ["manifest.json"]  # nothing, ever
    else:
        # without O_TMPFILE the temporary file has a name; the next write removes it (its process is gone)
        assert len(listing(tmp_path)) == 2
        atomicfile.write_text_atomic(target, "NEXT\n")
        assert listing(tmp_path) == ["manifest.json"] and target.read_text() == "NEXT\n"


def test_a_stale_temporary_file_of_a_live_process_is_kept(tmp_path):
    target = tmp_path / "m.json"
    mine = tmp_path / f".m.json.{os.getpid()}.abcd{atomicfile.TMP_SUFFIX}"
    mine.write_text("in progress")
    atomicfile.write_text_atomic(target, "x")
    assert mine.exists()


def test_permissions_and_surrogates(tmp_path):
    target = tmp_path / "m.json"
    target.write_text("{}")
    os.chmod(target, 0o640)
    atomicfile.write_text_atomic(target, '{"n": "\ud800"}')
    assert oct(target.stat().st_mode & 0o777) == "0o640"
    assert json.loads(target.read_text()) == {"n": "\ud800"}  # written as its \\ud800 escape
    new = tmp_path / "new.json"
    atomicfile.write_json_atomic(new, {"a": 1})
    assert oct(new.stat().st_mode & 0o777) == "0o644"
