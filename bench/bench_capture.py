"""The cost of capture: `heaplens investigate` beside the suite's own plain `vitest run`, on real and generated suites.

    .venv/bin/python bench/suites.py prepare date-fns hono gen200 modules3mb demo     # once
    .venv/bin/python bench/bench_capture.py [--suites date-fns,gen200,...] [--reps 3] [--loads low,hog]
                                            [--timeout 1800] [--json FILE] [--keep-runs] [-- INVESTIGATE ARGS]
    .venv/bin/python bench/bench_capture.py --report FILE.json…    # saved runs as one Markdown table

heaplens's bytecode is compiled first (as pip compiles it when it installs heaplens; an editable install under
PYTHONDONTWRITEBYTECODE would otherwise compile every module in every measured run).

Per suite (prepared by bench/suites.py; its marker gives the plain command and the paths), after one unmeasured
plain run (Vite's caches, the page cache), ``--reps`` rounds; in each round, for each load condition, the two sides
run back to back in alternating order (plain first in odd rounds, investigate first in even ones):

  plain        the suite's own command: ``npm exec --no -- vitest run [PATHS]`` (CI=true)
  investigate  ``heaplens investigate [PATHS] [INVESTIGATE ARGS] --format json`` (its defaults otherwise), with
               its runs directory in a temporary place that is removed afterwards (``--keep-runs`` keeps it)

Load conditions: ``low`` — nothing added (the load average of the machine at the time is recorded); ``hog`` — a
busy process spinning on one core beside each side (started right before it, stopped after it). Before every
measurement the machine settles: dirty pages are written out (``sync``: the snapshots of the run before would
otherwise be written back during the next one) and the CPU is idle (>= 90 % over half a second, at most 15 s;
``settled_s`` in the JSON).

Recorded per measurement: wall seconds, exit code, the test counts Vitest printed (failed tests), the load
average before and after; for investigate also the snapshots written (count, total and largest size, zero-byte
ones), the snapshot count per worker (PID.TID from Node's file names), and the verdict of every diagnosed worker
(from the run's report.json). Printed: one line per measurement on stderr, then a table of medians with the
spread (min–max) and the per-round ratio investigate ÷ plain; all of it also as JSON (``--json``, default
bench/.cache/capture-<time>.json). A run that passes ``--timeout`` is stopped (SIGTERM, then SIGKILL of its
process tree) and recorded as such; its ratio is then a lower bound.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

import heaplens

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import suites as S  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SNAP_NAME = re.compile(r"^Heap\.\d{8}\.\d{6}\.(\d+)\.(\d+)\.(\d+)\.heapsnapshot$")
TESTS_LINE = re.compile(r"^\s*Tests\s+(.*)$", re.M)
FILES_LINE = re.compile(r"^\s*Test Files\s+(.*)$", re.M)
COUNT = re.compile(r"(\d+) (failed|passed|skipped|todo)")


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEAPLENS_", "OPENCLAW_TEST_", "VITEST"))}
    env["CI"] = "true"
    return env


def counts(text: str) -> dict:
    """Vitest's summary lines (the last ones in the text): {'tests': {'passed': n, 'failed': m, …}, 'files': {…}}."""
    text = ANSI.sub("", text)
    out: dict = {}
    for key, rx in (("tests", TESTS_LINE), ("files", FILES_LINE)):
        found = rx.findall(text)
        if found:
            out[key] = {}
            for line in found:  # several lanes: add them up
                for n, what in COUNT.findall(line):
                    out[key][what] = out[key].get(what, 0) + int(n)
    return out


