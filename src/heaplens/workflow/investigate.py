"""``heaplens investigate``: the whole workflow — run the suite with the trace and heap snapshots, diagnose
every worker, build the report (``<run>/report.json`` and ``report.html``), apply the isolation patch
(``apply``: a leak's cleanup is a code change, shown and never applied) and verify (``verify``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..atomicfile import write_text_atomic
from ..console import say
from ..diagnose import load_rules
from ..diagnose.run import Ahead
from ..errors import UsageError
from ..fix.isolation import Change
from ..fix.isolation import plan as plan_isolation
from ..fix.jest_config import config_fix
from ..kernels import RETAINERS_HINT, require_compiled
from ..report import model
from ..runner import options as O
from ..runner.inspection import Early
from ..runner.record import RunRecord
from ..runner.session import execute, resolve_root
from .report import render, report_document
from .verify import Verification, add_retained, note_still_present, record, verify
from .verify_config import ConfigVerification, verify_change


@dataclass
class Investigation:
    exit_code: int  # 0; 1 when verification said "not verified"; 130 when interrupted
    run_dir: Path
    report: dict | None  # None when interrupted
    html: Path | None
    verification: Verification | ConfigVerification | None = None


def investigate(cli: dict, paths: list[str], vitest_args: list[str], argv: list[str], *, apply: bool = False,
                verify_fix: bool = False, min_drop: float = 10.0, retainers: bool = True,
                dry_run: bool = False, early: Early | None = None) -> Investigation:
    """Steps 1–4; progress lines go to standard output through :func:`heaplens.console.say` (the command
    sends them to stderr when stdout carries a machine-readable report). ``early``: the suite's inspection
    started ahead (:mod:`heaplens.runner.inspection`)."""
    root = resolve_root(cli.get("root"), paths)
    if retainers:  # before minutes of running the suite
        require_compiled(RETAINERS_HINT)
    # investigate's own default (file-boundary snapshots), recorded as if typed (the reproduce command must carry it)
    cli, typed = O.with_defaults(cli, root, O.INVESTIGATE_DEFAULTS)
    if "snapshots" in typed:
        cut = argv.index("--") if "--" in argv else len(argv)
        argv = [*argv[:cut], "--snapshots", *argv[cut:]]
    say(f"[heaplens] investigate {root}: step 1/4 run with trace and snapshots")
    # a worker's earlier snapshots are read as they are written, and its pair as soon as its last snapshot is,
    # while the runner finishes (step 2 takes it)
    ahead = Ahead() if retainers else None
    rules = load_rules()

    def on_last(_lane: str, snapshots: list[str]) -> None:
        try:
            ahead.start(snapshots, rules, str(root))
        except Exception:  # noqa: BLE001 — only a head start: step 2 analyses the pair itself and says any error
            pass

    def on_written(_lane: str, snapshots: list[str]) -> None:
        try:
            ahead.written(snapshots, rules)
        except Exception:  # noqa: BLE001 — only a head start, as on_last
            pass

    result = execute(cli, paths, vitest_args, argv, on_last=on_last if ahead is not None else None,
                     on_written=on_written if ahead is not None else None, early=early)
    run_dir = result.dir
    if result.exit_code == 130:
        say(f"[heaplens] investigate: interrupted; the record so far is {result.record.path}")
        return Investigation(130, run_dir, None, None)
    say("[heaplens] investigate: step 2/4 diagnose every worker (snapshots, retainers)")
    doc = report_document(result.record, retainers=retainers, rebuild=True, ahead=ahead)
    jest_fix = jest_config_fix(result.record, doc)
    changes: list[Change] = []
    if apply or dry_run:
        say("[heaplens] investigate: step 3/4 " + ("the fix (--dry-run: shown, nothing written)" if dry_run
                                                    else "apply the fix"))
        changes = apply_fixes(doc, run_dir, dry_run=dry_run)
        if jest_fix is not None and not jest_fix.edit.refused and not dry_run:
            doc["fixes"]["jest_config"]["applied"] = jest_fix.edit.apply()
            say(f"[heaplens][fix] wrote {', '.join(f'{k}={v}' for k, v in jest_fix.settings.items())} into "
                f"{jest_fix.edit.path}")
            model.write(doc, run_dir / "report.json")
    v = None
    if verify_fix:
        say("[heaplens] investigate: step 4/4 verify")
        ch = changes[0] if changes else None
        if ch is not None and ch.kind == "vitest-config" and not ch.refused and ch.diff:
            v = _verify_config(doc, ch, root, paths, min_drop, result.record)
        else:
            try:
                # a runtime leak's fix is shown, not applied: its holder is rerun by `heaplens verify RUN` later
                v = verify(run_dir, min_drop=min_drop, holders=False, say=say)
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
    doc.setdefault("fixes", {})["jest_config"] = fx.to_json()
    return fx


def _verify_config(doc: dict, ch: Change, root: Path, paths: list[str], min_drop: float,
                   rec: RunRecord) -> ConfigVerification | None:
    """A Vitest config change: the suite's own `vitest run`, before vs after, interleaved (verify_config)."""
    run_dir = rec.dir
    try:
        v = verify_change(root, ch.target, ch.original, ch.text, paths=paths, min_drop=min_drop, say=say,
                          log_dir=run_dir)
    except UsageError as exc:
        say(f"[heaplens][verify] nothing verified: {exc}")
        return None
    v.run_dir = str(run_dir)
    if ch.written:  # the change is on disk: one traced run of the suite as it is now
        add_retained(v, rec, paths, say=say)
    note_still_present(v, doc)
    for line in v.lines:
        say(f"[heaplens][verify] {line}")
    say(f"[heaplens][verify] {v.verdict}")
    doc["verification"] = v.to_json()
    model.write(doc, run_dir / "report.json")
    return v


