"""A real Vitest suite of ten test files (``fixtures/ci-suite``: Vitest 5, shared workers, two at a time, one
known leak) for the CI features: baselines and the gate, GitHub annotations and the composite action, shards.

The suite is installed once per session (``npm ci``); every run works in a copy of its sources (with its
``node_modules`` linked), so a test can plant a regression without touching the fixture. The runs are made
once per session and shared by the tests that read them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import heaplens, npm_ci

FIXTURE = Path(__file__).parent / "fixtures" / "ci-suite"
SOURCES = ("package.json", "package-lock.json", "vitest.config.js", "src", "test")
LEAK_CLEANUP = "afterEach(() => clearAudit());"

collect_ignore_glob = ["fixtures/*"]


def copy_suite(dest: Path) -> Path:
    """The fixture's sources in ``dest`` (a fresh directory), its node_modules linked."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        src = FIXTURE / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    (dest / "node_modules").symlink_to(FIXTURE / "node_modules", target_is_directory=True)
    return dest


def plant_leak(suite: Path) -> Path:
    """The regression: test/orders.test.js stops clearing the audit log after each test (its tests still
    pass), so every event it records stays reachable from ``auditLog`` in src/audit.js."""
    f = suite / "test" / "orders.test.js"
    text = f.read_text()
    assert LEAK_CLEANUP in text
    f.write_text(text.replace(LEAK_CLEANUP, "// (the cleanup was removed)"))
    return f


def run_suite(suite: Path, runs: Path, *args: str) -> Path:
    """``heaplens run`` in ``suite`` into its own runs directory; the run directory."""
    runs.mkdir(parents=True, exist_ok=True)
    before = set(runs.iterdir())
    cp = heaplens("run", "--runs-dir", runs, *args, cwd=suite, timeout=900)
    made = [p for p in runs.iterdir() if p not in before and (p / "run.json").is_file()]
    assert cp.returncode == 0 and len(made) == 1, cp.stdout[-3000:] + cp.stderr[-3000:]
    return made[0]


@pytest.fixture(scope="session")
def ci_suite() -> Path:
    return npm_ci(FIXTURE)


PLANTED = ("test/orders.test.js", "test/math.test.js", "test/text.test.js")
PLANTED_TEST = """
import { record as plantedRecord } from '../src/app.js';

test('planted: records 20,000 events and keeps them', () => {
  for (let i = 0; i < 20000; i++) plantedRecord(`planted-${i}`);
});
"""

# Every file end GC-settled (no GC budget): a figure per file, so the tests can name the file that regressed.
# The GC budget's spans have their own runs (``budgeted``).
EVERY = ("--gc-overhead", "off")


@pytest.fixture(scope="session")
def unchanged(ci_suite, tmp_path_factory) -> dict:
    """Three runs of the unchanged suite with heap snapshots: two for the baseline, one to check."""
    base = tmp_path_factory.mktemp("unchanged")
    suite = copy_suite(base / "suite")
    runs = [run_suite(suite, base / f"runs-{i}", "--snapshots", *EVERY) for i in range(3)]
    return {"suite": suite, "runs": runs, "dir": base}


@pytest.fixture(scope="session")
def budgeted(ci_suite, tmp_path_factory) -> dict:
    """A run of the unchanged suite and one with the planted regression under a GC budget of 0: only a worker's
    first and last file ends (and its snapshot boundaries) are GC-settled, the files in between are measured
    together (spans), wherever the scheduler puts them."""
    base = tmp_path_factory.mktemp("budgeted")
    suite = copy_suite(base / "suite")
    leaky = copy_suite(base / "leaky")
    plant_leak(leaky)
    # two more files that keep audit entries: two workers settle only their first file alone, so at least one
    # of the three leaking files is measured together with others, wherever the scheduler puts them
    for name in PLANTED[1:]:
        f = leaky / name
        f.write_text(f.read_text() + PLANTED_TEST)
    return {"suite": suite, "leaky": leaky,
            "run": run_suite(suite, base / "runs", "--snapshots", "--gc-overhead", "0"),
            "planted": run_suite(leaky, base / "runs-planted", "--snapshots", "--gc-overhead", "0")}


@pytest.fixture(scope="session")
def baseline(unchanged) -> Path:
    out = unchanged["dir"] / "heaplens-baseline.json"
    cp = heaplens("baseline", "save", *unchanged["runs"][:2], "-o", out, cwd=unchanged["suite"])
    assert cp.returncode == 0, cp.stderr
    return out


@pytest.fixture(scope="session")
def planted(ci_suite, tmp_path_factory) -> dict:
    """One run of the suite with the planted regression (heap snapshots on, as the baseline's runs)."""
    base = tmp_path_factory.mktemp("planted")
    suite = copy_suite(base / "suite")
    plant_leak(suite)
    return {"suite": suite, "run": run_suite(suite, base / "runs", "--snapshots", *EVERY)}
