"""Reader benchmark: heaplens beside DevTools' own snapshot code, in one run.

    .venv/bin/python bench/bench_reader.py            # ~200 MB and ~2 GB snapshots (generated once)
    .venv/bin/python bench/bench_reader.py --quick    # ~200 MB only

Snapshots are generated with Node (bench/gen_snapshot.mjs: N records with strings, closures,
arrays) into bench/.cache/ and reused. Every measurement runs in a fresh child process so its
peak RSS (ru_maxrss from wait4) is its own; times are medians over --reps runs.

Measured:
  parse     the nodes and edges number arrays alone (MB/s of their text), beside numpy.fromstring
  summary   per-(type, name) count and self size of one file (MB/s of file size), beside the peer
  diff      `heaplens diff A B` end to end: seconds and peak RSS / larger file size
The peer is npm heap-snapshot-toolkit 1.1.3 (DevTools' HeapSnapshotLoader + JSHeapSnapshot),
loading the file and grouping the same way (bench/js/toolkit_summary.mjs).
Each heaplens figure is also taken on the numpy path (HEAPLENS_PURE=1: what an install without the
compiled kernels runs), in the same run, and given as a ratio to the C kernels.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import run_measured  # noqa: E402

CACHE = HERE / ".cache"
PY = sys.executable
PURE = {"HEAPLENS_PURE": "1"}
SIZES = {"200MB": (144_000, 160_000), "2GB": (1_440_000, 1_600_000)}


def ensure_snapshot(count: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    out = CACHE / f"snap-{count}.heapsnapshot"
    if not out.exists():
        heap_mb = max(4000, count // 80)
        print(f"generating {out.name} ({count:,} records) with Node …", file=sys.stderr, flush=True)
        subprocess.run(["node", f"--max-old-space-size={heap_mb}", str(HERE / "gen_snapshot.mjs"), str(count), str(out)],
                       check=True, stdout=subprocess.DEVNULL)
    return out


def ensure_peer() -> None:
    if not (HERE / "node_modules" / "heap-snapshot-toolkit").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(HERE)], check=True,
                       stdout=subprocess.DEVNULL)


def run_child(cmd: list[str], env: dict | None = None, timeout: float = 900) -> dict:
    """Run a command; return its wall time, peak RSS (bytes), stdout, and exit code."""
    e = dict(os.environ)
    e["HEAPLENS_PROGRESS"] = "0"
    if env:
        e.update(env)
    wall, rss, code, out, err = run_measured(cmd, e, timeout)
    return {"wall": wall, "rss": rss, "stdout": out, "stderr": err, "code": code}


CHILD_PARSE = r"""
import json, sys, time, mmap
import numpy as np
from heaplens.snapshot import read_snapshot
path = sys.argv[1]
with open(path, "rb") as fh:
    mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    a = mm.find(b'"nodes":[') + 9; b = mm.find(b'"edges":[') + 9
    text = (mm.find(b"]", a) - a) + (mm.find(b"]", b) - b)
    mm.close()
read_snapshot(path).close()  # warm: the first read pays the imports and the page cache once per process
t = time.perf_counter()
with read_snapshot(path, node_fields=("type", "name", "id", "self_size", "edge_count"), edges=True) as s:
    dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "text_bytes": text}))