def run_tree(argv: list[str], cwd: Path, env: dict, timeout: float, stdout_path: Path) -> tuple[float, int | None, bool]:
    """Runs argv in its own session; (wall seconds, exit code, timed out). On timeout: SIGTERM to the process
    (heaplens stops its lanes on it), then SIGKILL to every process of its tree that is still there."""
    with open(stdout_path, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
            return time.perf_counter() - t0, code, False
        except subprocess.TimeoutExpired:
            pass
        try:
            tree = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            tree = []
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        wall = time.perf_counter() - t0
        for p in tree:
            try:
                p.kill()
            except psutil.Error:
                pass
        return wall, None, True


def cpu_idle_share(window: float = 0.5) -> float:
    """The share of the machine's CPU time that was idle over ``window`` seconds (/proc/stat)."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            vals = [int(x) for x in fh.readline().split()[1:]]
        return vals[3] + (vals[4] if len(vals) > 4 else 0), sum(vals)
    i0, t0 = sample()
    time.sleep(window)
    i1, t1 = sample()
    return (i1 - i0) / max(t1 - t0, 1)


def settle(max_wait: float = 15.0) -> float:
    """Before a measurement: the page cache's dirty pages written out (the snapshots of the run before, written
    back by the kernel during the next one otherwise) and the CPU idle (>= 90 % over half a second), at most
    ``max_wait`` seconds. Returns the seconds it took."""
    t = time.monotonic()
    os.sync()
    while time.monotonic() - t < max_wait and cpu_idle_share() < 0.9:
        pass
    return round(time.monotonic() - t, 2)


class Hog:
    """A busy process on one core (``--loads hog``), started and stopped by its own PID."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def snapshots_of(run_dir: Path) -> dict:
    files = [p for p in run_dir.rglob("*.heapsnapshot")]
    per_worker: dict[str, int] = {}
    sizes = []
    zero = 0
    for p in files:
        size = p.stat().st_size
        sizes.append(size)
        zero += size == 0
        m = SNAP_NAME.match(p.name)
        key = f"{p.parent.name}:{m.group(1)}.{m.group(2)}" if m else f"{p.parent.name}:?"
        per_worker[key] = per_worker.get(key, 0) + 1
    return {"count": len(files), "bytes": sum(sizes), "largest": max(sizes, default=0), "zero_byte": zero,
            "per_worker": dict(sorted(per_worker.items()))}


KIND_WORDS = {"module-graph": "module-graph retention", "runtime-leak": "runtime leak", "external-memory": "external memory"}


def verdicts_of(run_dir: Path) -> list[dict]:
    """Every diagnosed worker's verdict from the run's report.json: ``verdict`` is the kinds of its findings
    (``runtime leak + module-graph retention``) or, without one, what the report says (``no significant
    growth``, ``no snapshot pair``, …). Reads both report shapes: ``workers[]`` with ``findings[].kind``
    (issue 11 onwards) and the earlier ``findings[]`` with one ``verdict`` per worker."""
    try:
        doc = json.loads((run_dir / "report.json").read_text())
    except (OSError, ValueError):
        return []
    out = []
    if isinstance(doc.get("workers"), list):
        for w in doc["workers"]:
            kinds = sorted({KIND_WORDS.get(f.get("kind"), str(f.get("kind"))) for f in w.get("findings") or []})
            verdict = " + ".join(kinds) if kinds else str(w.get("verdict") or "no finding")
            out.append({"lane": w.get("lane"), "pid": w.get("pid"), "verdict": verdict,
                        "titles": [f.get("title") for f in w.get("findings") or []],
                        "snapshots": len(w.get("snapshots") or [])})
        return out
    for f in doc.get("findings") or []:
        out.append({"lane": f.get("lane"), "pid": f.get("pid"), "verdict": f.get("verdict"),
                    "confidence": f.get("confidence"), "snapshots": len(f.get("snapshots") or []),
                    "summary": (f.get("summary") or "")[:200]})
    return out


def timing_of(run_dir: Path, wall: float) -> dict:
    """Where an investigate's time went, from its run directory: the run step (the first lane's start, or the
    record's started_at when earlier, → finished_at: the lanes), the forced GCs and the snapshot writing inside it (summed over the workers, from
    the traces' ``gcMs`` and the snapshots' ``seconds``: worker time, in parallel when workers run side by side),
    the file ends GC-settled of all ends (the GC budget), and the rest outside the run step (heaplens's start,
    the runner's inspect, the plan, diagnose, report)."""
    try:
        rec = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        return {}
    gc_ms = 0.0
    gcs = ends = settled = snaps = 0
    snap_s = 0.0
    lanes = rec.get("lanes") or {}
    for lane in (lanes.values() if isinstance(lanes, dict) else lanes):
        try:
            text = Path(lane.get("trace") or "").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("gcMs") is not None:
                gc_ms += float(e["gcMs"])
                gcs += 1
            if e.get("ev") == "end":
                ends += 1
                settled += bool(e.get("settled"))
            if e.get("ev") == "snapshot":
                snaps += 1
                snap_s += float(e.get("seconds") or 0)
    # from the first lane's start: a run's only lane may start before the record (runner/early_lane.py)
    starts = [rec.get("started_at") or 0] + [l.get("started_at") for l in (lanes.values() if isinstance(lanes, dict)
                                                                            else lanes) if l.get("started_at")]
    run_s = (rec.get("finished_at") or 0) - min(starts)
    return {"run_s": round(run_s, 2), "gc_s": round(gc_ms / 1000, 2), "gcs": gcs, "ends": ends, "settled_ends": settled,
            "snapshot_s": round(snap_s, 2), "snapshots": snaps, "outside_s": round(wall - run_s, 2)}


