"""``heaplens hotspots update``: the memory-hotspot manifest from measured growth.

Follows OpenClaw's ``test-update-memory-hotspots.mjs``: keep each reported file whose growth is at least
``min_delta_kb``, merge with the existing manifest (the **max** delta per file — one quiet run must not
erase a file that once grew by a GiB — and the union of sources), sort by delta descending, cut to
``limit``. ``defaultMinDeltaKb`` becomes the threshold used, as there. Inputs: heaplens run records
(every file's ``delta``) and OpenClaw-style logs (``top=`` of the lane summaries).
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

DEFAULT_MIN_DELTA_KB = 262144
DEFAULT_LIMIT = 64
# A worker's RSS moves by a few hundred KiB between files for no reason of the file's own (page-granular
# allocator noise: +128 KiB for a one-line test on the fixture suite); growth below this is not called out.
NOISE_KB = 1024


@dataclass
class HotspotsResult:
    path: Path
    files: dict[str, dict] = field(default_factory=dict)  # as written: {path: {"deltaKb", "sources"}}
    added: list[str] = field(default_factory=list)  # files new to the manifest
    raised: list[str] = field(default_factory=list)  # files already there whose deltaKb rose
    dropped: list[str] = field(default_factory=list)  # cut by the limit
    blind_spots: list[tuple[str, int]] = field(default_factory=list)  # (file, deltaKb): grew, has no timing
    diff: str = ""
    written: bool = False


def missing_timings(root: Path, timings_path: str | Path | None, growth: dict[str, int],
                    timed: set[str] | None = None, min_kb: int = NOISE_KB) -> list[tuple[str, int]]:
    """Files that grew (by ``min_kb`` or more) but have no timing: the planner never picks them as
    timed-heavy (a scheduling blind spot), largest first."""
    if timed is None:
        timed = set(M.load_timings(root, str(timings_path) if timings_path else None).files)
    return sorted(((f, kb) for f, kb in growth.items() if f not in timed and kb >= min_kb), key=lambda x: -x[1])


def update(root: str | Path, runs: list[str | Path] = (), logs: list[str | Path] = (), out: str | Path | None = None,
           min_delta_kb: int = DEFAULT_MIN_DELTA_KB, limit: int = DEFAULT_LIMIT, lanes: list[str] | None = None,
           timings_path: str | Path | None = None, config: str | None = None,
           dry_run: bool = False) -> HotspotsResult:
    """Merge the growth in ``runs`` (run dirs, run.json files or run ids) and ``logs`` into the hotspot
    manifest ``out`` (default ``test/fixtures/test-memory-hotspots.unit.json``) and write it atomically
    (unless ``dry_run``). ``lanes``: lane-name globs to read (default all)."""
    root = Path(root)
    if not runs and not logs:
        raise UsageError("hotspots update needs at least one --from RUN or --log FILE")
    if min_delta_kb < 1 or limit < 1:
        raise UsageError("--min-delta-kb and --limit must be positive")
    path = manifest_path(root, out, M.DEFAULT_HOTSPOTS)
    before, old = read_manifest(path, "memory-hotspot")

    growth: list[S.Growth] = []
    top: dict[str, int] = {}
    for r in runs:
        rec = RunRecord.load(r, root)
        growth += S.run_growth(rec, lanes)
        for g in S.run_top(rec, lanes):
            top[g.file] = max(top.get(g.file, 0), g.delta_kb)
    for log in logs:
        found = S.log_growth(S.read_log(log), S.log_label(log), lanes)
        growth += found
        for g in found:
            top[g.file] = max(top.get(g.file, 0), g.delta_kb)

    merged: dict[str, dict] = {}
    for f, v in (old.get("files") or {}).items():
        if isinstance(v, dict) and isinstance(v.get("deltaKb"), (int, float)) and v["deltaKb"] > 0:
            given = v.get("sources")
            srcs = [s for s in given if isinstance(s, str) and s] if isinstance(given, list) else []
            merged[M.norm(f)] = {"deltaKb": S.js_round(v["deltaKb"]), "sources": list(dict.fromkeys(srcs))}
    previous = {f: v["deltaKb"] for f, v in merged.items()}
    for g in growth:
        if g.delta_kb < min_delta_kb:
            continue
        e = merged.setdefault(g.file, {"deltaKb": g.delta_kb, "sources": []})
        e["deltaKb"] = max(e["deltaKb"], g.delta_kb)
        if g.source not in e["sources"]:
            e["sources"].append(g.source)

    ranked = sorted(merged.items(), key=lambda kv: -kv[1]["deltaKb"])  # stable: ties keep their order
    files = {f: {"deltaKb": v["deltaKb"], "sources": sorted(v["sources"])} for f, v in ranked[:limit]}
    result = HotspotsResult(path=path, files=files, dropped=[f for f, _ in ranked[limit:]])
    result.added = [f for f in files if f not in previous]
    result.raised = [f for f in files if f in previous and files[f]["deltaKb"] > previous[f]]

    doc = {}
    if config or old.get("config"):
        doc["config"] = config or old["config"]
    doc["generatedAt"] = now_iso()
    doc["defaultMinDeltaKb"] = min_delta_kb
    doc["lane"] = ", ".join(lanes) if lanes else old.get("lane") or "*"
    doc.update({k: v for k, v in old.items() if k not in doc and k != "files"})
    doc["files"] = files
    after = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    result.diff = unified_diff(before, after, label(root, path))
    result.blind_spots = missing_timings(root, timings_path, top)
    if not dry_run:
        write_text_atomic(path, after)
        result.written = True
    return result

