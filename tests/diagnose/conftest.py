"""Fixtures of the diagnosis's tests: real snapshots of known shapes, written by the installed Node once per run."""

from __future__ import annotations

import json

import pytest

from helpers import JS, run_node


@pytest.fixture(scope="session")
def shapes(tmp_path_factory) -> dict:
    """The later snapshot of: a Vitest-like run (module registry, block contexts) with a runtime leak and new module
    instances (plant_verdict mixed); listeners on an emitter (emitter); a vite-node module cache that a dependency's
    variable also reaches (module_graph alias)."""
    out = {}
    for name, script, args in (("mixed", "verdict/plant_verdict.mjs", ("mixed", "{d}", 4000, 20)),
                               ("emitter", "verdict/plant_verdict.mjs", ("emitter", "{d}", 3, 50, 20)),
                               ("alias", "module_graph.mjs", ("{d}", 80, 2, "alias"))):
        d = tmp_path_factory.mktemp(name)
        cp = run_node(JS / script, *[str(a).format(d=d) for a in args])
        out[name] = json.loads(cp.stdout.strip().splitlines()[-1])["files"][-1]
    return out