def lanes_of(run_dir: Path) -> tuple[list[dict], dict]:
    """Lane statuses from run.json and the test counts from the lanes' Vitest logs (added up)."""
    lanes = []
    try:
        rec = json.loads((run_dir / "run.json").read_text())
        raw = rec.get("lanes") or {}
        for lane in (raw.values() if isinstance(raw, dict) else raw):
            lanes.append({"name": lane.get("name"), "status": lane.get("status"), "exit_code": lane.get("exit_code"),
                          "isolate": lane.get("isolate"), "files": len(lane.get("files_planned") or []),
                          "elapsed_s": lane.get("elapsed_s")})
    except (OSError, ValueError):
        pass
    text = "".join(p.read_text(errors="replace") for p in sorted(run_dir.glob("lanes/*/vitest.log")))
    return lanes, counts(text)


def measure_plain(suite: Path, marker: dict, timeout: float, log_dir: Path, tag: str) -> dict:
    argv = list(marker["command"])
    log = log_dir / f"{tag}-plain.log"
    l0 = os.getloadavg()[0]
    wall, code, timed_out = run_tree(argv, suite, clean_env(), timeout, log)
    return {"side": "plain", "wall": wall, "exit_code": code, "timed_out": timed_out,
            "counts": counts(log.read_text(errors="replace")), "load_before": l0, "load_after": os.getloadavg()[0],
            "argv": argv}


def measure_investigate(suite: Path, marker: dict, timeout: float, log_dir: Path, tag: str, extra: list[str],
                        keep: bool) -> dict:
    runs = Path(tempfile.mkdtemp(prefix=f"capture-{tag}-", dir=log_dir))
    env = clean_env()
    env["HEAPLENS_RUNS_DIR"] = str(runs)
    argv = [sys.executable, "-m", "heaplens", "investigate", *marker["paths"], *extra, "--format", "json"]
    log = log_dir / f"{tag}-investigate.log"
    l0 = os.getloadavg()[0]
    wall, code, timed_out = run_tree(argv, suite, env, timeout, log)
    res = {"side": "investigate", "wall": wall, "exit_code": code, "timed_out": timed_out,
           "load_before": l0, "load_after": os.getloadavg()[0], "argv": argv[1:]}
    run_dirs = sorted(p.parent for p in runs.glob("*/run.json"))
    if run_dirs:
        rd = run_dirs[-1]
        res["run_id"] = rd.name
        res["snapshots"] = snapshots_of(rd)
        res["verdicts"] = verdicts_of(rd)
        res["lanes"], res["counts"] = lanes_of(rd)
        res["time"] = timing_of(rd, wall)
        shutil.rmtree(suite / ".heaplens" / "config" / rd.name, ignore_errors=True)
    else:
        res["snapshots"] = snapshots_of(runs)
        res["verdicts"], res["lanes"], res["counts"] = [], [], {}
    if keep:
        res["runs_dir"] = str(runs)
    else:
        shutil.rmtree(runs, ignore_errors=True)
    return res


def fmt_s(x: float) -> str:
    return f"{x:.1f}s"


def fmt_mb(b: float) -> str:
    return f"{b / 1048576:.0f}MiB" if b < 10 * 1073741824 else f"{b / 1073741824:.1f}GiB"


def _counts(xs: list) -> str:
    return ",".join("–" if x is None else str(x) for x in xs)


def verdict_key(v: list[dict]) -> str:
    """One run's verdicts as a stable text: per lane, the verdicts of its workers (PIDs differ run to run)."""
    by_lane: dict[str, dict[str, int]] = {}
    for f in v:
        c = by_lane.setdefault(str(f["lane"]), {})
        c[str(f["verdict"])] = c.get(str(f["verdict"]), 0) + 1
    return "; ".join(f"{lane}: " + ", ".join(f"{k}{f' ×{n}' if n > 1 else ''}" for k, n in sorted(c.items()))
                     for lane, c in sorted(by_lane.items())) or "(no finding)"


