"""``heaplens report RUN``: the run's report (the seed's six items per worker) in one format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..atomicfile import write_text_atomic
from . import BaseCommand, add_format, add_run


class Command(BaseCommand):
    name = "report"
    help = "the run's report: reproduce command, lane + PID, families, verdict, fix, verification"
    description = (
        "Diagnose every worker of a run (the same findings as `heaplens diagnose RUN`) and render the report: "
        "text (default), markdown (also appended to $GITHUB_STEP_SUMMARY when set), json (the versioned model, "
        "docs/report.md) or html (one self-contained file, <run>/report.html unless -o). The model is kept in "
        "<run>/report.json with what produced it (engine, options, rules) and reused while those and the run "
        "record are unchanged (--rebuild to redo it)."
    )
    examples = ("heaplens report 20261128-022338-cf14ba", "heaplens report .heaplens/runs/<id> --format html",
                "heaplens report <run> --format markdown -o report.md", "heaplens report <run> --format json")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        add_run(p)
        add_format(p, ("text", "markdown", "json", "html"))
        p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
        p.add_argument("--lane", action="append", default=[], metavar="NAME", help="only these lanes (repeatable)")
        p.add_argument("--rules", action="append", default=[], metavar="FILE", help="extra classification rules")
        p.add_argument("--no-retainers", action="store_true", help="skip the retaining chains (faster, less sure)")
        p.add_argument("--rebuild", action="store_true", help="rebuild the model even if report.json is current")
        p.add_argument("--annotations", action=argparse.BooleanOptionalAction, default=None,
                       help="GitHub annotations on the findings' holder lines and test files (default: on when "
                            "$GITHUB_ACTIONS is true)")

    def run(self, args: argparse.Namespace) -> int:
        from ..report.github import enabled, report_annotations  # deferred: see __init__
        from ..workflow.report import append_step_summary, render, report_document

        lanes = [n for v in args.lane for n in v.split(",") if n]
        doc = report_document(args.run, rules=args.rules, lanes=lanes, retainers=not args.no_retainers,
                              rebuild=args.rebuild)
        out = args.output
        if args.format == "html" and not out:
            out = str(Path(doc["run"]["dir"]) / "report.html")
        text = render(doc, args.format, color=out is None and sys.stdout.isatty())
        if enabled(args.annotations):
            # workflow commands: with text on stdout, beside a document on stderr (the runner reads both)
            stream = sys.stdout if args.format == "text" and not out else sys.stderr
            for line in report_annotations(doc):
                print(line, file=stream)
        if args.format == "markdown":
            target = append_step_summary(text)
            if target:
                print(f"heaplens: appended the report to {target}", file=sys.stderr)
        if out:
            write_text_atomic(Path(out), text)
            print(f"heaplens: wrote {out}", file=sys.stderr if args.format != "html" else sys.stdout)
        else:
            sys.stdout.write(text)
        return 0
