"""labels.json is well-formed and says what the scenarios' sources and configs say: every directory with
test files is labelled, the files are the ones on disk, the config shape is the one the scenario's Vitest
config asks for, a holder's line declares (or registers) it, the labelled classes are the suite's, and the
fix kind is the one the FIX_KIND vocabulary gives the holder."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from corpus_labels import (
    CORPUS,
    FINDING_KINDS,
    FIX_KINDS,
    HOLDER_KINDS,
    LABELS,
    PROBE_MODES,
    SEVERITIES,
    files_on_disk,
    scenario_dir,
)

from helpers import NODE

pytestmark = pytest.mark.scenarios

LISTENER_TYPES = {"EventEmitter", "EventTarget", "AbortSignal", "process"}
REGISTRATION = {"timer": r"\bset(Interval|Timeout)\(", "server": r"\.createServer\(", "listener": r"\.on\(|addEventListener\(",
                "global": r"globalThis\.", "db": r"\bnew Database\("}
BUILTIN_CLASSES = {"Object", "Buffer", "Array"}


def expected_fix(finding: dict) -> str:
    """The FIX_KIND the vocabulary gives a holder: by its kind, then (a variable or its property) by the
    type of the object the fix acts on."""
    h = finding["holder"]
    by_kind = {"module-registry": "isolate", "listener": "remove-listener", "timer": "clear-timer", "server": "close",
               "db": "close", "mock": "restore-mocks", "global": "delete-global", "static": "reset-static"}
    if h["kind"] in by_kind:
        return by_kind[h["kind"]]
    return {"Array": "array-clear", "Map": "map-clear", "Set": "map-clear"}[h["type"]]


def test_every_scenario_directory_is_labelled():
    dirs = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name not in ("node_modules", "scripts")
                  and any(p.rglob("*.test.js")))
    assert sorted(LABELS) == dirs
    assert len(LABELS) >= 20


@pytest.mark.parametrize("scenario", sorted(LABELS))
def test_label(scenario):
    label = LABELS[scenario]
    d = scenario_dir(label)
    assert (d / "vitest.config.js").is_file(), "every scenario has its own config"
    assert label["files"] == files_on_disk(label)
    assert label["vitest"] in ("3", "4", "5")
    assert set(label["config"]) == {"pool", "isolate", "workers"}
    sources = "\n".join(p.read_text() for p in d.rglob("*.js") if "node_modules" not in p.parts
                        and "generated" not in p.parts)
    for f in label["findings"]:
        assert f["kind"] in FINDING_KINDS and f["fix"] in FIX_KINDS
        assert f.get("severity") in (None, *SEVERITIES)
        h = f["holder"]
        assert h["kind"] in HOLDER_KINDS
        assert (f["kind"] == "module-graph") == (h["kind"] == "module-registry")
        assert f["fix"] == expected_fix(f), f"{scenario}: fix {f['fix']} for a {h['kind']} holder of type {h['type']}"
        if f["kind"] != "module-graph":
            assert f["classes"], "a leak names what it keeps"
            assert h["type"], "a leak's holder has a type"
        for cls in f["classes"]:
            if cls.startswith("{"):  # a plain object's DevTools class: its property names
                assert all(re.search(rf"\b{p}:", sources) for p in cls.strip("{}").split(", ")), cls
                continue
            assert cls in BUILTIN_CLASSES or re.search(rf"\bclass {cls}\b|\bimport {cls}\b", sources), f"no class {cls} in {scenario}"
        for file in f.get("fix_files", []):
            assert file in label["files"]
        if h["file"] is not None:
            lines = (d / h["file"]).read_text().splitlines()
            text = lines[h["line"] - 1]
            # the declaration of a binding or the creation of a global the suite declares; else the call
            # that registers with a holder the suite does not declare (process, a timer, a server)
            declaration = (rf"\b(const|let|var|class)\s+{re.escape(h['variable'])}\b"
                           rf"|globalThis\.{re.escape(h['variable'])}\s*\?\?=") if h["variable"] else None
            if declaration and re.search(declaration, sources):
                assert re.search(declaration, text), f"{h['file']}:{h['line']} does not declare {h['variable']}: {text!r}"
            else:
                assert re.search(REGISTRATION[h["kind"]], text), \
                    f"{h['file']}:{h['line']} does not register the {h['kind']}: {text!r}"
            if h["kind"] == "listener":
                assert h["type"] in LISTENER_TYPES or re.search(rf"class {h['type']} extends EventEmitter", sources)
            if h.get("property"):
                assert re.search(rf"\b{h['property']}\b", sources)
    plant = label["plant"]
    assert plant["probe"] in PROBE_MODES and plant["counts"]
    if plant.get("fix"):
        assert (CORPUS / plant["fix"]).is_file()
    if plant["probe"] == "first-last":
        assert label["config"]["workers"] == 1 and not label["config"]["isolate"]
    if plant["probe"] == "per-file":
        assert label["config"]["isolate"]
    leaks = [f for f in label["findings"] if f["kind"] != "module-graph"]
    assert bool(plant.get("fix")) == bool(leaks) or plant["probe"] == "every", \
        "a scenario with a leak checks its fix in the worker (except with several workers)"


@pytest.fixture(scope="module")
def config_shapes(corpus) -> dict[str, dict]:
    """scenario → the shape its Vitest config asks for, every config read by one Node (shape.mjs prints a line
    per config, an {"error": …} line for one it cannot load): a Node start per scenario was half a second each."""
    names = sorted(LABELS)
    configs = [str(scenario_dir(LABELS[s]) / "vitest.config.js") for s in names]
    cp = subprocess.run([NODE, str(CORPUS / "scripts" / "plant-probe" / "shape.mjs"), *configs],
                        cwd=CORPUS, capture_output=True, text=True, timeout=300, check=True)
    lines = cp.stdout.splitlines()
    assert len(lines) == len(names), cp.stdout + cp.stderr
    return dict(zip(names, map(json.loads, lines)))


@pytest.mark.parametrize("scenario", sorted(LABELS))
def test_config_shape(scenario, config_shapes):
    """The labelled pool / isolate / workers are what the scenario's own Vitest config asks for."""
    assert config_shapes[scenario] == LABELS[scenario]["config"]


def growth_files(label: dict) -> float:
    """How many files' worth of growth lie between a worker's two compared snapshots: a shared worker's
    first and last file end (its files − 1, the files spread over the workers), or one file's start and end."""
    c = label["config"]
    return 1 if c["isolate"] else len(label["files"]) / c["workers"] - 1


@pytest.mark.parametrize("scenario", sorted(LABELS))
def test_sizing(scenario):
    """No label sits near a significance floor: every planted cause retains at least 10 MiB between a
    worker's compared snapshots (the scale of issue 11's mild example, +12 MiB over a lane), by the lower
    end of its labelled range; the clean ones without a trap retain under 1.5 MiB by the upper end."""
    label = LABELS[scenario]
    plant = label["plant"]
    n = growth_files(label)
    if not label["findings"]:
        if not label.get("notes", "").startswith("A trap"):
            assert plant["heap_per_file_mb"][1] * n <= 1.5
        return
    external = any(f["kind"] == "external-memory" for f in label["findings"])
    lo = plant["external_per_file_mb" if external else "heap_per_file_mb"][0]
    assert lo * n >= 10, f"{scenario}: at least {lo} MiB/file × {n:g} files = {lo * n:.1f} MiB"
