"""The report model as JSON (``--format json``): the model itself, versioned (docs/report.md)."""

from __future__ import annotations

import json


def render(doc: dict, *, color: bool | None = None) -> str:
    return json.dumps(doc, indent=2) + "\n"


def diagnosis_document(doc: dict) -> dict:
    """``heaplens diagnose RUN --format json``: the diagnosis part of the report model (the same findings as
    ``heaplens report RUN``)."""
    run = doc["run"]
    return {"schema_version": 1, "kind": "heaplens.run-diagnosis", "run": run.get("dir"), "run_id": run.get("run_id"),
            "rules": doc.get("rules"), "results": doc["findings"], "skipped": doc.get("skipped") or []}