"""

CHILD_KERNEL = r"""
import json, sys, time, mmap
import numpy as np
from heaplens import kernels as K
path = sys.argv[1]
with open(path, "rb") as fh:
    mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    out = {}
    for sec, keep in ((b'"nodes":[', ("type", "name", "self_size")), (b'"edges":[', ("type", "name_or_index", "to_node"))):
        a = mm.find(sec) + len(sec); b = mm.find(b"]", a)
        text = np.frombuffer(mm[a:b + 1], dtype=np.uint8).copy()  # in memory: the kernel alone
        n = K.count_byte(text, 0, len(text), ord(",")) + 1
        nf = 7 if sec.startswith(b'"nodes') else 3
        slots = np.full(nf, -1, dtype=np.int64)
        for s, f in enumerate((0, 1, 3) if nf == 7 else (0, 1, 2)):
            slots[f] = s
        cols = tuple(np.zeros(n // nf, dtype=np.uint32) for _ in range(3))
        best = 1e9
        for _ in range(5):
            t = time.perf_counter()
            r = K.parse_uint_array(text, 0, len(text), len(text), 0, n, nf, slots, cols, -1)
            best = min(best, time.perf_counter() - t)
        assert r[0] == K.OK_END and r[2] == n, r
        out[sec.decode().split('"')[1]] = len(text) / best
print(json.dumps(out))
"""

CHILD_FROMSTRING = r"""
import json, sys, time, mmap
import numpy as np
path = sys.argv[1]
with open(path, "rb") as fh:
    mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    a = mm.find(b'"nodes":[') + 9; b = mm.find(b'"edges":[') + 9
    texts = [mm[a:mm.find(b"]", a)].decode(), mm[b:mm.find(b"]", b)].decode()]
t = time.perf_counter()
n = sum(np.fromstring(x, dtype=np.uint32, sep=",").size for x in texts)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "text_bytes": sum(map(len, texts)), "values": int(n)}))
"""

CHILD_SUMMARY = r"""
import json, sys, time
t0 = time.perf_counter()
from heaplens.compare.summary import summarize
t = time.perf_counter()
s = summarize(sys.argv[1])
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "rows": len(s.families), "nodes": s.node_count, "import_s": t - t0}))
"""


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def measure(label: str, cmd: list[str], reps: int, env=None, timeout=900) -> dict:
    runs = []
    for i in range(reps):
        r = run_child(cmd, env=env, timeout=timeout)
        if r["code"] != 0:
            print(f"  {label}: run {i + 1} failed (exit {r['code']}): {r['stderr'].strip()[-300:]}", file=sys.stderr)
            return {"failed": True, "code": r["code"], "wall": r["wall"], "rss": r["rss"],
                    "error": r["stderr"].strip().splitlines()[-1:] if r["stderr"].strip() else []}
        try:
            r["json"] = json.loads(r["stdout"].strip().splitlines()[-1])
        except (ValueError, IndexError):
            r["json"] = {}
        runs.append(r)
    return {
        "failed": False,
        "wall": median([r["wall"] for r in runs]),
        "seconds": median([r["json"].get("seconds", r["wall"]) for r in runs]),
        "rss": max(r["rss"] for r in runs),
        "json": runs[-1]["json"],
        "reps": reps,
    }


def fmt_mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="only the ~200 MB snapshots")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--peer-reps", type=int, default=3)
    args = ap.parse_args()

    ensure_peer()
    sizes = ["200MB"] if args.quick else ["200MB", "2GB"]
    lines = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    say(f"# heaplens reader benchmark — {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, Node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}")
    for size in sizes:
        small_n, big_n = SIZES[size]
        before, after = ensure_snapshot(small_n), ensure_snapshot(big_n)
        fsize = after.stat().st_size
        say(f"\n## ~{size}: {after.name} ({fmt_mb(fsize)}), pair with {before.name} ({fmt_mb(before.stat().st_size)})")

        p = measure("parse", [PY, "-c", CHILD_PARSE, str(after)], args.reps)
        text = p["json"]["text_bytes"]
        say(f"parse nodes+edges arrays  heaplens: {text / p['seconds'] / 1e6:7.0f} MB/s of text "
            f"({p['seconds']:.2f} s for {fmt_mb(text)}; peak RSS {fmt_mb(p['rss'])})")
        pp = measure("parse-numpy", [PY, "-c", CHILD_PARSE, str(after)], max(1, args.reps // 2), env=PURE)
        if not pp["failed"]:
            say(f"                          numpy path: {text / pp['seconds'] / 1e6:7.0f} MB/s of text "
                f"({pp['seconds']:.2f} s; peak RSS {fmt_mb(pp['rss'])}) → C {pp['seconds'] / p['seconds']:.1f}× faster")
        k = measure("kernel", [PY, "-c", CHILD_KERNEL, str(after)], 1)
        if not k["failed"]:
            say(f"                          C kernel alone (one thread, text in memory, best of 5): "
                f"nodes {k['json']['nodes'] / 1e6:.0f} MB/s, edges {k['json']['edges'] / 1e6:.0f} MB/s")
        kp = measure("kernel-numpy", [PY, "-c", CHILD_KERNEL, str(after)], 1, env=PURE)
        if not kp["failed"]:
            say(f"                          numpy path alone (same): "
                f"nodes {kp['json']['nodes'] / 1e6:.0f} MB/s, edges {kp['json']['edges'] / 1e6:.0f} MB/s")
        if size == "200MB":
            f = measure("fromstring", [PY, "-c", CHILD_FROMSTRING, str(after)], max(1, args.reps // 2))
            if not f["failed"]:
                say(f"                          numpy.fromstring: {f['json']['text_bytes'] / f['seconds'] / 1e6:7.0f} MB/s "
                    f"→ heaplens {f['seconds'] / p['seconds'] * f['json']['text_bytes'] / text:.1f}× faster")

        s = measure("summary", [PY, "-c", CHILD_SUMMARY, str(after)], args.reps)
        say(f"summary of one file       heaplens: {fsize / s['seconds'] / 1e6:7.0f} MB/s of file "
            f"({s['seconds']:.2f} s parse+group, {s['wall']:.2f} s with interpreter start; peak RSS {fmt_mb(s['rss'])}, "
            f"{s['rss'] / fsize:.2f}× file)")
        sp = measure("summary-numpy", [PY, "-c", CHILD_SUMMARY, str(after)], max(1, args.reps // 2), env=PURE)
        if not sp["failed"]:
            say(f"                          numpy path: {fsize / sp['seconds'] / 1e6:7.0f} MB/s of file "
                f"({sp['seconds']:.2f} s; peak RSS {fmt_mb(sp['rss'])}) → C {sp['seconds'] / s['seconds']:.1f}× faster")
        heap = "8000" if size == "200MB" else "20000"
        peer_reps = args.peer_reps if size == "200MB" else 1
        t = measure("toolkit", ["node", f"--max-old-space-size={heap}", str(HERE / "js" / "toolkit_summary.mjs"), str(after)],
                    peer_reps, timeout=900)
        if t["failed"]:
            say(f"                          heap-snapshot-toolkit: FAILED after {t['wall']:.1f} s "
                f"(exit {t['code']}; peak RSS {fmt_mb(t['rss'])}) {' '.join(t['error'])[:160]}")
        else:
            say(f"                          heap-snapshot-toolkit: {fsize / t['seconds'] / 1e6:7.0f} MB/s "
                f"({t['seconds']:.2f} s; peak RSS {fmt_mb(t['rss'])}) → heaplens {t['seconds'] / s['seconds']:.1f}× faster, "
                f"{t['rss'] / s['rss']:.1f}× less memory")

        d = measure("diff", [PY, "-m", "heaplens", "diff", str(before), str(after), "--format", "json"],
                    args.reps if size == "200MB" else max(1, args.reps // 2))
        big = max(fsize, before.stat().st_size)
        say(f"diff of the pair          heaplens: {d['wall']:.2f} s end to end; peak RSS {fmt_mb(d['rss'])} "
            f"= {d['rss'] / big:.2f}× the larger file (target ≤ 0.75)")
        dp = measure("diff-numpy", [PY, "-m", "heaplens", "diff", str(before), str(after), "--format", "json"],
                     max(1, args.reps // 2), env=PURE)
        if not dp["failed"]:
            say(f"                          numpy path: {dp['wall']:.2f} s end to end; peak RSS {fmt_mb(dp['rss'])} "
                f"= {dp['rss'] / big:.2f}× the larger file")
    out = HERE / ".cache" / "last-reader-bench.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"\n(written to {out})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
