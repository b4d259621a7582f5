"""``heaplens investigate``: the whole workflow — run the suite with the trace and heap snapshots, diagnose
every worker, build the report (``<run>/report.json`` and ``report.html``), apply the isolation patch
(``apply``: a leak's cleanup is a code change, shown and never applied) and verify (``verify``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from ..atomicfile import write_text_atomic
from ..console import say
from ..errors import UsageError
from ..fix.behavior import isolate
from ..fix.jest_config import config_fix
from ..kernels import RETAINERS_HINT, require_compiled
from ..report import model
from ..runner import options as O
from ..runner.session import execute, resolve_root
from .report import render, report_document
from .verify import Verification, record, verify


@dataclass
class Investigation:
    exit_code: int  # 0; 1 when verification said "not verified"; 130 when interrupted
    run_dir: Path
    report: dict | None  # None when interrupted
    html: Path | None
    verification: Verification | None = None


def investigate(cli: dict, paths: list[str], vitest_args: list[str], argv: list[str], *, apply: bool = False,
                verify_fix: bool = False, min_drop: float = 10.0, retainers: bool = True) -> Investigation:
    """Steps 1–4; progress lines go to standard output through :func:`heaplens.console.say` (the command
    sends them to stderr when stdout carries a machine-readable report)."""
    root = resolve_root(cli.get("root"), paths)
    if retainers:  # before minutes of running the suite
        require_compiled(RETAINERS_HINT)
    _values, sources = O.resolve(cli, root)
    cli = dict(cli)
    if sources.get("snapshots") == "default":
        # investigate's own default (file-boundary snapshots), recorded as if typed (the reproduce command
        # must carry it)
        cli["snapshots"] = True
        cut = argv.index("--") if "--" in argv else len(argv)
        argv = [*argv[:cut], "--snapshots", *argv[cut:]]
    say(f"[heaplens] investigate {root}: step 1/4 run with trace and snapshots")
    result = execute(cli, paths, vitest_args, argv)
    run_dir = result.dir
    if result.exit_code == 130:
        say(f"[heaplens] investigate: interrupted; the record so far is {result.record.path}")
        return Investigation(130, run_dir, None, None)
    say("[heaplens] investigate: step 2/4 diagnose every worker (snapshots, retainers)")
    doc = report_document(result.record, retainers=retainers, rebuild=True)
    jest_fix = jest_config_fix(result.record, doc)
    if apply:
        say("[heaplens] investigate: step 3/4 apply the fix")
        apply_fixes(doc, run_dir)
        if jest_fix is not None and not jest_fix.edit.refused:
            doc["fixes"]["jest_config"]["applied"] = jest_fix.edit.apply()
            say(f"[heaplens][fix] wrote {', '.join(f'{k}={v}' for k, v in jest_fix.settings.items())} into "
                f"{jest_fix.edit.path}")
            model.write(doc, run_dir / "report.json")
    v = None
    if verify_fix:
        say("[heaplens] investigate: step 4/4 verify")
        try:
            v = verify(run_dir, min_drop=min_drop, say=say)
        except UsageError as exc:
            say(f"[heaplens][verify] nothing verified: {exc}")
        else:
            record(v)
            for line in v.lines:
                say(f"[heaplens][verify] {line}")
            say(f"[heaplens][verify] {v.verdict}")
            doc = report_document(run_dir)
    html = run_dir / "report.html"
    write_text_atomic(html, render(doc, "html"))
    code = 1 if verify_fix and (v is None or v.verdict != "verified") else 0
    return Investigation(code, run_dir, doc, html, v)


def jest_config_fix(rec, doc: dict):
    """Jest's own fix for a Jest run with findings: ``workerIdleMemoryLimit`` from the measured per-file growth,
    shown (a diff of the suite's Jest config) and kept in the report's ``fixes.jest_config``."""
    if not doc.get("findings"):
        return None
    try:
        fx = config_fix(rec, config=(rec.options or {}).get("config"))
    except (UsageError, OSError) as exc:
        say(f"[heaplens][fix] Jest config not planned: {exc}")
        return None
    if fx is None:
        return None
    for line in fx.lines():
        say(f"[heaplens][fix] {line}")
    for line in fx.edit.diff.splitlines():
        say(line)
    doc.setdefault("fixes", {})["jest_config"] = {
        "settings": fx.settings, "why": fx.limit.why, "every": fx.limit.every, "worker": fx.worker,
        "path": str(fx.edit.path), "diff": fx.edit.diff, "refused_reason": fx.edit.refused_reason,
        "patch": fx.edit.patch, "applied": False}
    return fx


def apply_fixes(doc: dict, run_dir: Path) -> None:
    """Isolation patches are applied; cleanup fixes are printed for a person to make."""
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
        elif fix.get("kind") not in (None, "none", "isolate"):
            fix["applied"] = False
            say(f"[heaplens][fix] not applied (a code change): {fix.get('text')}")
    if not applied:
        say("[heaplens][fix] no isolation patch to apply")
    model.write(doc, run_dir / "report.json")
