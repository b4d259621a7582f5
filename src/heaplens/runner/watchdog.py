"""A killed heaplens takes its lanes with it (issue 14 item 1).

Each lane runs in a session of its own (``start_new_session``): ``npm exec`` → ``sh -c`` → the runner's Node →
its workers. When heaplens dies without stopping them — ``kill -9``, the OOM killer, a crash of the interpreter —
nothing else would: they are reparented and run the suite to its end. So each lane gets a watchdog: a small
Python process in a session of its own that holds the read end of a pipe whose only write end is heaplens's
(non-inheritable: no lane, no other child has it). heaplens writes the lane's session id into it once the lane is
started and ``done`` when the lane is over; end of file without ``done`` means heaplens is gone, and the watchdog
SIGKILLs every process of the lane's session (on Linux found through /proc, which also finds processes that moved
to another process group; elsewhere the process group), until none is left, then removes the lane's generated
files (``.heaplens/config/<run-id>/``). A pipe rather than polling heaplens's PID: the kernel closes it the moment
heaplens dies, whatever killed it, and a reused PID cannot fool it.

The window between the lane's fork and the write of its session id (one ``os.write``) is not covered.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The watchdog itself: no heaplens import (it must start in milliseconds, and outlive the package's files if
# need be). argv: FD [CLEANUP_DIR ...]; reads "sid N\n" and "done\n" lines from FD.
SCRIPT = r"""
import os, shutil, signal, sys, time
fd, cleanup = int(sys.argv[1]), sys.argv[2:]
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
data = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except InterruptedError:
        continue
    if not chunk:
        break
    data += chunk
words = data.split()
if b"done" in words:
    sys.exit(0)
sids = {int(words[i + 1]) for i, w in enumerate(words[:-1]) if w == b"sid" and words[i + 1].isdigit()}
me = os.getpid()

def members(sid):
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    got = []
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 3 and int(fields[3]) == sid and fields[0] != b"Z":
            got.append(int(name))
    return got

deadline = time.monotonic() + 10
for sid in sids:
    while time.monotonic() < deadline:
        try:
            os.killpg(sid, signal.SIGKILL)
        except OSError:
            pass
        pids = members(sid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
for d in cleanup:
    shutil.rmtree(d, ignore_errors=True)
"""


class Guard:
    """The watchdog of one lane: ``start()`` before the lane is forked, ``watch(pid)`` right after (the lane's
    leader: its session id), ``release()`` when the lane is over (the watchdog exits without killing)."""

    def __init__(self, cleanup: list[Path] | None = None) -> None:
        self.cleanup = [str(p) for p in cleanup or []]
        self.proc: subprocess.Popen | None = None
        self._w: int | None = None

    def start(self) -> None:
        r, w = os.pipe()  # both non-inheritable (PEP 446): only the watchdog gets r, through pass_fds
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", SCRIPT, str(r), *self.cleanup],
                pass_fds=(r,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            os.close(w)
            self.proc = None
            return
        finally:
            os.close(r)
        self._w = w

    def watch(self, pid: int) -> None:
        self._send(f"sid {pid}\n")

    def release(self) -> None:
        self._send("done\n")
        if self._w is not None:
            os.close(self._w)
            self._w = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def _send(self, text: str) -> None:
        if self._w is None:
            return
        try:
            os.write(self._w, text.encode())
        except OSError:  # the watchdog died: the lane runs on unguarded, as before
            os.close(self._w)
            self._w = None