def apply_fixes(doc: dict, run_dir: Path, *, dry_run: bool = False) -> list[Change]:
    """Isolation is applied where the suite's runner reads it (:mod:`heaplens.fix.isolation`: the behavior
    manifest when the project has one, else its Vitest config) — the diff is shown first, then the file is
    written atomically (``dry_run``: shown, nothing written). A config too dynamic to edit is left alone: the
    reason and the change for a person are shown. Cleanup fixes are code changes: shown, never applied."""
    root = doc["run"].get("root")
    changes: list[Change] = []
    iso = [f for f in doc["findings"] if (f.get("fix") or {}).get("kind") == "isolate" and f["fix"].get("files")]
    files = list(dict.fromkeys(p for f in iso for p in f["fix"]["files"]))
    if iso and (doc["run"].get("versions") or {}).get("jest"):
        say("[heaplens][fix] a Jest suite: the isolation is not written into a Vitest config (Jest's own fix: "
            "fixes.jest_config)")
        iso = []
    if iso and root:
        fix0 = iso[0]["fix"]
        try:
            ch = plan_isolation(root, files, behavior_manifest=fix0.get("behavior_manifest"), reason=fix0.get("reason"))
        except UsageError as exc:
            ch = None
            say(f"[heaplens][fix] isolation not applied: {exc}")
        if ch is not None:
            changes.append(ch)
            _show(ch)
            try:
                written = ch.apply(dry_run=dry_run)
            except UsageError as exc:
                written = False
                say(f"[heaplens][fix] not written: {exc}")
            if ch.refused:
                say(f"[heaplens][fix] {ch.target} not edited: {ch.refused_reason}")
                for line in ch.patch.splitlines():
                    say(f"[heaplens][fix]   {line}")
            elif written:
                say(f"[heaplens][fix] wrote {ch.target} ({len(ch.files)} file(s) isolated)")
            elif dry_run and ch.diff:
                say(f"[heaplens][fix] --dry-run: {ch.target} not written")
            keep = {}
            if written and ch.kind == "vitest-config":
                # the text before, for `heaplens verify RUN` (it runs the suite with both)
                if ch.original is None:
                    keep = {"created": True}
                else:
                    copy = run_dir / "fix" / f"before-{ch.target.name}"
                    copy.parent.mkdir(exist_ok=True)
                    write_text_atomic(copy, ch.original)
                    keep = {"before_copy": str(copy)}
            for f in iso:
                f["fix"].update({"applied": written, "target": str(ch.target), "target_kind": ch.kind,
                                 "manifest_diff": ch.diff, **keep})
            for p in fix0.get("missing_timings") or [] if ch.kind == "behavior-manifest" else []:
                say(f"[heaplens][fix] no timing for {p}: a scheduling blind spot (heaplens timings update --from {run_dir})")
    for f in doc["findings"]:
        fix = f.get("fix") or {}
        if fix.get("kind") == "recycle":  # Jest: the worker recycle is the Jest config fix (fixes.jest_config)
            fix["applied"] = False
        elif fix.get("kind") not in (None, "none", "isolate"):
            fix["applied"] = False
            where = f" ({fix['where']})" if fix.get("where") else ""
            say(f"[heaplens][fix] not applied (a code change){where}: {fix.get('text')}")
    for o in (doc.get("fixes") or {}).get("other") or []:
        if o.get("kind") != "code":
            say(f"[heaplens][fix] also supported ({o['kind']}, not applied): {o['text']} — because {o['why']}")
    if not changes or not changes[0].diff:
        say("[heaplens][fix] no isolation change to apply")
    model.write(doc, run_dir / "report.json")
    return changes


def _show(ch: Change) -> None:
    """The change before it is made: the diff, line by line (progress goes to stderr under --format json)."""
    if not ch.diff:
        for n in ch.notes:
            say(f"[heaplens][fix] {n}")
        return
    say(f"[heaplens][fix] {'edit' if ch.original is not None else 'create'} {ch.target} ({ch.kind}):")
    for line in ch.diff.rstrip("\n").splitlines():
        say(line)
    for n in ch.notes:
        say(f"[heaplens][fix] note: {n}")
