"""``heaplens verify RUN``: rerun what a fix touched and compare before with after.

- A Vitest config change written by ``investigate --apply``: the suite's own command, before and after
  (:mod:`heaplens.workflow.verify_config`).
- Files the current manifests plan into a different lane than the run did (an isolation patch): those lanes are
  rerun with the run's options — with snapshots if their lanes finished with snapshots before, otherwise without
  (snapshot overhead must not decide the comparison) — and compared: the highest worker RSS peak over the touched
  lanes, per-lane peaks, the JS-heap slope per file, and the growth of the families that dominated the finding.
- A runtime leak's fix in the code: the files that fed each holder are rerun and the holder's growth compared by
  the same engine's id diff (:mod:`heaplens.workflow.verify_holder`) — with either change above too, unless
  ``holders=False``. With no file moved and no such finding, the lanes that had a finding are rerun as above.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnose.findings import retained_by_file
from ..errors import UsageError
from ..report import model
from ..runner.merge import unmerged
from ..runner.record import LaneRecord, RunRecord
from ..runner.session import execute, prepare
from ..units import cut, fmt_size
from .report import report_document
from .verify_config import ConfigVerification, verify_change
from .verify_holder import HolderVerification, holder_findings, run_options, verify_holders

MIN_DROP = 10.0  # percent: a peak that falls by less is "not verified"


@dataclass
class LaneFigures:
    peak: int  # highest worker RSS (bytes)
    slope: float  # JS heap kept per file by the worst worker that ran two files or more (bytes/file)
    files: int
    faults: int


@dataclass
class Verification:
    before_run: str
    after_run: str | None
    touched_files: list[str]
    moved: bool  # files changed lanes (an isolation patch) vs. a rerun of the same lanes
    snapshots: bool
    lanes_before: dict[str, LaneFigures] = field(default_factory=dict)
    lanes_after: dict[str, LaneFigures] = field(default_factory=dict)
    families: list[dict] = field(default_factory=list)
    verdict: str = "not verified"
    lines: list[str] = field(default_factory=list)
    exit_code: int | None = None
    after_report: dict | None = field(default=None, repr=False)  # the rerun's report model, built once
    holders: HolderVerification | None = None  # runtime-leak fixes: each holder rerun (verify_holder)

    def to_json(self) -> dict:
        def lanes(d):
            return {k: v.__dict__ for k, v in d.items()}

        pb, pa = self.peak(self.lanes_before), self.peak(self.lanes_after)
        return {"before_run": self.before_run, "after_run": self.after_run, "touched_files": self.touched_files,
                "moved": self.moved, "snapshots": self.snapshots, "peak_before": pb, "peak_after": pa,
                "change_pct": _pct(pb, pa), "lanes_before": lanes(self.lanes_before),
                "lanes_after": lanes(self.lanes_after), "families": self.families, "verdict": self.verdict,
                "lines": self.lines, "exit_code": self.exit_code,
                "holders": self.holders.to_json() if self.holders else None}

    @staticmethod
    def peak(lanes: dict[str, LaneFigures]) -> int:
        return max((f.peak for f in lanes.values()), default=0)


def _pct(a: float, b: float) -> float | None:
    return None if not a else round(100.0 * (b - a) / a, 1)


def lane_figures(lane: LaneRecord) -> LaneFigures:
    # the heap a long-lived worker keeps per file it runs: only workers that ran two files or more
    slope = 0.0
    for files in lane.files_by_pid().values():
        if len(files) >= 2 and files[0].heap_used_start is not None and files[-1].heap_used_end is not None:
            slope = max(slope, (files[-1].heap_used_end - files[0].heap_used_start) / len(files))
    return LaneFigures(peak=lane.peak_rss(), slope=slope, files=len(lane.files), faults=len(lane.faults))


def touched(rec: RunRecord, current_lane_of: dict[str, str], finding_lanes: list[str]) -> tuple[list[str], list[str], bool]:
    """(files to rerun, lanes of the run they were in, whether files moved between lanes)."""
    old_lane_of = rec.plan.lane_of()
    moved = sorted(f for f, lane in old_lane_of.items() if f in current_lane_of and current_lane_of[f] != unmerged(lane))
    if moved:
        lanes = sorted({old_lane_of[f] for f in moved})
    else:
        lanes = sorted(set(finding_lanes))
    files = [f for f, lane in old_lane_of.items() if lane in lanes]
    return files, lanes, bool(moved)


def _current_plan(rec: RunRecord) -> dict[str, str]:
    cli = run_options(rec)
    cli["lane"] = None
    _suite, plan, *_ = prepare(cli, [])
    return {f: l.name for l in plan.lanes for f in l.files}


def verify(run_dir: str | os.PathLike, *, min_drop: float = MIN_DROP, snapshots: bool | None = None,
           holders: bool | None = None, say=print) -> Verification | ConfigVerification:
    """``holders``: rerun the files that fed each runtime leak's holder (None: when the run has such findings;
    False: never — ``investigate --verify``, whose code fixes are shown, not applied)."""
    rec = RunRecord.load(run_dir)
    path = rec.dir
    if not rec.finished:
        raise UsageError(f"{path}: the run has not finished")
    report = _report(rec)
    held = holder_findings(report)
    if holders and not held:
        raise UsageError(f"{path}: --holders: the run has no runtime-leak finding (no holder to rerun)")
    check_holders = holders is not False and bool(held)
    applied = _applied_config(report)
    if applied is not None:
        config, before = applied
        try:
            after = config.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {config}: {exc}") from None
        cv = verify_change(rec.root, config, before, after, min_drop=min_drop, say=say, log_dir=path)
        cv.run_dir = str(path)
        if check_holders:
            cv.holders = verify_holders(rec, report, say=say)
        note_still_present(cv, report, checked=cv.holders)
        _add_holders(cv, cv.holders)
        return cv
    finding_lanes = [w["lane"] for w in report["workers"] if w["significant"]] if report else []
    try:
        current = _current_plan(rec)
    except UsageError:
        if not check_holders:
            raise
        current = {}  # the suite cannot be planned now (its test files are gone?): the holders say what is known
    files, lanes, moved = touched(rec, current, finding_lanes)
    if not moved and check_holders:
        # a fix in the code (no file changed lanes): the holders are the proof, not a peak
        hv = verify_holders(rec, report, say=say)
        v = Verification(before_run=str(path), after_run=hv.after_run, moved=False, snapshots=True,
                         touched_files=list(dict.fromkeys(x for c in hv.checks for x in c.files)))
        v.exit_code, v.after_report = hv.exit_code, hv.after_report
        v.verdict = "verified"
        _add_holders(v, hv)
        v.lines += [f"still present after the fix: {s}" for s in still_present(report, checked=hv)]
        return v
    if not files:
        raise UsageError(f"{path}: nothing to verify — no file changed lanes and no lane had a finding")
    lane_recs = rec.lanes
    before_snaps = any(lane_recs[l].snapshots.files for l in lanes if l in lane_recs)
    finished = all(l in lane_recs and lane_recs[l].status == "passed" for l in lanes)
    use_snaps = (before_snaps and finished) if snapshots is None else snapshots
    v = Verification(before_run=str(path), after_run=None, touched_files=files, moved=moved, snapshots=use_snaps)
    v.lanes_before = {l: lane_figures(lane_recs[l]) for l in lanes if l in lane_recs}
    say(f"[heaplens] verify: {len(files)} file(s) of lane(s) {', '.join(lanes)} "
        + ("moved to other lanes by the manifests" if moved else "rerun after the fix")
        + (("; snapshots " + (f"every {interval:g}s" if (interval := rec.options.get("snapshot_interval") or 0) > 0
                                else "at test-file boundaries, as the run had them")) if use_snaps else "; snapshots off"))
    cli = run_options(rec)
    cli["snapshot_interval"] = rec.options.get("snapshot_interval") if use_snaps else 0.0
    cli["snapshots"] = use_snaps  # boundary snapshots too: --no-snapshots means none
    argv = ["heaplens", "run", *files]
    result = execute(cli, files, list(rec.vitest_args), argv)
    v.exit_code = result.exit_code
    v.after_run = str(result.dir)
    v.lanes_after = {n: lane_figures(l) for n, l in result.record.lanes.items()}
    # a merged run's shard lanes: the rerun's lane of the same plan name stands for the one it reran
    for n in list(v.lanes_after):
        match = [b for b in v.lanes_before if b != n and unmerged(b) == n]
        if n not in v.lanes_before and len(match) == 1:
            v.lanes_after[match[0]] = v.lanes_after.pop(n)
    _compare(v, report, result.record if use_snaps else None, min_drop, comparable=use_snaps == before_snaps)
    if check_holders:
        _add_holders(v, verify_holders(rec, report, say=say))
    return v


def _add_holders(v: Verification | ConfigVerification, hv: HolderVerification | None) -> None:
    """The holders' lines, and the verdict: verified only when the change is verified and every holder no
    longer grows."""
    if hv is None:
        return
    v.holders = hv
    v.lines += hv.lines
    if v.verdict == "verified" and hv.verdict != "verified":
        v.verdict = hv.verdict


def _applied_config(report: dict | None) -> tuple[Path, str | None] | None:
    """(the Vitest config, its text before) when ``investigate --apply`` changed the suite's Vitest config
    for this run (the text before is kept in the run directory)."""
    for f in (report or {}).get("findings") or []:
        fix = f.get("fix") or {}
        if fix.get("kind") == "isolate" and fix.get("applied") and fix.get("target_kind") == "vitest-config":
            if fix.get("created"):
                return Path(fix["target"]), None
            copy = Path(fix.get("before_copy") or "")
            if copy.is_file():
                return Path(fix["target"]), copy.read_bytes().decode("utf-8")
    return None


def _report(rec: RunRecord) -> dict | None:
    try:
        return report_document(rec)
    except UsageError:  # a report that cannot be built must not stop the verification
        return None


def _compare(v: Verification, report: dict | None, after: RunRecord | None, min_drop: float, *,
             comparable: bool = True) -> None:
    """``comparable``: both runs wrote snapshots or neither did (a snapshot write inflates a worker's RSS, so a
    peak from a run with snapshots and one from a run without them differ by the measuring, not the fix)."""
    pb, pa = v.peak(v.lanes_before), v.peak(v.lanes_after)
    for name, b in v.lanes_before.items():
        a = v.lanes_after.get(name)
        if a is None:
            v.lines.append(f"{name} peak RSS {fmt_size(b.peak)} → lane gone (its files moved)")
            continue
        ch = _pct(b.peak, a.peak)
        v.lines.append(f"{name} peak RSS {fmt_size(b.peak)} → {fmt_size(a.peak)}"
                       + (f" ({ch:+.0f} %)".replace("-", "−") if ch is not None else ""))
    for name, a in v.lanes_after.items():
        if name not in v.lanes_before:
            v.lines.append(f"{name} (new lane) peak RSS {fmt_size(a.peak)}, {a.files} file(s)")
    ch = _pct(pb, pa)
    v.lines.append(f"highest worker peak over the touched lanes: {fmt_size(pb)} → {fmt_size(pa)}"
                   + (f" ({ch:+.0f} %)".replace("-", "−") if ch is not None else ""))
    sb = max((b.slope for b in v.lanes_before.values()), default=0.0)
    sa = max((a.slope for a in v.lanes_after.values()), default=0.0)
    v.lines.append(f"JS heap kept per file by a shared worker (worst): {fmt_size(sb, signed=True)}/file → "
                   f"{fmt_size(sa, signed=True)}/file")
    faults_b = sum(b.faults for b in v.lanes_before.values())
    faults_a = sum(a.faults for a in v.lanes_after.values())
    if faults_b or faults_a:
        v.lines.append(f"worker faults (OOM/crash): {faults_b} → {faults_a}")
    if report and after is not None:
        _families(v, report, after)
    dropped = ch is not None and -ch >= min_drop
    if faults_a > faults_b:
        v.verdict = "not verified"
        v.lines.append("not verified: workers failed in the rerun")
    elif not comparable and not (faults_b and not faults_a):
        v.verdict = "not verified"
        v.lines.append("not verified: the peaks are not comparable — the run " + ("wrote" if v.snapshots is False else
                       "did not write") + " heap snapshots (they inflate a worker's RSS) and the rerun "
                       + ("did not" if v.snapshots is False else "did"))
    elif (dropped and faults_a <= faults_b) or (faults_b and not faults_a):
        v.verdict = "verified"
    else:
        v.verdict = "not verified"
        v.lines.append(f"not verified: the peak did not fall by {min_drop:g} % or more")
    if v.exit_code and v.verdict == "verified":
        v.lines.append(f"note: the rerun exited {v.exit_code} (failing tests?)")


def _families(v: Verification, report: dict, after_rec: RunRecord) -> None:
    """The finding's top families: their growth before vs. in the rerun's lane of the same name."""
    try:
        after = v.after_report = report_document(after_rec)
    except UsageError as exc:
        v.lines.append(f"families not compared: {exc}")
        return
    for f in report["workers"]:
        if not f["significant"] or f["lane"] not in v.lanes_before:
            continue
        later = [g for g in after["workers"] if unmerged(g["lane"]) == unmerged(f["lane"]) and g.get("families") is not None]
        got = {}
        for g in later:
            for r in g.get("families") or []:
                key = (r["type"], r["name"])
                got[key] = max(got.get(key, 0), r["size_delta"])
        for r in (f.get("families") or [])[:5]:
            key = (r["type"], r["name"])
            v.families.append({"lane": f["lane"], "type": r["type"], "name": r["name"],
                               "before": r["size_delta"], "after": got.get(key, 0)})
    if v.families:
        for fam in v.families[:5]:
            v.lines.append(f"{fam['lane']} family {fam['type']} {cut(fam['name'] or '', 50)}: "
                           f"{fmt_size(fam['before'], signed=True)} → {fmt_size(fam['after'], signed=True)}")


def kept_per_file(rec: RunRecord) -> dict[str, float]:
    """Per lane: the GC-settled JS heap a long-lived worker keeps per file it runs (its files' retained growth
    summed, over their number; the worst worker that ran two files or more)."""
    out: dict[str, float] = {}
    for name, lane in rec.lanes.items():
        for files in lane.files_by_pid().values():
            if len(files) < 2:
                continue
            growth = retained_by_file([f.to_json() for f in files])
            if growth:
                out[name] = max(out.get(name, float("-inf")), sum(growth.values()) / len(files))
    return out


def traced_after(rec: RunRecord, paths: list[str], say=print) -> RunRecord | None:
    """The suite as it is now (after the change), once more with heaplens's per-file trace and no snapshots:
    the retained heap per file (verify's plain runs cannot see inside the workers)."""
    cli = run_options(rec)
    cli["snapshots"] = False
    cli["snapshot_interval"] = 0.0
    say("[heaplens] verify: one traced run after the change (no snapshots) for the retained heap per file")
    result = execute(cli, paths, list(rec.vitest_args), ["heaplens", "run", "--no-snapshots", *paths])
    return result.record if result.exit_code != 130 else None


def add_retained(v, rec: RunRecord, paths: list[str], say=print) -> None:
    """A config verification's retained heap per file: the investigated run's (before) against one traced run
    of the suite as it is now (after)."""
    before = kept_per_file(rec)
    after_rec = traced_after(rec, paths, say=say)
    after = kept_per_file(after_rec) if after_rec is not None else {}
    if not before and not after:
        return
    b, a = max(before.values(), default=0.0), max(after.values(), default=0.0)
    v.retained = {"before": before, "after": after, "after_run": str(after_rec.dir) if after_rec else None}
    v.lines.append(f"JS heap kept per file by a long-lived worker (GC-settled, worst lane): "
                   f"{fmt_size(b, signed=True)}/file → {fmt_size(a, signed=True)}/file")


def still_present(doc: dict, checked: HolderVerification | None = None) -> list[str]:
    """The findings a fix that was applied does not touch: every one whose fix was not applied (a code change,
    shown, never applied; or an isolation not written), named with its holder and its growth — except the
    holders rerun after the fix (``checked``: their own lines say what they do now)."""
    out = []
    done = {id(f) for c in checked.checks for f in (c.finding, *c.folded)} if checked else set()
    held = {id(f) for f in holder_findings(doc)}
    for f in doc.get("findings") or []:
        fix = f.get("fix") or {}
        if fix.get("kind") in (None, "none") or fix.get("applied") or id(f) in done:
            continue
        per = f" ({fmt_size(f['per_file'], signed=True)}/file)" if f.get("per_file") else ""
        how = ("its fix is a code change, not applied: " + cut(fix.get("text") or fix["kind"], 160)
               + (f" (once it is made, `heaplens verify {(doc.get('run') or {}).get('run_id') or 'RUN'}` reruns the "
                  "files that fed the holder and says whether it still grows)"
                  if id(f) in held else "")
               if fix.get("kind") != "isolate" else "its isolation was not applied")
        out.append(f"{f.get('title')} in {f.get('lane')}: {fmt_size(f.get('retained_growth') or 0, signed=True)}"
                   f"{per} — {how}")
    return out


def note_still_present(v: ConfigVerification, doc: dict, checked: HolderVerification | None = None) -> None:
    """A config verification names the findings the change leaves (:func:`still_present`; not the holders
    ``checked`` after the fix), in its lines too."""
    v.still_present = still_present(doc, checked=checked)
    v.lines += [f"still present after the fix: {s}" for s in v.still_present]


def record(v: Verification | ConfigVerification) -> None:
    """Both runs' reports carry the verification (report.json beside each run.json)."""
    if isinstance(v, ConfigVerification):
        if v.run_dir:
            try:
                doc = report_document(v.run_dir)
            except UsageError:
                return
            doc["verification"] = v.to_json()
            model.write(doc, Path(v.run_dir) / "report.json")
        return
    for d in (v.before_run, v.after_run):
        if not d:
            continue
        try:
            doc = v.after_report if d == v.after_run and v.after_report is not None else report_document(d)
        except UsageError:
            continue
        doc["verification"] = v.to_json()
        model.write(doc, Path(d) / "report.json")
