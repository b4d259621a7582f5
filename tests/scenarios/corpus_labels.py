"""The labelled scenario corpus (examples/scenarios): its labels (labels.json, documented in
examples/scenarios/README.md), where each scenario and its Vitest install live, and the mode the corpus
tests run in.

Modes (``HEAPLENS_CORPUS``; default ``DEFAULT_MODE``):

- ``plants``: only the checks that every planted cause is really there (plain Vitest + the plant probe,
  counted in the snapshots by a slow reference reader) — independent of heaplens's verdict.
- ``report``: also run ``heaplens investigate`` on every scenario and compare its findings with the labels;
  a mismatch is an xfail (the table in docs/scenarios.md is filled from these results).
- ``strict``: the same comparison, and a mismatch fails. The default since the issue-11 engine gets every
  scenario right.

``HEAPLENS_CORPUS_HOG`` (``subset`` by default, ``all`` or ``off``): in report/strict mode, which scenarios
are also run with a CPU hog beside them (the ``hog`` ones of labels.json, or all of them).
``HEAPLENS_CORPUS_DOCS=1`` rewrites docs/scenarios.md with the results of the run."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_MODE = "strict"

REPO = Path(__file__).parents[2]
CORPUS = REPO / "examples" / "scenarios"
LABELS_PATH = CORPUS / "labels.json"
DOCS_TABLE = REPO / "docs" / "scenarios.md"

SCHEMA = "heaplens.corpus-labels/1"
FINDING_KINDS = ("module-graph", "runtime-leak", "external-memory")
HOLDER_KINDS = ("variable", "property", "static", "global", "listener", "timer", "server", "db", "mock",
                "module-registry")
FIX_KINDS = ("isolate", "array-clear", "map-clear", "remove-listener", "clear-timer", "close", "restore-mocks",
             "delete-global", "reset-static", "none")
SEVERITIES = ("mild", "moderate", "severe")
PROBE_MODES = ("first-last", "every", "per-file")


def mode() -> str:
    m = os.environ.get("HEAPLENS_CORPUS", DEFAULT_MODE)
    if m not in ("plants", "report", "strict"):
        raise ValueError(f"HEAPLENS_CORPUS={m!r}: plants, report or strict")
    return m


def hog_mode() -> str:
    m = os.environ.get("HEAPLENS_CORPUS_HOG", "subset")
    if m not in ("subset", "all", "off"):
        raise ValueError(f"HEAPLENS_CORPUS_HOG={m!r}: subset, all or off")
    return m


def load() -> dict[str, dict]:
    doc = json.loads(LABELS_PATH.read_text())
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"{LABELS_PATH}: schema {doc.get('schema')!r}, expected {SCHEMA}")
    return {s["dir"]: s for s in doc["scenarios"]}


LABELS = load()


def scenario_dir(label: dict) -> Path:
    return CORPUS / label["dir"]


def install_dir(label: dict) -> Path:
    """Where the scenario's Vitest is installed: its own package (Vitest 3/5 scenarios) or the corpus's."""
    d = scenario_dir(label)
    return d if (d / "package.json").is_file() else CORPUS


def installs() -> list[Path]:
    return sorted({install_dir(label) for label in LABELS.values()})


def files_on_disk(label: dict) -> list[str]:
    d = scenario_dir(label)
    return sorted(str(p.relative_to(d)) for p in d.rglob("*.test.js") if "node_modules" not in p.relative_to(d).parts)