def summarize(results: list[dict]) -> list[dict]:
    rows = []
    keys = sorted({(r["suite"], r["load"]) for r in results}, key=lambda k: (k[0], k[1] != "low"))
    for suite, load in keys:
        rs = [r for r in results if r["suite"] == suite and r["load"] == load]
        plain = [r for r in rs if r["side"] == "plain"]
        inv = [r for r in rs if r["side"] == "investigate"]
        ratios = []
        for p in plain:
            q = next((i for i in inv if i["rep"] == p["rep"]), None)
            if q:
                ratios.append(q["wall"] / p["wall"])
        snaps = [i["snapshots"]["count"] for i in inv]
        sizes = [i["snapshots"]["bytes"] for i in inv]
        per_worker = [sorted(i["snapshots"]["per_worker"].values()) for i in inv]
        verdicts = [verdict_key(i.get("verdicts") or []) for i in inv]
        rows.append({
            "suite": suite, "load": load, "reps": len(plain),
            "plain_median": statistics.median(p["wall"] for p in plain) if plain else None,
            "plain_range": [min(p["wall"] for p in plain), max(p["wall"] for p in plain)] if plain else None,
            "investigate_median": statistics.median(i["wall"] for i in inv) if inv else None,
            "investigate_range": [min(i["wall"] for i in inv), max(i["wall"] for i in inv)] if inv else None,
            "timeouts": sum(1 for i in inv if i["timed_out"]),
            "ratio_median": statistics.median(ratios) if ratios else None,
            "ratio_range": [min(ratios), max(ratios)] if ratios else None,
            "snapshots_median": statistics.median(snaps) if snaps else None,
            "snapshot_bytes_median": statistics.median(sizes) if sizes else None,
            "largest_snapshot": max((i["snapshots"]["largest"] for i in inv), default=0),
            "zero_byte_snapshots": sum(i["snapshots"]["zero_byte"] for i in inv),
            "per_worker": per_worker,
            "verdicts": sorted(set(verdicts)),
            # None: the run timed out (Vitest printed no summary)
            "failed_tests_plain": [None if p["timed_out"] else p.get("counts", {}).get("tests", {}).get("failed", 0)
                                   for p in plain],
            "failed_tests_investigate": [None if i["timed_out"] else i.get("counts", {}).get("tests", {}).get("failed", 0)
                                         for i in inv],
            "load_avg": [round(min(r["load_before"] for r in rs), 2), round(max(r["load_after"] for r in rs), 2)],
        })
    return rows


def table(rows: list[dict]) -> str:
    head = ("suite", "load", "plain (min–max)", "investigate (min–max)", "ratio (min–max)", "snaps", "snap size",
            "per worker", "failed p/h", "load avg")
    lines = [head]
    for r in rows:
        to = f" +{r['timeouts']} timeout" if r["timeouts"] else ""
        pw = " | ".join(",".join(map(str, w)) or "–" for w in r["per_worker"]) or "-"
        lines.append((
            r["suite"], r["load"],
            f"{fmt_s(r['plain_median'])} ({fmt_s(r['plain_range'][0])}–{fmt_s(r['plain_range'][1])})" if r["plain_median"] else "-",
            f"{fmt_s(r['investigate_median'])} ({fmt_s(r['investigate_range'][0])}–{fmt_s(r['investigate_range'][1])}){to}"
            if r["investigate_median"] else "-",
            f"{r['ratio_median']:.2f}× ({r['ratio_range'][0]:.2f}–{r['ratio_range'][1]:.2f})" if r["ratio_median"] else "-",
            f"{r['snapshots_median']:g}" if r["snapshots_median"] is not None else "-",
            f"{fmt_mb(r['snapshot_bytes_median'])} (max {fmt_mb(r['largest_snapshot'])})" if r["snapshot_bytes_median"] else "-",
            pw,
            f"{_counts(r['failed_tests_plain'])}/{_counts(r['failed_tests_investigate'])}",
            f"{r['load_avg'][0]:.1f}–{r['load_avg'][1]:.1f}",
        ))
    widths = [max(len(str(l[i])) for l in lines) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(l, widths)).rstrip() for l in lines]
    out.append("")
    for r in rows:
        out.append(f"verdicts {r['suite']} ({r['load']}): " + " ‖ ".join(r["verdicts"]))
    return "\n".join(out)


