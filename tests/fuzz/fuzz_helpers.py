"""Helpers for the hostile-input and fault tests (issue 14); import from here (several conftest.py exist).

- :func:`hl` runs the CLI as a user does, with a timeout (a hang is a failure, not a stuck suite) and
  optional resource limits (``fsize``: the largest file the process may write, which bounds what a
  gzip input may inflate to; ``as_user``: without root's permission override).
- :func:`one_line_error` / :func:`assert_clean` state the contract: exit 2 with one ``heaplens: error:``
  line, never a traceback, and nothing a terminal would act on in what is printed.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_node

HERE = Path(__file__).parent
JS = HERE / "js"

# what must never reach a terminal raw: C0 controls but \t \n, DEL, C1, line separators, bidi controls,
# lone surrogates (printed by Python as "\udcxx" with surrogateescape, or an encoding error)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def env_clean(extra: dict | None = None) -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_", "GITHUB_"))}
    e["HEAPLENS_PROGRESS"] = "0"
    e.update(extra or {})
    return e


def _limits(fsize: int | None):
    def apply():
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
    return apply


def unprivileged_prefix() -> list[str]:
    """A command prefix that takes root's permission override away (root ignores a read-only
    directory); [] when not root. Skips when root cannot drop it."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot test permissions")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-all"]


def hl(*args, cwd: Path | None = None, env: dict | None = None, timeout: float = 120, fsize: int | None = None,
       unprivileged: bool = False) -> subprocess.CompletedProcess:
    """``heaplens ARGS`` in a child process; stdout/stderr decoded leniently (bytes that are not UTF-8
    must still be inspectable)."""
    cmd = [sys.executable, "-m", "heaplens", *map(str, args)]
    if unprivileged:
        cmd = unprivileged_prefix() + cmd
    cp = subprocess.run(cmd, cwd=cwd, capture_output=True, env=env_clean(env), timeout=timeout,
                        preexec_fn=_limits(fsize) if fsize is not None else None)
    return subprocess.CompletedProcess(cp.args, cp.returncode, cp.stdout.decode("utf-8", "surrogateescape"),
                                       cp.stderr.decode("utf-8", "surrogateescape"))


_BATCH = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from fuzz_driver import run_cli
for argv in json.loads(sys.stdin.read()):
    t = time.monotonic()
    code, out, err, tb = run_cli(argv)
    print(json.dumps({"code": code, "out": out, "err": err, "tb": tb, "seconds": time.monotonic() - t}), flush=True)
"""


def hl_each(argvs: list[list], timeout: float = 300) -> list[subprocess.CompletedProcess]:
    """Each ``heaplens ARGV`` of ``argvs``, one after another in ONE child process (in-process through
    ``heaplens.cli.main``, as the fuzz driver runs its cases, with strict UTF-8 streams and a per-command
    alarm): a Python start per command is most of what a small snapshot costs. An exception out of
    ``main`` comes back as a traceback on stderr and exit 1, so :func:`assert_clean` fails on it; a hang
    (30 s) likewise. Each result's ``seconds`` is the command's own time."""
    argvs = [[str(a) for a in argv] for argv in argvs]
    cp = subprocess.run([sys.executable, "-c", _BATCH, str(HERE)], input=json.dumps(argvs), capture_output=True,
                        text=True, env=env_clean(), timeout=timeout)
    rows = [json.loads(line) for line in cp.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == len(argvs), f"the batch child died after {len(rows)} commands: {cp.stderr[-3000:]}"
    done = []
    for argv, r in zip(argvs, rows):
        cp = subprocess.CompletedProcess(argv, 1 if r["tb"] else r["code"], r["out"],
                                         r["err"] + (f"Traceback (in-process)\n{r['tb']}" if r["tb"] else ""))
        cp.seconds = r["seconds"]
        done.append(cp)
    return done


def assert_clean(cp: subprocess.CompletedProcess) -> None:
    """No traceback, nothing unprintable on stdout or stderr."""
    assert "Traceback" not in cp.stderr, cp.stderr[-3000:]
    for name, text in (("stdout", cp.stdout), ("stderr", cp.stderr)):
        m = UNSAFE.search(text)
        assert m is None, f"{name} has {m.group()!r} at {m.start()}: {text[max(0, m.start() - 80):m.start() + 80]!r}"


def one_line_error(cp: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, one ``heaplens: error:`` line on stderr, no traceback, nothing on stdout."""
    assert cp.returncode == 2, (cp.returncode, cp.stdout[-1000:], cp.stderr[-3000:])
    assert_clean(cp)
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("heaplens: error: "), cp.stderr[-3000:]
    assert cp.stdout == ""
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


_HWM = """
import atexit, sys
out = sys.argv.pop(1)
def hwm():
    with open("/proc/self/status") as fh:
        kb = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
    with open(out, "w") as fh:
        fh.write(str(kb * 1024))
atexit.register(hwm)
from heaplens.cli import main
sys.exit(main(sys.argv[1:]))
"""


def peak_rss(args: list, tmp: Path, env: dict | None = None, timeout: float = 300) -> tuple[int, int, str]:
    """Run ``heaplens ARGS``; returns (exit code, peak RSS in bytes, stderr). The peak is the process's
    own high-water mark after exec (VmHWM): ``ru_maxrss`` would include the test process it was forked
    from."""
    out = tmp / "hwm.txt"
    cp = subprocess.run([sys.executable, "-c", _HWM, str(out), *map(str, args)], capture_output=True,
                        env=env_clean(env), timeout=timeout)
    return cp.returncode, int(out.read_text()), cp.stderr.decode("utf-8", "replace")


def hostile_pair(out: Path) -> tuple[Path, Path]:
    """Two snapshots of one Node process; between them 3,000 instances each of two classes whose
    names the code chose: an OSC 52 clipboard write, a screen clear, a colour, a bidi override and
    a newline (``\\x1b]52;c;…\\x07\\x1b[2J\\x1b[31mEvilClass``)."""
    out.mkdir(parents=True, exist_ok=True)
    cp = run_node(JS / "hostile_names.mjs", str(out))
    info = json.loads(cp.stdout.strip().splitlines()[-1])
    return Path(info["files"][0]), Path(info["files"][1])


EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[31mEvilClass"
EVIL2 = EVIL + "2\u202eRTL\n2nd line"
