"""Full analysis (parse + dominators + retained sizes + class summary) beside the peers, in one run.

    .venv/bin/python bench/bench_graph.py bench/.cache/snap-160000.heapsnapshot --repeat 3
    .venv/bin/python bench/bench_graph.py bench/.cache/snap-1600000.heapsnapshot --repeat 1 --peers hst
(the snapshots come from bench/gen_snapshot.mjs, e.g. via `make bench`; the peers from
`npm ci --prefix bench`)

Every tool runs in its own fresh process; wall time and peak RSS come from ``os.wait4`` on that
process. Tools:

- ``heaplens``: ``heaplens top SNAPSHOT --format json`` (the whole CLI, Python start-up included);
- ``hst``: DevTools' own HeapSnapshot code (npm heap-snapshot-toolkit) — parse, full init incl.
  dominators and retained sizes, then the Summary aggregates (tests/graph/js/devtools_summary.mjs);
- ``vhp``: @vscode/v8-heap-parser (Rust → WASM) — decode + class groups with retained sizes
  (bench/js/vscode_summary.mjs).

The retained size of the largest non-root class is printed per tool as a cross-check.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402


def tool_commands(snapshot: str, args) -> dict[str, tuple[list[str], dict | None]]:
    env = dict(os.environ, HEAPLENS_PROGRESS="0")
    tools: dict = {
        "heaplens": ([sys.executable, "-m", "heaplens", "top", snapshot, "--format", "json", "--top", "20",
                      "--objects", "5"], env),
    }
    if NODE:
        heap = f"--max-old-space-size={args.node_heap_mb}"
        tools["hst"] = ([NODE, heap, str(ROOT / "tests/graph/js/devtools_summary.mjs"), snapshot, "20"],
                        dict(os.environ, HST_DIR=args.hst_dir))
        tools["vhp"] = ([NODE, heap, str(ROOT / "bench/js/vscode_summary.mjs"), snapshot, "20"],
                        dict(os.environ, VHP_DIR=args.vhp_dir))
    return {k: v for k, v in tools.items() if k == "heaplens" or k in args.peers}


def top_class(tool: str, stdout: str) -> tuple[str, int] | None:
    try:
        doc = json.loads(stdout.strip().splitlines()[-1] if tool != "heaplens" else stdout)
    except (ValueError, IndexError):
        return None
    rows = doc.get("classes") if tool == "heaplens" else doc.get("rows")
    if not rows:
        return None
    skip = {"global", "(system)", "(GC roots)", "Window", "Array", "(synthetic)"}
    for r in rows:
        name = r.get("class") or r.get("name")
        if name in skip:
            continue
        return name, int(r.get("retained_size", r.get("retained", 0)))
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("snapshots", nargs="+")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the median is reported")
    ap.add_argument("--peers", default="hst,vhp", help="comma list of peers to run (hst, vhp; '' = none)")
    peers = ROOT / "bench" / "node_modules"  # bench/package.json: `npm ci --prefix bench`
    ap.add_argument("--hst-dir", default=os.environ.get("HST_DIR", str(peers)))
    ap.add_argument("--vhp-dir", default=os.environ.get("VHP_DIR", str(peers)))
    ap.add_argument("--node-heap-mb", type=int, default=20000)
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args()
    args.peers = [p for p in args.peers.split(",") if p]
    results = []
    for snap in args.snapshots:
        size = os.path.getsize(snap)
        print(f"\n{snap}: {size / 1e6:,.0f} MB", flush=True)
        tools = tool_commands(snap, args)
        per_tool: dict[str, list] = {t: [] for t in tools}
        for i in range(args.repeat):  # interleaved, so drift hits every tool alike
            for tool, (cmd, env) in tools.items():
                secs, rss, code, out, err = run_measured(cmd, env)
                per_tool[tool].append((secs, rss, code, out, err))
                errs = [ln for ln in err.splitlines() if "Error" in ln or "error" in ln]
                status = "ok" if code == 0 else f"exit {code}: {(errs[0] if errs else err.strip()[-120:]).strip()[:120]}"
                print(f"  run {i + 1} {tool:9s} {secs:7.2f} s  {rss / 1e9:5.2f} GB  {status}", flush=True)
        base = None
        for tool, runs in per_tool.items():
            good = [r for r in runs if r[2] == 0]
            row = {"snapshot": snap, "file_bytes": size, "tool": tool, "runs": len(runs), "ok": len(good)}
            if good:
                row["seconds_median"] = statistics.median(r[0] for r in good)
                row["seconds_all"] = [round(r[0], 2) for r in good]
                row["peak_rss_bytes"] = max(r[1] for r in good)
                row["rss_over_file"] = row["peak_rss_bytes"] / size
                row["top_class"] = top_class(tool, good[-1][3])
            else:
                lines = runs[-1][4].strip().splitlines()
                errs = [ln for ln in lines if "Error" in ln or "error" in ln]
                row["error"] = (errs[0] if errs else (lines[-1] if lines else "failed")).strip()[:200]
            if tool == "heaplens":
                base = row.get("seconds_median")
            results.append(row)
        print(f"  {'tool':9s} {'median s':>9s} {'peak RSS':>9s} {'RSS/file':>8s} {'heaplens x':>10s}  top class (retained)")
        for row in [r for r in results if r["snapshot"] == snap]:
            if "seconds_median" not in row:
                print(f"  {row['tool']:9s} failed: {row['error']}")
                continue
            speed = row["seconds_median"] / base if base else float("nan")
            tc = row.get("top_class")
            print(f"  {row['tool']:9s} {row['seconds_median']:9.2f} {row['peak_rss_bytes'] / 1e9:8.2f}G "
                  f"{row['rss_over_file']:8.2f} {speed:10.2f}  {tc[0] + ' ' + format(tc[1], ',') if tc else '-'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
