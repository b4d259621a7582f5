"""Installed where there is no C compiler, heaplens still installs and ``heaplens diff`` works (the numpy
path), with the same rows as the C kernels; the graph commands say in one line that they need the
compiled kernels.

The repository's files are copied to a temporary directory first (an in-tree build would share
``build/`` with the other install test, whose compiled extension setuptools would then reuse), and
installed into a fresh virtual environment whose PATH has no compiler and whose CC names a missing
one. pip's cache is reused, so this takes ~30 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from helpers import heaplens

REPO = Path(__file__).parents[1]


def _copy_repository(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True)
    if files.returncode != 0:
        pytest.skip("not a git checkout")
    for rel in files.stdout.splitlines():
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(scope="module")
def pure_install(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nocc")
    src = _copy_repository(tmp / "src")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # this pip installs into it (--python): no ensurepip
    bindir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEAPLENS_", "PYTHON"))}
    env.update(PATH=str(bindir), CC=str(tmp / "no-such-compiler"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    assert shutil.which("gcc", path=env["PATH"]) is None and shutil.which("cc", path=env["PATH"]) is None
    cp = subprocess.run([sys.executable, "-m", "pip", "--python", bindir / "python", "install", "-v", "--no-compile",
                         str(src)], capture_output=True, text=True, env=env, timeout=600)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    log = cp.stdout + cp.stderr
    # the build log says what happened, and the wheel claims no platform
    assert "heaplens: WARNING: could not build the C kernels" in log
    assert "installing the pure-Python package instead" in log
    assert "heaplens-" in log and "-py3-none-any.whl" in log
    return {"exe": bindir / "heaplens", "python": bindir / "python", "env": env, "cwd": tmp}


def _run(install, *args):
    return subprocess.run([install["exe"], *map(str, args)], cwd=install["cwd"], capture_output=True, text=True,
                          env={**install["env"], "HEAPLENS_PROGRESS": "0"}, timeout=600)


NOTICE = "heaplens: the compiled kernels are not installed; using the slower numpy path"


def test_no_compiled_kernels_in_the_install(pure_install):
    cp = subprocess.run([pure_install["python"], "-c", "import heaplens._kernels"], capture_output=True, text=True,
                        cwd=pure_install["cwd"])
    assert cp.returncode != 0 and "No module named 'heaplens._kernels'" in cp.stderr


def test_diff_rows_same_as_the_c_kernels(pure_install, planted_lane):
    """Families of two files, DevTools classes, and the trend of a worker in a lane directory: the same
    JSON document (every row, count and size) from the numpy path as from the C kernels."""
    files = planted_lane["main"]["files"]
    lane, pid = planted_lane["dir"], planted_lane["main"]["pid"]
    for args in ((files[0], files[-1]), (files[0], files[-1], "--by", "class", "--min-kb", "0"),
                 ("--lane-dir", lane, "--pid", pid, "--trend", "--by", "class")):
        argv = ["diff", *args, "--format", "json"]
        pure = _run(pure_install, *argv)
        assert pure.returncode == 0, pure.stderr
        assert pure.stderr.splitlines().count(NOTICE) == 1, pure.stderr  # said once
        fast = heaplens(*argv)
        assert fast.returncode == 0, fast.stderr
        assert NOTICE not in fast.stderr
        doc_pure, doc_fast = json.loads(pure.stdout), json.loads(fast.stdout)
        assert doc_pure == doc_fast
        assert "PlantedLeak" in pure.stdout  # rows were compared, not two empty tables


@pytest.mark.parametrize("argv", [
    ("top", "{before}"),
    ("retainers", "{before}", "--class", "PlantedLeak"),
    ("diff", "--ids", "{before}", "{after}"),
    ("diagnose", "{before}", "{after}"),
], ids=["top", "retainers", "diff-ids", "diagnose"])
def test_graph_commands_need_the_compiled_kernels(pure_install, planted_lane, argv):
    files = planted_lane["main"]["files"]
    cp = _run(pure_install, *(a.format(before=files[0], after=files[-1]) for a in argv))
    assert cp.returncode == 2, (cp.stdout, cp.stderr)
    lines = [ln for ln in cp.stderr.splitlines() if ln != NOTICE]
    assert len(lines) == 1 and "Traceback" not in cp.stderr, cp.stderr
    assert lines[0].startswith("heaplens: error: this command needs the compiled kernels"), lines[0]
    assert "this install of heaplens has none" in lines[0]
    assert cp.stdout == ""


def test_diagnose_without_retainers_runs(pure_install, planted_lane):
    files = planted_lane["main"]["files"]
    cp = _run(pure_install, "diagnose", files[0], files[-1], "--no-retainers", "--format", "json")
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout)


def test_forced_numpy_path_in_a_normal_install(planted_lane):
    """HEAPLENS_PURE=1 makes an install with the C kernels behave like one without them."""
    files = planted_lane["main"]["files"]
    cp = heaplens("diff", files[0], files[-1], "--format", "json", env={"HEAPLENS_PURE": "1"})
    assert cp.returncode == 0, cp.stderr
    assert "HEAPLENS_PURE=1: using the slower numpy path" in cp.stderr
    assert json.loads(cp.stdout) == json.loads(heaplens("diff", files[0], files[-1], "--format", "json").stdout)
    top = heaplens("top", files[0], env={"HEAPLENS_PURE": "1"})
    assert top.returncode == 2 and "HEAPLENS_PURE=1 is set" in top.stderr, top.stderr
    assert sys.executable not in top.stderr
