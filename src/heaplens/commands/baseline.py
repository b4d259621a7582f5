"""``heaplens baseline save RUN…``: the memory baseline a CI gate (``heaplens check``) compares runs with."""

from __future__ import annotations

import argparse
import sys

from . import RUN_HELP, BaseCommand, add_format


class Command(BaseCommand):
    name = "baseline"
    help = "save a memory baseline of the suite from one or more runs (for heaplens check)"
    description = (
        "save: measure RUN… (run directories, run.json files or run ids; merged shards too) and write a small "
        "versioned JSON file, one line per lane, test file and finding, meant to be committed or cached from the "
        "main branch: per lane and test file the GC-settled heap and external memory the file leaves, per lane "
        "the peak RSS of its largest worker and its faults, the findings (kind, holder, severity) and what made "
        "them (runner and version, Node, the suite's resolved config and its digest, heaplens). Several runs of "
        "the same setup store each figure's spread, which makes `heaplens check` noise-aware (docs/ci.md). "
        "show: print a baseline's figures."
    )
    examples = (
        "heaplens baseline save .heaplens/runs/<id>",
        "heaplens baseline save run-1/ run-2/ run-3/ -o heaplens-baseline.json",
        "heaplens merge shard-1/ shard-2/ shard-3/ -o merged/run.json && heaplens baseline save merged/",
        "heaplens baseline show heaplens-baseline.json --format json",
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("action", choices=("save", "show"), help="save RUN… | show FILE")
        p.add_argument("inputs", nargs="+", metavar="RUN|FILE", help=f"save: {RUN_HELP}; show: a baseline file")
        p.add_argument("-o", "--output", metavar="FILE",
                       help="save: where to write the baseline (default ./heaplens-baseline.json)")
        p.add_argument("--no-retainers", action="store_true",
                       help="save: skip the findings (no holder analysis; check then compares none)")
        p.add_argument("--rules", action="append", default=[], metavar="FILE", help="extra classification rules")
        add_format(p, ("text", "json"))

    def run(self, args: argparse.Namespace) -> int:
        from ..console import progress_to_stderr, say  # deferred: see commands/__init__
        from ..errors import UsageError
        from ..workflow.baseline import Baseline, save_baseline
        from ..workflow.check_output import baseline_text

        if args.action == "show":
            if len(args.inputs) != 1:
                raise UsageError("baseline show takes one baseline file")
            b = Baseline.load(args.inputs[0])
            path = b.path
        else:
            with progress_to_stderr(True):
                b, path = save_baseline(args.inputs, args.output, retainers=not args.no_retainers, rules=args.rules,
                                        say=say)
        if args.format == "json":
            sys.stdout.write(b.dumps())
        else:
            sys.stdout.write(baseline_text(b, path))
        return 0
