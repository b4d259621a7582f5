"""Versioned JSON documents (``--format json``); the schema is in docs/json-schema.md."""

from __future__ import annotations

import json
from dataclasses import asdict

from ..compare.delta import DiffResult, TrendResult

SCHEMA_VERSION = 1


def diff_document(r: DiffResult) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "heaplens.diff",
        "by": r.by,
        "before": asdict(r.before),
        "after": asdict(r.after),
        "series": _series(r.series),
        "filter": {"top": r.top, "min_kb": r.min_kb},
        "totals": {
            "node_count_delta": r.after.node_count - r.before.node_count,
            "self_size_delta": r.size_delta_total,
            "rows_matching": r.matching,
        },
        "warnings": list(r.warnings),
        "rows": [
            {
                "type": row.type,
                "name": row.name,
                "size_before": row.size_before,
                "size_after": row.size_after,
                "size_delta": row.size_delta,
                "count_before": row.count_before,
                "count_after": row.count_after,
                "count_delta": row.count_delta,
            }
            for row in r.rows
        ],
    }


def trend_document(r: TrendResult) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "heaplens.trend",
        "by": r.by,
        "snapshots": [asdict(s) for s in r.snapshots],
        "series": _series(r.series),
        "filter": {"top": r.top, "min_kb": r.min_kb, "rule": "size grew in every interval"},
        "totals": {"rows_matching": r.matching},
        "warnings": list(r.warnings),
        "rows": [
            {
                "type": row.type,
                "name": row.name,
                "sizes": row.sizes,
                "counts": row.counts,
                "size_deltas": row.size_deltas,
                "count_deltas": row.count_deltas,
                "size_delta": row.size_delta,
                "count_delta": row.count_delta,
            }
            for row in r.rows
        ],
    }


def _series(s):
    if s is None:
        return None
    d = asdict(s)
    d["other_pids"] = {str(k): v for k, v in s.other_pids.items()}
    return d


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- id-based diff (heaplens diff --ids) ------------------------------------------------------------
def id_diff_document(r) -> dict:
    """``r`` is a :class:`heaplens.compare.ids.IdDiffResult`."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "heaplens.id_diff",
        "before": {"path": r.before, "node_count": r.node_count_before},
        "after": {"path": r.after, "node_count": r.node_count_after},
        "pid": r.pid,
        "filter": {"top": r.top, "min_kb": r.min_kb},
        "totals": {"new": r.new_total, "freed": r.freed_total, "in_both": r.carried,
                   "new_size": r.new_size_total, "freed_size": r.freed_size_total, "rows_matching": r.matching},
        "warnings": list(r.warnings),
        "rows": [
            {
                "class": x.name,
                "new_count": x.new_count,
                "new_size": x.new_size,
                "freed_count": x.freed_count,
                "freed_size": x.freed_size,
                "net_count": x.net_count,
                "net_size": x.net_size,
                "new_retained_size": x.new_retained,
                "retainers": x.retainers.to_json() if x.retainers is not None else None,
            }
            for x in r.rows
        ],
    }


# -- heaplens top / retainers -----------------------------------------------------------------------
def top_document(r) -> dict:
    """``r``: :class:`heaplens.workflow.inspect.TopResult`."""
    def cls(c) -> dict:
        d = {"class": c.name, "count": c.count, "shallow_size": c.shallow, "retained_size": c.retained,
             "distance": c.distance}
        if c.location is not None:
            d["location"] = {"script_id": c.location[0], "line": c.location[1], "column": c.location[2], "url": c.url}
        return d

    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "heaplens.top",
        "snapshot": {"path": r.snapshot, "node_count": r.node_count, "edge_count": r.edge_count,
                     "total_size": r.total, "unreachable": r.unreachable, "weak_only": r.weak_only},
        "classes": [cls(c) for c in r.classes],
        "objects": [{"label": o.label, "id": o.id, "class": o.class_name, "shallow_size": o.shallow,
                     "retained_size": o.retained, "distance": o.distance} for o in r.objects],
    }


def retainers_document(r) -> dict:
    """``r``: :class:`~heaplens.workflow.inspect.ObjectRetainers` or ``ClassRetainers``."""
    if hasattr(r, "paths"):
        info = {"label": r.label, "id": r.id, "class": r.class_name, "shallow_size": r.shallow,
                "retained_size": r.retained, "distance": r.distance, "dominator": r.dominator}
        return {"schema_version": SCHEMA_VERSION, "kind": "heaplens.retainers", "snapshot": r.snapshot,
                "object": info, "paths": [p.to_json() for p in r.paths]}
    return {"schema_version": SCHEMA_VERSION, "kind": "heaplens.retainers", "snapshot": r.snapshot, "class": r.name,
            "count": r.count, "retained_size": r.retained, "aggregation": r.aggregation.to_json()}


def pair_diagnosis_document(rd) -> dict:
    """``heaplens diagnose BEFORE AFTER --format json`` (``rd``: :class:`heaplens.diagnose.RunDiagnosis`):
    the shape of ``diagnose RUN`` — ``{"schema": "heaplens.diagnosis", "workers": [...]}``."""
    return rd.to_json()
