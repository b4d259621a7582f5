"""``heaplens harness``: prove that a leak fix releases what each iteration captured."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..units import fmt_size
from . import BaseCommand, add_format, non_negative_float, positive_int


class Command(BaseCommand):
    name = "harness"
    help = "run a leak scenario in batches under forced GC: PASS if what it tracks is released"
    description = (
        "Run SCENARIO.mjs (an ES module exporting one iteration's work, or several variants in "
        "`export const modes`) --iterations times per batch for --batches batches under --expose-gc. "
        "Objects passed to track() from 'heaplens/track' must be garbage-collected; a heap snapshot is "
        "written after the baseline and after each batch. FAIL (exit 1) when more than --survivors-limit "
        "tracked objects survive or RSS grows by more than --rss-limit-mb; PASS exits 0; a scenario "
        "that throws, or a --sensitivity run whose planted leak is not caught, exits 2."
    )

    examples = ("heaplens harness scenario.mjs", "heaplens harness scenario.mjs --iterations 100 --sensitivity",
                "heaplens harness scenario.mjs --mode fixed --format json")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("scenario", metavar="SCENARIO.mjs")
        p.add_argument("--iterations", type=positive_int, default=50, help="iterations per batch (default 50)")
        p.add_argument("--batches", type=positive_int, default=5, help="batches (default 5)")
        p.add_argument("--rss-limit-mb", type=non_negative_float, default=64.0,
                       help="largest RSS growth that still passes, MiB (default 64)")
        p.add_argument("--survivors-limit", type=int, default=16,
                       help="most tracked objects allowed to survive (default 16)")
        p.add_argument("--mode", help="which variant of the scenario's `modes` to run")
        p.add_argument("--sensitivity", action="store_true",
                       help="also run with a planted leak (every tracked object kept in a module-level "
                            "bucket); exit 2 if that run does not FAIL")
        p.add_argument("--dir", default=".heaplens/harness", help="where run directories go (default .heaplens/harness)")
        add_format(p, ("text", "json"))

    def run(self, args: argparse.Namespace) -> int:
        from .. import harness as H
        from ..errors import UsageError
        from ..kernels import KernelsMissing

        if args.survivors_limit < 0:
            raise UsageError("--survivors-limit must be 0 or more")
        human = args.format == "text"
        out = sys.stdout if human else sys.stderr  # progress lines never mix with JSON
        base = Path(args.dir)

        def run_once(synthetic: bool):
            run_dir = H.new_run_dir(base)
            total = args.iterations * args.batches
            kind = " (sensitivity: planted leak)" if synthetic else ""
            print(f"[harness] scenario={args.scenario} mode={args.mode or '(default)'} iterations={args.iterations} "
                  f"batches={args.batches} ({total} runs){kind} dir={run_dir}", file=out, flush=True)

            def on_event(ev):
                if ev.get("event") == "baseline":
                    print(f"  baseline rss={fmt_size(ev['rss'])} heap={fmt_size(ev['heapUsed'])}", file=out, flush=True)
                elif ev.get("event") == "batch":
                    print(f"  batch {ev['batch']} totalIters={ev['totalIterations']} rss={fmt_size(ev['rss'])} "
                          f"heap={fmt_size(ev['heapUsed'])} trackedFinalized={ev['finalized']}/{ev['tracked']}",
                          file=out, flush=True)

            r = H.run_scenario(args.scenario, mode=args.mode, iterations=args.iterations, batches=args.batches,
                               run_dir=run_dir, synthetic=synthetic, on_event=on_event)
            return r, H.judge(r, args.survivors_limit, args.rss_limit_mb)

        run, verdict = run_once(False)
        analysis = None
        if not verdict.passed:
            try:
                analysis = H.explain_failure(run)
            except KernelsMissing as exc:  # an install without the compiled kernels: the verdict stands
                print(f"heaplens: note: what retains the survivors is not shown: {exc}", file=sys.stderr)
        _print_verdict(run, verdict, analysis, out, args)

        sens = None
        if args.sensitivity:
            srun, sverdict = run_once(True)
            sens = (srun, sverdict)
            if sverdict.passed:
                print("  sensitivity check FAILED: the planted leak passed — this harness setup cannot detect "
                      "leaks (does the scenario track() what each iteration allocates?)", file=out, flush=True)
            else:
                print(f"  sensitivity check passed: the planted leak was caught ({'; '.join(sverdict.reasons)})",
                      file=out, flush=True)

        if not human:
            doc = H.result_document(run, verdict, analysis, sens,
                                    limits={"survivors": args.survivors_limit, "rss_mb": args.rss_limit_mb})
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        if sens is not None and sens[1].passed:
            return 2
        return 0 if verdict.passed else 1


def _print_verdict(run, verdict, analysis, out, args) -> None:
    growth = run.rss_growth / 2**20
    alive = f"{run.survivors:,} of {run.last.tracked:,} tracked objects still alive (limit {args.survivors_limit})"
    rss = f"RSS {growth:+.1f} MiB (limit {args.rss_limit_mb:g} MiB)"
    if verdict.passed:
        print(f"PASS  {alive}; {rss}", file=out, flush=True)
        return
    print(f"FAIL  {'; '.join(verdict.reasons)}", file=out)
    print(f"      tracked alive {run.survivors:,}/{run.last.tracked:,}; {rss}", file=out)
    by_label = run.survivors_by_label()
    if by_label:
        print("      still alive by label: " + ", ".join(f"{k}={v:,}" for k, v in sorted(by_label.items())), file=out)
    if analysis is not None:
        for line in analysis.lines():
            print("  " + line, file=out)
    out.flush()
