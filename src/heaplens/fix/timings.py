"""``heaplens timings update``: the timings manifest from measured durations.

The planner packs lanes by ``durationMs`` and picks timed-heavy files from it; a file missing here runs at
the default (250 ms) and is never peeled out of ``unit-fast`` — the blind spot the skill warns about.
Inputs: heaplens run records (each file's ``duration_ms``) and Vitest's JSON reporter output
(``testResults[]``: ``endTime - startTime``, ``testCount`` = ``assertionResults``), as OpenClaw's
``test-update-timings.mjs`` reads it. New measurements replace the stored ones (a later input wins over
an earlier one); files not measured keep their entries; ``durationMs <= 0`` is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..runner import manifests as M
from ..runner.record import RunRecord
from . import sources as S
from .atomic import unified_diff, write_text_atomic
from .common import label, manifest_path, now_iso, read_manifest
from .hotspots import missing_timings

DEFAULT_DURATION_MS = 250


@dataclass
class TimingsResult:
    path: Path
    files: dict[str, dict] = field(default_factory=dict)  # as written: {path: {"durationMs", "testCount"?}}
    measured: list[str] = field(default_factory=list)  # files with a new measurement
    added: list[str] = field(default_factory=list)  # of those, new to the manifest
    blind_spots: list[tuple[str, int]] = field(default_factory=list)  # (file, deltaKb): grew, still no timing
    warnings: list[str] = field(default_factory=list)
    diff: str = ""
    written: bool = False


def run_durations(rec) -> dict[str, tuple[float, int | None]]:
    """``{file: (durationMs, testCount or None)}`` from a run record; the test counts come from the lanes'
    Vitest output when it is still beside the record."""
    out = {}
    counts = {name: S.lane_test_counts(lane) for name, lane in rec.lanes.items()}
    for lane, f in S.run_files(rec):
        if f.duration_ms is not None and f.duration_ms > 0:
            file = M.norm(f.file)
            out[file] = (float(f.duration_ms), counts[lane].get(file))
    return out


def report_durations(given: str | Path, root: Path) -> dict[str, tuple[float, int | None]]:
    """``{file: (durationMs, testCount)}`` from ``vitest run --reporter=json`` output."""
    p = Path(given)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the Vitest report {given}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"the Vitest report {given} is not valid JSON: {exc}") from None
    results = data.get("testResults") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise UsageError(f"{given} is not a Vitest JSON report (no testResults list)")
    out = {}
    for t in results:
        if not (isinstance(t, dict) and isinstance(t.get("name"), str)):
            continue
        start, end = t.get("startTime"), t.get("endTime")
        if not (isinstance(start, (int, float)) and isinstance(end, (int, float))) or end - start <= 0:
            continue
        count = len(t["assertionResults"]) if isinstance(t.get("assertionResults"), list) else None
        out[_relative(t["name"], root)] = (float(end - start), count)
    return out


def _relative(name: str, root: Path) -> str:
    p = Path(name)
    if p.is_absolute():
        for base in (root, root.resolve()):
            try:
                return p.relative_to(base).as_posix()
            except ValueError:
                pass
    return M.norm(name)


def update(root: str | Path, runs: list[str | Path] = (), reports: list[str | Path] = (),
           out: str | Path | None = None, hotspots_path: str | Path | None = None, config: str | None = None,
           dry_run: bool = False) -> TimingsResult:
    """Merge the durations in ``runs`` (run dirs, run.json files or run ids) and Vitest JSON ``reports``
    into the timings manifest ``out`` (default ``test/fixtures/test-timings.unit.json``), written
    atomically unless ``dry_run``. ``blind_spots``: files of the runs' top growth lists and of the hotspot
    manifest that still have no timing."""
    root = Path(root)
    if not runs and not reports:
        raise UsageError("timings update needs --from RUN or --report VITEST_JSON")
    path = manifest_path(root, out, M.DEFAULT_TIMINGS)
    before, old = read_manifest(path, "timings")
    result = TimingsResult(path=path)

    measured: dict[str, tuple[float, int | None]] = {}
    grew: dict[str, int] = {}
    for r in runs:
        rec = RunRecord.load(r, root)
        if rec.options.get("snapshot_interval"):
            result.warnings.append(f"run {rec.run_id} took heap snapshots: its durations include the pauses")
        measured.update(run_durations(rec))
        for g in S.run_top(rec):
            grew[g.file] = max(grew.get(g.file, 0), g.delta_kb)
    for rep in reports:
        measured.update(report_durations(rep, root))
    hot = M.load_hotspots(root, str(hotspots_path) if hotspots_path else None)
    for f, kb in hot.files.items():
        grew[f] = max(grew.get(f, 0), kb)

    files: dict[str, dict] = {}
    for f, v in (old.get("files") or {}).items():
        if isinstance(v, dict) and isinstance(v.get("durationMs"), (int, float)) and v["durationMs"] > 0:
            files[M.norm(f)] = {k: v[k] for k in ("durationMs", "testCount") if k in v}
    for f, (ms, count) in measured.items():
        entry = {"durationMs": S.js_round(ms * 100) / 100}
        if count is not None:
            entry["testCount"] = count
        elif isinstance((files.get(f) or {}).get("testCount"), int):
            entry["testCount"] = files[f]["testCount"]
        if f not in files:
            result.added.append(f)
        files[f] = entry
    result.measured = list(measured)
    result.files = dict(sorted(files.items(), key=lambda kv: -kv[1]["durationMs"]))

    doc = {}
    if config or old.get("config"):
        doc["config"] = config or old["config"]
    doc["generatedAt"] = now_iso()
    default = old.get("defaultDurationMs")
    doc["defaultDurationMs"] = default if isinstance(default, (int, float)) and default > 0 else DEFAULT_DURATION_MS
    doc.update({k: v for k, v in old.items() if k not in doc and k != "files"})
    doc["files"] = result.files
    after = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    result.diff = unified_diff(before, after, label(root, path))
    result.blind_spots = missing_timings(root, None, grew, timed=set(result.files))
    if not dry_run:
        write_text_atomic(path, after)
        result.written = True
    return result
