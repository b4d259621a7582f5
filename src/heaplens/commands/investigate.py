"""``heaplens investigate``: the whole workflow in one command — run with trace and snapshots,
diagnose, report with the proposed fix, apply the isolation patch (``--apply``), verify (``--verify``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from . import BaseCommand


class Command(BaseCommand):
    name = "investigate"
    accepts_passthrough = True
    help = "run, diagnose, report, fix (--apply) and verify (--verify): the whole workflow"
    description = (
        "Run the suite in lanes as its config says, with the memory trace and heap snapshots taken inside each "
        "worker at test-file boundaries within the overhead budget (--no-snapshots, HEAPLENS_*/OPENCLAW_TEST_* or "
        "heaplens.toml can say otherwise), diagnose every worker, "
        "print the report (also <run>/report.html and report.json), and with --apply add the files of "
        "module-graph findings to the behavior manifest (a leak's cleanup is shown, never applied); with "
        "--verify rerun what the fix touched and compare. Exit 0, or 1 when --verify says `not verified`."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        from .run import Command as Run

        Run().add_arguments(p)
        p.usage = "heaplens investigate [PATH …] [run options] [--apply] [--verify] [-- VITEST ARGS …]"
        p.add_argument("--apply", action="store_true", help="apply the isolation patch to the behavior manifest")
        p.add_argument("--verify", action="store_true", help="rerun what the fix touched and compare (heaplens verify)")
        p.add_argument("--min-drop", type=float, default=10.0, metavar="PCT",
                       help="--verify: the peak must fall by this many percent (default 10)")
        p.add_argument("--no-retainers", action="store_true", help="skip the retainer confirmation (faster)")
        p.add_argument("--format", choices=("terminal", "markdown", "json"), default="terminal",
                       help="how the report is printed at the end (the HTML file is always written)")

    def run(self, args: argparse.Namespace) -> int:
        import contextlib

        # machine-readable output (json, markdown) owns stdout: the lanes' and the steps' lines go to stderr
        if args.format != "terminal":
            real = sys.stdout
            with contextlib.redirect_stdout(sys.stderr):
                code, text, html = self._investigate(args)
            real.write(text)
            print(f"[heaplens] report: {html}", file=sys.stderr)
            return code
        code, text, html = self._investigate(args)
        sys.stdout.write(text)
        print(f"[heaplens] report: {html}")
        return code

    def _investigate(self, args: argparse.Namespace) -> tuple[int, str, Path]:
        from ..runner import options as O
        from ..runner.execute import say
        from ..runner.session import execute, resolve_root
        from .plan import cli_values

        cli = cli_values(args)
        paths = list(args.paths)
        root = resolve_root(cli.get("root"), paths)
        values, sources = O.resolve(cli, root)
        if sources.get("snapshots") == "default":
            cli["snapshots"] = True
        runs = Path(values["runs_dir"]) if values["runs_dir"] else root / ".heaplens" / "runs"
        runs = runs if runs.is_absolute() else Path.cwd() / runs
        existing = set(runs.glob("*/run.json")) if runs.is_dir() else set()
        say(f"[heaplens] investigate {root}: step 1/4 run with trace and snapshots")
        code = execute(cli, paths, list(args.passthrough), list(args.command_line))
        new = sorted(set(runs.glob("*/run.json")) - existing)
        if not new:
            raise UsageError("the run left no run record")
        run_dir = new[-1].parent
        if code == 130:
            say(f"[heaplens] investigate: interrupted; the record so far is {run_dir / 'run.json'}")
            return 130, "", run_dir / "run.json"
        say("[heaplens] investigate: step 2/4 diagnose every worker (snapshots, retainers)")
        doc = self._report(run_dir, retainers=not args.no_retainers)
        if args.apply:
            say("[heaplens] investigate: step 3/4 apply the fix")
            self._apply(doc, run_dir)
        verdict = None
        if args.verify:
            say("[heaplens] investigate: step 4/4 verify")
            verdict = self._verify(run_dir, args.min_drop)
            from .report import report_document

            doc = report_document(str(run_dir))
        html = self._html(doc, run_dir)
        from .report import render

        sys.stdout.flush()
        text = render(doc, args.format, color=sys.stdout.isatty() if args.format == "terminal" else False)
        return (1 if verdict == "not verified" else 0), text, html or run_dir / "report.json"

    @staticmethod
    def _report(run_dir: Path, retainers: bool) -> dict:
        from .report import report_document

        return report_document(str(run_dir), retainers=retainers, rebuild=True)

    @staticmethod
    def _html(doc: dict, run_dir: Path) -> Path | None:
        from .report import render, write_text

        try:
            text = render(doc, "html")
        except ImportError:  # no HTML renderer in this build
            return None
        out = run_dir / "report.html"
        write_text(out, text)
        return out

    @staticmethod
    def _apply(doc: dict, run_dir: Path) -> None:
        """Isolation patches are applied; cleanup fixes are printed for a person to make."""
        from ..fix.behavior import isolate
        from ..report import model
        from ..runner.execute import say

        root = doc["run"].get("root")
        applied = False
        for f in doc["findings"]:
            fix = f.get("fix") or {}
            if fix.get("kind") == "isolate" and fix.get("files"):
                res = isolate(root, fix["files"], reason=fix.get("reason"), kind="isolated",
                              behavior_path=fix.get("behavior_manifest"))
                fix["applied"] = bool(res.added)
                applied = applied or bool(res.added)
                for p in res.added:
                    say(f"[heaplens][fix] isolated {p} in {res.path} ({res.where})")
                for p, where in res.already:
                    say(f"[heaplens][fix] {p} already in {where}")
                if res.diff:
                    sys.stdout.write(res.diff if res.diff.endswith("\n") else res.diff + "\n")
                for p in fix.get("missing_timings") or []:
                    say(f"[heaplens][fix] no timing for {p}: a scheduling blind spot (heaplens timings update --from {run_dir})")
            elif fix.get("kind") == "cleanup":
                fix["applied"] = False
                say(f"[heaplens][fix] not applied (a code change): {fix.get('text')}")
        if not applied:
            say("[heaplens][fix] no isolation patch to apply")
        model.write(doc, run_dir / "report.json")

    @staticmethod
    def _verify(run_dir: Path, min_drop: float) -> str:
        from ..fix.verify import record, verify
        from ..runner.execute import say
        from .verify import print_verification

        try:
            v = verify(run_dir, min_drop=min_drop, say=say)
        except UsageError as exc:
            say(f"[heaplens][verify] nothing verified: {exc}")
            return "not verified"
        record(v)
        print_verification(v)
        return v.verdict
