"""The report model as JSON (``--format json``): the model itself, versioned (docs/report.md)."""

from __future__ import annotations

import json


def render(doc: dict, *, color: bool | None = None) -> str:
    return json.dumps(doc, indent=2) + "\n"


def diagnosis_document(doc: dict) -> dict:
    """``heaplens diagnose RUN --format json``: the diagnosis part of the report model — the same findings as
    ``heaplens report RUN`` — in the shape of COORDINATION.md: ``{"schema": "heaplens.diagnosis", "workers":
    [{lane, pid, tid, snapshots, before, after, findings, trace, notes, …}]}``."""
    run = doc["run"]
    d = doc.get("diagnosis") or {}
    keep = ("lane", "pid", "tid", "snapshots", "before", "after", "verdict", "analysed", "findings", "growth",
            "coverage", "trace", "families", "notes", "seconds")
    return {"schema": "heaplens.diagnosis", "schema_version": d.get("schema_version"), "engine": d.get("engine"),
            "rules": doc.get("rules"), "rules_digest": d.get("rules_digest"), "options": d.get("options"),
            "run": run.get("dir"), "run_id": run.get("run_id"), "status": run.get("status"),
            "workers": [{k: w.get(k) for k in keep} for w in doc.get("workers") or []],
            "skipped": doc.get("skipped") or []}
