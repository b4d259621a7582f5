"""The report of a run: built from its record and its diagnosis, cached in ``<run>/report.json`` with
what produced it, rendered in one format.

One answer per run: ``heaplens diagnose RUN``, ``heaplens report RUN`` and ``heaplens investigate`` all read
:func:`report_document`. The cached model is reused only when it was produced by the same engine (a digest
of the diagnosis code and rules this heaplens ships), the same options (retainers, lanes) and the same extra
rules, and the run record has not changed since; otherwise it is rebuilt (and saved).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from .. import __version__, printable
from ..diagnose import load_rules
from ..diagnose.run import Ahead, diagnose_run
from ..errors import UsageError
from ..fix.isolation import plan as plan_isolation
from ..fix.jest_config import config_fix
from ..fix.proposals import proposals
from ..kernels import RETAINERS_HINT, require_compiled
from ..progress import enabled, status
from ..report import RENDERERS, model
from ..runner.record import RunRecord

REPORT_FILE = "report.json"


@cache
def engine_digest() -> str:
    """A digest of what decides a report's content: the diagnosis package (code and rules), the holder
    attribution it stands on (graph/holders.py) and the report model, as installed."""
    h = hashlib.sha256(__version__.encode())
    for package, pattern in (("heaplens.diagnose", "*"), ("heaplens.graph", "holders.py"),
                             ("heaplens.report", "model.py")):
        folder = resources.files(package)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.is_file() and Path(entry.name).match(pattern) and entry.name.endswith((".py", ".json")):
                h.update(entry.name.encode())
                h.update(entry.read_bytes())
    return h.hexdigest()[:16]


def _rules_digest(paths: list[str]) -> str | None:
    if not paths:
        return None
    h = hashlib.sha256()
    for p in paths:
        try:
            h.update(Path(p).read_bytes())
        except OSError as exc:
            raise UsageError(f"cannot read the rules file {p}: {exc.strerror}") from None
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class ReportOptions:
    rules: tuple[str, ...] = ()
    lanes: tuple[str, ...] = ()
    retainers: bool = True

    def produced_by(self) -> dict:
        return {"engine": engine_digest(), "heaplens": __version__, "retainers": self.retainers,
                "lanes": sorted(self.lanes), "rules": _rules_digest(list(self.rules))}


def report_document(run: RunRecord | str | os.PathLike, *, rules: list[str] | None = None,
                    lanes: list[str] | None = None, retainers: bool = True, rebuild: bool = False,
                    progress: bool | None = None, ahead: Ahead | None = None) -> dict:
    """The report model of a run: ``<run>/report.json`` when it was produced the same way and is newer than
    the run record, otherwise built now (and saved there, atomically; ``ahead``: pair analyses already
    started, :class:`heaplens.diagnose.run.Ahead`)."""
    rec = run if isinstance(run, RunRecord) else RunRecord.load(run)
    opts = ReportOptions(tuple(rules or ()), tuple(lanes or ()), retainers)
    key = opts.produced_by()
    cached = rec.dir / REPORT_FILE
    if not rebuild and cached.is_file() and cached.stat().st_mtime >= rec.path.stat().st_mtime:
        try:
            doc = model.load(cached)
        except UsageError:
            doc = None  # a damaged cache is rebuilt, not trusted
        if doc is not None and doc.get("produced_by") == key:
            return doc
    if retainers:
        require_compiled(RETAINERS_HINT)
    with status(enabled(progress)) as say:
        rd = diagnose_run(rec, rules=load_rules(list(opts.rules)), retainers=retainers, lanes=list(opts.lanes) or None,
                          progress=say, ahead=ahead)
    doc = model.build(rd)
    doc["produced_by"] = key
    add_fix_edits(doc, rec)
    model.write(doc, cached)
    return doc


def add_fix_edits(doc: dict, rec: RunRecord) -> None:
    """The concrete edit of each isolation fix, planned by the fix layer without writing anything: a diff of
    the file the suite's runner reads (the behavior manifest when the project has one, else its Vitest
    config; :mod:`heaplens.fix.isolation`), or why the config cannot be edited and the change for a person;
    and a Jest run's config fix (``fixes.jest_config``)."""
    if isinstance(doc.get("fixes"), dict):
        other = proposals(doc)
        if rec.versions.jest:  # the others are Vitest config settings; a Jest run's is fixes.jest_config
            other = [o for o in other if o.get("kind") == "code"]
        doc["fixes"]["other"] = other
    for f in doc["findings"]:
        fix = f.get("fix") or {}
        if fix.get("kind") != "isolate" or not fix.get("files") or not rec.root or rec.versions.jest:
            continue  # (a Jest run: its config fix is fixes.jest_config)
        try:
            ch = plan_isolation(rec.root, fix["files"], behavior_manifest=fix.get("behavior_manifest"),
                                reason=fix.get("reason"))
        except UsageError as exc:  # the proposal stays useful without the diff
            fix["manifest_diff_error"] = str(exc)
            continue
        fix["target"], fix["target_kind"] = str(ch.target), ch.kind
        fix["manifest_diff"] = ch.diff
        if ch.refused:
            fix["manifest_diff_error"] = f"{ch.target.name} not edited: {ch.refused_reason}"
            fix["patch"] = ch.patch
        if ch.notes:
            fix["edit_notes"] = ch.notes
    if doc["findings"] and rec.versions.jest and rec.root:
        # Jest's own fix (workerIdleMemoryLimit from the measured per-file growth), so every report shows it
        try:
            fx = config_fix(rec, config=(rec.options or {}).get("config"))
        except (UsageError, OSError):
            fx = None  # investigate says why when it plans it
        if fx is not None:
            doc.setdefault("fixes", {})["jest_config"] = fx.to_json()


def render(doc: dict, fmt: str, *, color: bool | None = None) -> str:
    """The report model in one format (``text``, ``markdown``, ``json``, ``html``)."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise UsageError(f"no report format {fmt!r} (formats: {', '.join(RENDERERS)})") from None
    if fmt != "json":  # names and paths from snapshots and the record, made printable (JSON escapes them)
        doc = printable.deep(doc)
    return renderer(doc, color=color)


def append_step_summary(markdown: str) -> str | None:
    """Append the Markdown report to ``$GITHUB_STEP_SUMMARY`` when set; the file written, or None."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown)
    except OSError as exc:
        raise UsageError(f"cannot append to $GITHUB_STEP_SUMMARY ({target}): {exc.strerror}") from None
    return target
