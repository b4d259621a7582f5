"""``heaplens report RUN_DIR``: the run's report (the seed's six items per worker) in one format."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import printable
from . import BaseCommand

FORMATS = ("terminal", "markdown", "json", "html")


def report_document(run_dir: str, *, rules: list[str] | None = None, lanes: list[str] | None = None,
                    retainers: bool = True, rebuild: bool = False) -> dict:
    """The report model of a run: ``<run>/report.json`` when it is newer than the run record and built
    with the same options, otherwise built now (and saved there, atomically)."""
    from ..diagnose import load_rules
    from ..diagnose.run import load_run
    from ..progress import enabled, status
    from ..report import model

    path, _rec = load_run(run_dir)
    cached = path / "report.json"
    if (not rebuild and not rules and not lanes and retainers and cached.is_file()
            and cached.stat().st_mtime >= (path / "run.json").stat().st_mtime):
        return model.load(cached)
    with status(enabled()) as say:
        doc = model.build(path, rules=load_rules(rules or []), retainers=retainers, lanes=lanes, progress=say)
    if not rules and not lanes and retainers:
        model.write(doc, cached)
    return doc


def render(doc: dict, fmt: str, color: bool | None = None) -> str:
    if fmt != "json":
        doc = printable.deep(doc)  # names and paths from snapshots and the record, made printable
    if fmt == "json":
        import json

        return json.dumps(doc, indent=2) + "\n"
    if fmt == "markdown":
        from ..report.md_report import render as md

        return md(doc)
    if fmt == "html":
        from ..report.html import render as html

        return html(doc)
    from ..report.term_report import render as term

    return term(doc, color=color)


def write_text(path: Path, text: str) -> None:
    from ..atomicfile import write_text_atomic

    write_text_atomic(path, text)


def append_step_summary(markdown: str) -> str | None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(markdown)
    return target


class Command(BaseCommand):
    name = "report"
    help = "the run's report: reproduce command, lane + PID, families, verdict, fix, verification"
    description = (
        "Diagnose every worker of a run (see `heaplens diagnose RUN_DIR`) and render the report: terminal "
        "(default), markdown (also appended to $GITHUB_STEP_SUMMARY when set), json (versioned model, "
        "docs/report.md) or html (one self-contained file, <run>/report.html unless -o). The model is kept in "
        "<run>/report.json and reused while the run record is unchanged (--rebuild to redo it)."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("run_dir", metavar="RUN_DIR")
        p.add_argument("--format", choices=FORMATS, default="terminal")
        p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
        p.add_argument("--lane", action="append", default=[], metavar="NAME")
        p.add_argument("--rules", action="append", default=[], metavar="FILE")
        p.add_argument("--no-retainers", action="store_true", help="skip the retainer confirmation (faster)")
        p.add_argument("--rebuild", action="store_true", help="rebuild the model even if report.json is current")

    def run(self, args: argparse.Namespace) -> int:
        lanes = [n for v in args.lane for n in v.split(",") if n]
        doc = report_document(args.run_dir, rules=args.rules, lanes=lanes or None, retainers=not args.no_retainers,
                              rebuild=args.rebuild)
        out = args.output
        if args.format == "html" and not out:
            out = str(Path(doc["run"]["dir"]) / "report.html")
        text = render(doc, args.format, color=None if out is None and sys.stdout.isatty() else False)
        if args.format == "markdown":
            target = append_step_summary(text)
            if target:
                print(f"heaplens: appended the report to {target}", file=sys.stderr)
        if out:
            write_text(Path(out), text)
            print(f"heaplens: wrote {out}", file=sys.stderr if args.format != "html" else sys.stdout)
        else:
            sys.stdout.write(text)
        return 0