def markdown(docs: list[dict]) -> str:
    """The summaries of saved runs (``--report FILE…``) as one Markdown table, for docs/performance.md."""
    lines = ["| suite | load | files | plain `vitest run` | `heaplens investigate` | ratio | snapshots (size) | "
             "per worker | failed tests plain / heaplens | verdicts (distinct sets over the rounds) | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for doc in docs:
        for r in summarize(doc["results"]):
            files = (doc.get("suites", {}).get(r["suite"]) or {}).get("files", "")
            to = f", {r['timeouts']} timed out" if r["timeouts"] else ""
            inv = (f"{fmt_s(r['investigate_median'])} ({fmt_s(r['investigate_range'][0])}–"
                   f"{fmt_s(r['investigate_range'][1])}{to})") if r["investigate_median"] else "-"
            ratio = (f"{'≥ ' if r['timeouts'] else ''}{r['ratio_median']:.2f}× ({r['ratio_range'][0]:.2f}–"
                     f"{r['ratio_range'][1]:.2f})") if r["ratio_median"] else "-"
            pw = " · ".join(",".join(map(str, w)) or "–" for w in r["per_worker"]) or "-"
            lines.append(" | ".join([
                f"| {r['suite']}", r["load"], str(files),
                f"{fmt_s(r['plain_median'])} ({fmt_s(r['plain_range'][0])}–{fmt_s(r['plain_range'][1])})",
                inv, ratio,
                f"{r['snapshots_median']:g} ({fmt_mb(r['snapshot_bytes_median'] or 0)}, largest {fmt_mb(r['largest_snapshot'])})",
                pw,
                f"{_counts(r['failed_tests_plain'])} / {_counts(r['failed_tests_investigate'])}",
                " ‖ ".join(r["verdicts"]).replace("|", "/"),
                f"{r['load_avg'][0]:.1f}–{r['load_avg'][1]:.1f} |",
            ]))
    return "\n".join(lines)


def breakdown(docs: list[dict]) -> str:
    """Where investigate's time went (medians over the rounds of each suite and load), beside the plain run."""
    lines = ["| suite | load | plain | `investigate` | its run step (lanes) | forced GCs (file ends settled) | "
             "snapshot writing | rest of the run step | outside the run step (start, inspect, plan, diagnose, "
             "report) | load avg |", "|---|---|---|---|---|---|---|---|---|---|"]
    med = statistics.median
    for doc in docs:
        res = doc["results"]
        for suite, load in sorted({(r["suite"], r["load"]) for r in res}, key=lambda k: (k[0], k[1] != "low")):
            rs = [r for r in res if r["suite"] == suite and r["load"] == load]
            plain = [r["wall"] for r in rs if r["side"] == "plain"]
            inv = [r for r in rs if r["side"] == "investigate" and r.get("time")]
            if not inv or not plain:
                continue
            t = [r["time"] for r in inv]
            rest = [x["run_s"] - x["gc_s"] - x["snapshot_s"] for x in t]
            loads = [r["load_before"] for r in rs] + [r["load_after"] for r in rs]
            lines.append(
                f"| {suite} | {load} | {med(plain):.1f} s | {med(r['wall'] for r in inv):.1f} s | "
                f"{med(x['run_s'] for x in t):.1f} s | {med(x['gc_s'] for x in t):.1f} s "
                f"({med(x['settled_ends'] for x in t):g} of {med(x['ends'] for x in t):g}) | "
                f"{med(x['snapshot_s'] for x in t):.1f} s ({med(x['snapshots'] for x in t):g}) | {med(rest):.1f} s | "
                f"{med(x['outside_s'] for x in t):.1f} s | {min(loads):.1f}–{max(loads):.1f} |")
    return "\n".join(lines)


def compile_heaplens() -> str:
    """heaplens as an install leaves it: pip compiles a package's bytecode when it installs it, but an editable
    install where PYTHONDONTWRITEBYTECODE is set (this machine's environment) would compile its ~90 modules from
    source in every measured run (~0.12 s). Compiled once here; what was done is recorded."""
    pkg = Path(heaplens.__file__).parent
    ok = compileall.compile_dir(str(pkg), quiet=1)
    return f"compiled before the runs ({pkg})" if ok else "not compiled (compileall failed for some module)"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--report"]:
        docs = [json.loads(Path(f).read_text()) for f in argv[1:]]
        print(markdown(docs))
        print()
        print(breakdown(docs))
        return 0
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suites", default="demo,gen200,modules3mb,date-fns,hono")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--loads", default="low,hog", help="low, hog or both (default)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run (default 1800)")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--keep-runs", action="store_true", help="keep heaplens's run directories (snapshots!)")
    ap.add_argument("--no-warmup", action="store_true")
    a = ap.parse_args(argv)
    names = [s for s in a.suites.split(",") if s]
    loads = [x for x in a.loads.split(",") if x]
    for x in loads:
        if x not in ("low", "hog"):
            ap.error(f"--loads: {x!r} is not low or hog")
    prepared = {}
    for name in names:
        if name not in S.SUITE_NAMES:
            ap.error(f"unknown suite {name!r} (one of {', '.join(S.SUITE_NAMES)})")
        path = S.suite_path(name)
        marker = S.read_marker(path)
        if marker is None:
            print(f"bench_capture: {name} is not prepared: .venv/bin/python bench/suites.py prepare {name}",
                  file=sys.stderr)
            return 2
        prepared[name] = (path, marker)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_json = Path(a.json) if a.json else HERE / ".cache" / f"capture-{stamp}.json"
    log_dir = HERE / ".cache" / f"capture-logs-{stamp}"
    log_dir.mkdir(parents=True, exist_ok=True)
    bytecode = compile_heaplens()
    machine = {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
               "node": S.node_version(), "python": sys.version.split()[0], "heaplens_bytecode": bytecode,
               "heaplens_commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                                 capture_output=True, text=True).stdout.strip()}
    doc = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "machine": machine,
           "argv": sys.argv, "investigate_args": extra,
           "suites": {n: {k: m.get(k) for k in ("vitest", "files", "commit", "command", "paths")}
                      for n, (p, m) in prepared.items()},
           "results": []}
    hog = Hog()
    try:
        for name, (path, marker) in prepared.items():
            if not a.no_warmup:
                say(f"[capture] {name}: warm-up plain run")
                measure_plain(path, marker, a.timeout, log_dir, f"{name}-warmup")
            for rep in range(1, a.reps + 1):
                for load in loads:
                    try:
                        order = ("plain", "investigate") if rep % 2 else ("investigate", "plain")
                        for side in order:
                            tag = f"{name}-{load}-{rep}"
                            hog.stop()
                            settled = settle()
                            if load == "hog":
                                hog.start()
                            if side == "plain":
                                r = measure_plain(path, marker, a.timeout, log_dir, tag)
                            else:
                                r = measure_investigate(path, marker, a.timeout, log_dir, tag, extra, a.keep_runs)
                            r.update({"suite": name, "load": load, "rep": rep, "settled_s": settled})
                            doc["results"].append(r)
                            extra_info = ""
                            if side == "investigate":
                                extra_info = (f" snaps={r['snapshots']['count']} ({fmt_mb(r['snapshots']['bytes'])})"
                                              f" verdicts={verdict_key(r.get('verdicts') or [])}")
                            failed = r.get("counts", {}).get("tests", {}).get("failed", 0)
                            say(f"[capture] {name} load={load} rep={rep} {side}: {r['wall']:.1f}s exit={r['exit_code']}"
                                f"{' TIMEOUT' if r['timed_out'] else ''} failed={failed} "
                                f"loadavg={r['load_before']:.1f}→{r['load_after']:.1f} settled={settled}s{extra_info}")
                            out_json.parent.mkdir(parents=True, exist_ok=True)
                            out_json.write_text(json.dumps(doc, indent=1))
                    finally:
                        hog.stop()
    finally:
        hog.stop()
    doc["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    doc["summary"] = summarize(doc["results"])
    out_json.write_text(json.dumps(doc, indent=1))
    print(f"machine: {machine['cpus']} CPUs, {machine['memory_gib']} GiB, Node {machine['node']}, "
          f"Python {machine['python']}, heaplens {machine['heaplens_commit']}; {doc['started']} → {doc['finished']}")
    print(f"investigate args: {' '.join(extra) or '(defaults)'}; reps={a.reps}; logs {log_dir}")
    print(table(doc["summary"]))
    print(f"\nJSON: {out_json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
