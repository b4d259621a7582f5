"""Runs a scenario the plain way — its own Vitest, its own config — with one more setup file, the plant
probe (examples/scenarios/scripts/plant-probe/setup.mjs), which snapshots the worker at file boundaries
and applies the scenario's labelled fix at the end (see the probe for the protocol)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from corpus_labels import CORPUS, install_dir, scenario_dir

from helpers import NODE

PROBE_CONFIG = CORPUS / "scripts" / "plant-probe" / "config.mjs"


@dataclass
class ProbeRun:
    label: dict
    out: Path
    records: list[dict]
    seconds: float
    log: str
    counts: dict = field(default_factory=dict)  # (snapshot path, spec index) → count, filled by the test

    def files_run(self) -> list[str]:
        return sorted(r["file"] for r in self.records if r["phase"] == "file")

    def workers(self) -> dict[tuple[int, int], list[dict]]:
        """(pid, tid) → its records in order."""
        out: dict[tuple[int, int], list[dict]] = {}
        for r in self.records:
            out.setdefault((r["pid"], r["tid"]), []).append(r)
        return out

    def snapshots(self, phase: str | None = None) -> list[dict]:
        return [r for r in self.records if r["snapshot"] and (phase is None or r["phase"] == phase)]


def vitest_cli(label: dict) -> Path:
    return install_dir(label) / "node_modules" / "vitest" / "vitest.mjs"


def run_probe(label: dict, out: Path, timeout: float = 600) -> ProbeRun:
    plant = label["plant"]
    d = scenario_dir(label)
    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANT_PROBE_", "VITEST", "HEAPLENS_"))}
    env.update({
        "PLANT_PROBE_VITEST": str(install_dir(label) / "node_modules" / "vitest" / "dist" / "index.js"),
        "PLANT_PROBE_CONFIG": str(d / "vitest.config.js"),
        "PLANT_PROBE_OUT": str(out),
        "PLANT_PROBE_MODE": plant["probe"],
        "PLANT_PROBE_FILES": str(len(label["files"])),
        "PLANT_PROBE_FIX": str(CORPUS / plant["fix"]) if plant.get("fix") else "",
        "PLANT_PROBE_TIMERS": "1" if plant.get("timers") else "0",
        # per-file: fix only the files whose counts say what the fix leaves
        "PLANT_PROBE_FIX_FILES": ",".join(sorted({c["file"] for c in plant["counts"] if c.get("file") and "fixed" in c})),
        "NO_COLOR": "1",
    })
    t0 = time.monotonic()
    cp = subprocess.run([NODE, str(vitest_cli(label)), "run", "--config", str(PROBE_CONFIG)], cwd=d, env=env,
                        capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - t0
    log = cp.stdout[-6000:] + cp.stderr[-6000:]
    if cp.returncode != 0:
        raise AssertionError(f"{label['dir']}: the probe run failed (exit {cp.returncode}):\n{log}")
    jsonl = out / "probe.jsonl"
    records = [json.loads(line) for line in jsonl.read_text().splitlines()] if jsonl.is_file() else []
    return ProbeRun(label, out, records, seconds, log)
