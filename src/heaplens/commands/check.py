"""``heaplens check RUN --baseline FILE``: the memory gate of a CI job (exit 1 on a regression)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import BaseCommand, add_format, add_run


def _growth(text: str):
    from ..workflow.baseline import parse_growth  # deferred: only when the option is given

    try:
        return parse_growth(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> int:
    from ..workflow.baseline import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _noise(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError("--noise must be >= 0")
    return v


class Command(BaseCommand):
    name = "check"
    help = "compare a run with a saved baseline: exit 1 when memory regressed (a CI gate)"
    description = (
        "Measure RUN (a run directory, its run.json or a run id; a merged run of shards too) as `heaplens baseline "
        "save` does and compare it with the baseline. Exit 1 when a test file or a lane leaves more GC-settled heap "
        "(or external memory) than the baseline allows, a lane's peak RSS rose past it, a worker died where none "
        "had, or a finding appears that no baseline run had (or got more severe); each is named with its file, "
        "lane and figures, and the run's report is linked. The rule: a figure fails when it exceeds the "
        "baseline's median by more than max(floor, noise × its spread over the baseline's runs, --max-growth) "
        "(docs/ci.md). A baseline made with another runner or Node version, heaplens, or suite config is "
        "flagged and still compared (--strict: refused, exit 2). In GitHub Actions (or with --annotations) the "
        "flagged files get annotations; --format markdown is also appended to $GITHUB_STEP_SUMMARY."
    )
    examples = (
        "heaplens check .heaplens/runs/<id> --baseline heaplens-baseline.json",
        "heaplens check <run> --baseline base.json --max-growth 10%,2MiB --floor 512KiB",
        "heaplens check merged/ --baseline base.json --strict --format markdown",
        "heaplens check <run> --baseline base.json --format json | jq .regressions",
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        add_run(p)
        p.add_argument("--baseline", metavar="FILE", default="heaplens-baseline.json",
                       help="the baseline (default ./heaplens-baseline.json)")
        p.add_argument("--max-growth", type=_growth, default=None, metavar="PCT%|SIZE",
                       help="growth allowed over the baseline figure: 10%% (of it, the default), 2MiB, or both "
                            "(10%%,2MiB: the larger)")
        p.add_argument("--floor", type=_size, default=None, metavar="SIZE",
                       help="heap/external growth under this never fails (default 1MiB)")
        p.add_argument("--rss-floor", type=_size, default=None, metavar="SIZE",
                       help="peak RSS growth under this never fails (default 64MiB)")
        p.add_argument("--noise", type=_noise, default=None, metavar="K",
                       help="multiples of a figure's spread over the baseline's runs that count as noise (default 3)")
        p.add_argument("--strict", action="store_true",
                       help="refuse (exit 2) a baseline made with another runner/Node/heaplens version or config")
        p.add_argument("--annotations", action=argparse.BooleanOptionalAction, default=None,
                       help="GitHub annotations on the flagged files (default: on when $GITHUB_ACTIONS is true)")
        p.add_argument("--no-retainers", action="store_true", help="do not compare findings (no holder analysis)")
        p.add_argument("--rules", action="append", default=[], metavar="FILE", help="extra classification rules")
        p.add_argument("-o", "--output", metavar="FILE", help="also write the result (in --format) to FILE")
        add_format(p, ("text", "markdown", "json"))

    def run(self, args: argparse.Namespace) -> int:
        from ..atomicfile import write_text_atomic  # deferred: see commands/__init__
        from ..console import progress_to_stderr
        from ..report.github import enabled
        from ..workflow.baseline import HEAP_FLOOR, MAX_GROWTH_PCT, NOISE, RSS_FLOOR, Thresholds, check
        from ..workflow.check_output import annotations, render
        from ..workflow.report import append_step_summary

        pct, size = args.max_growth if args.max_growth else (MAX_GROWTH_PCT, None)
        th = Thresholds(growth_pct=pct, growth_bytes=size,
                        floor=HEAP_FLOOR if args.floor is None else args.floor,
                        rss_floor=RSS_FLOOR if args.rss_floor is None else args.rss_floor,
                        noise=NOISE if args.noise is None else args.noise)
        machine = args.format != "text"
        with progress_to_stderr(True):
            res = check(args.run, args.baseline, thresholds=th, strict=args.strict, retainers=not args.no_retainers,
                        rules=args.rules)
        text = render(res, args.format)
        if enabled(args.annotations):
            # workflow commands: on stdout with the text; beside a machine-readable document, on stderr (the
            # runner reads both)
            stream = sys.stderr if machine else sys.stdout
            for line in annotations(res):
                print(line, file=stream)
        sys.stdout.write(text)
        if args.format == "markdown":
            target = append_step_summary(text)
            if target:
                print(f"heaplens: appended the check to {target}", file=sys.stderr)
        if args.output:
            write_text_atomic(Path(args.output), text)
        return 0 if res.passed else 1
