"""``heaplens investigate``: the whole workflow in one command (heaplens.workflow.investigate)."""

from __future__ import annotations

import argparse
import sys

from ..console import progress_to_stderr
from ..runner.options import INVESTIGATE_DEFAULTS
from . import BaseCommand, add_format, non_negative_float
from .plan import cli_values
from .run import add_run_arguments


class Command(BaseCommand):
    name = "investigate"
    accepts_passthrough = True
    help = "run, diagnose, report, fix (--apply) and verify (--verify): the whole workflow"
    description = (
        "Run the suite in lanes as its config says, with the memory trace and heap snapshots written inside each "
        "worker at test-file boundaries within the overhead budget (--no-snapshots, HEAPLENS_*/OPENCLAW_TEST_* or "
        "heaplens.toml can say otherwise), diagnose every worker, "
        "print the report (also <run>/report.html and report.json), and with --apply run the files of "
        "module-graph findings in a project of their own with isolate: true in the suite's Vitest config (or "
        "the behavior manifest when the project has one; a leak's cleanup is shown, never applied); with "
        "--verify rerun what the fix touched and compare. Exit 0, or 1 when --verify says `not verified`."
    )
    examples = ("heaplens investigate", "heaplens investigate src/ --workers 2",
                "heaplens investigate --apply --verify",
                "heaplens investigate --format markdown >> $GITHUB_STEP_SUMMARY")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.usage = "heaplens investigate [PATH …] [run options] [--apply] [--verify] [-- RUNNER ARGS …]"
        add_run_arguments(p)
        p.add_argument("--apply", action="store_true",
                       help="apply the isolation fix where the suite's runner reads it (its Vitest config, or the "
                            "behavior manifest when the project has one); the diff is shown first")
        p.add_argument("--dry-run", action="store_true", help="show the fix's diff, write nothing")
        p.add_argument("--verify", action="store_true", help="rerun what the fix touched and compare (heaplens verify)")
        p.add_argument("--min-drop", type=non_negative_float, default=10.0, metavar="PCT",
                       help="--verify: the peak must fall by this many percent (default 10)")
        p.add_argument("--no-retainers", action="store_true", help="skip the retaining chains (faster, less sure)")
        p.add_argument("--annotations", action=argparse.BooleanOptionalAction, default=None,
                       help="GitHub annotations on the findings' holder lines and test files (default: on when "
                            "$GITHUB_ACTIONS is true)")
        add_format(p, ("text", "markdown", "json"),
                   help="how the report is printed at the end (default text; the HTML file is always written)")

    def run(self, args: argparse.Namespace) -> int:
        from ..runner import inspection  # deferred: see commands/__init__ (as light as this module)

        cli = cli_values(args)
        # the suite's inspection (a Node process) runs while the rest is imported (runner/inspection.py)
        early = inspection.start(cli, list(args.paths), list(args.passthrough), defaults=INVESTIGATE_DEFAULTS)
        try:
            from ..report.github import enabled, report_annotations
            from ..workflow.investigate import investigate
            from ..workflow.report import render

            machine = args.format != "text"
            # machine-readable output owns stdout: the lanes' and the steps' lines go to stderr
            with progress_to_stderr(machine):
                inv = investigate(cli, list(args.paths), list(args.passthrough), list(args.command_line),
                                  apply=args.apply, verify_fix=args.verify, min_drop=args.min_drop,
                                  retainers=not args.no_retainers, dry_run=args.dry_run, early=early)
        finally:
            early.close()
        if inv.report is not None:
            text = render(inv.report, args.format, color=sys.stdout.isatty() and not machine)
            if enabled(args.annotations):
                # workflow commands: with text on stdout, beside a document on stderr (the runner reads both)
                for line in report_annotations(inv.report):
                    print(line, file=sys.stderr if machine else sys.stdout)
            sys.stdout.write(text)
        print(f"[heaplens] report: {inv.html or inv.run_dir / 'run.json'}", file=sys.stderr if machine else sys.stdout)
        return inv.exit_code
