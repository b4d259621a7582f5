"""The README's install line works in a fresh virtual environment outside the clone: a real (non-editable)
install of the repository, then the CLI and its package files used from another directory."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from helpers import plant

REPO = Path(__file__).parents[1]


def test_install_outside_the_clone(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    cp = subprocess.run([py, "-m", "pip", "install", "--quiet", str(REPO)], capture_output=True, text=True,
                        timeout=900)
    assert cp.returncode == 0, cp.stderr[-3000:]
    exe = env_dir / "bin" / "heaplens"
    work = tmp_path / "elsewhere"
    work.mkdir()
    version = subprocess.run([exe, "--version"], cwd=work, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("heaplens ")
    # the installed copy, not the clone, is what runs
    where = subprocess.run([py, "-c", "import heaplens; print(heaplens.__file__)"], cwd=work, capture_output=True,
                           text=True)
    assert str(env_dir) in where.stdout and str(REPO) not in where.stdout
    # the C kernels, and the package files the commands read (report assets, rules, worker scripts)
    check = ("import heaplens._kernels; from importlib import resources as r; from heaplens.report.html import assets; "
             "css, js, h = assets(); assert css and js and h.startswith('sha256-'); "
             "assert (r.files('heaplens') / 'diagnose' / 'rules.json').is_file(); "
             "print('\\n'.join(sorted(f.name for f in (r.files('heaplens') / 'js').iterdir() if f.is_file())))")
    files = subprocess.run([py, "-c", check], cwd=work, capture_output=True, text=True)
    assert files.returncode == 0, files.stderr
    # every worker script is shipped, the modules they load too (trace-core.cjs, shared by Vitest's and Jest's)
    shipped = files.stdout.split()
    assert {"trace-setup.mjs", "trace-vitest.cjs", "trace-core.cjs", "jest-setup.cjs", "jest-trace.cjs"} <= set(shipped)
    assert shipped == sorted(f.name for f in (REPO / "src/heaplens/js").iterdir() if f.suffix in (".mjs", ".cjs", ".js"))
    info = plant(tmp_path / "snaps", 2000)
    diff = subprocess.run([exe, "diff", *map(str, info["files"]), "--format", "json"], cwd=work,
                          capture_output=True, text=True)
    assert diff.returncode == 0, diff.stderr
    assert '"PlantedLeak"' in diff.stdout
    assert sys.executable not in diff.stderr
