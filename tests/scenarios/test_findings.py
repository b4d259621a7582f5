"""heaplens gets exactly the labelled findings on every scenario — at the machine's load, and with a CPU hog
beside it (the ``hog`` scenarios of labels.json, or all with HEAPLENS_CORPUS_HOG=all).

Runs only in HEAPLENS_CORPUS=report (a mismatch is an xfail, recorded for docs/scenarios.md) or strict (a
mismatch fails); see corpus_labels for the modes and corpus_findings for the comparison."""

from __future__ import annotations

import os

import corpus_docs
import pytest
from corpus_findings import compare, investigate, one_answer_problems, short
from corpus_labels import LABELS, hog_mode, mode

pytestmark = [pytest.mark.scenarios,
              pytest.mark.skipif(mode() == "plants", reason="HEAPLENS_CORPUS=plants: the plants only (heaplens's "
                                 "findings are checked with HEAPLENS_CORPUS=report or strict)")]

HOGS = int(os.environ.get("HEAPLENS_CORPUS_HOGS", "1"))
HOG_SCENARIOS = [] if hog_mode() == "off" else sorted(s for s, label in LABELS.items()
                                                      if hog_mode() == "all" or label.get("hog"))


@pytest.fixture(scope="module", autouse=True)
def docs_table():
    yield
    if os.environ.get("HEAPLENS_CORPUS_DOCS") == "1" and corpus_docs.RESULTS:
        corpus_docs.write()


def _judge(scenario: str, condition: str, out, problems: list[str]) -> None:
    if out.legacy and mode() == "strict":
        problems = ["the diagnosis predates the findings contract (results[], no workers[].findings[])", *problems]
    corpus_docs.RESULTS[(scenario, condition)] = {
        "ok": not problems, "problems": problems, "seconds": out.seconds, "load": out.load, "hogs": out.hogs,
        "legacy": out.legacy, "got": [short(f) for w in out.workers for f in w["findings"]],
    }
    if problems:
        msg = (f"{scenario} ({condition}; run {out.run_dir}, {out.seconds:.0f}s, load {out.load}):\n  "
               + "\n  ".join(problems))
        if mode() == "strict":
            pytest.fail(msg)
        pytest.xfail(msg)


@pytest.mark.parametrize("scenario", sorted(LABELS))
def test_findings(scenario, corpus, tmp_path):
    out = investigate(LABELS[scenario], tmp_path / "runs")
    _judge(scenario, "low", out, compare(LABELS[scenario], out.workers) + one_answer_problems(out))


@pytest.mark.parametrize("scenario", HOG_SCENARIOS)
def test_findings_with_cpu_hog(scenario, corpus, tmp_path):
    out = investigate(LABELS[scenario], tmp_path / "runs", hogs=HOGS)
    _judge(scenario, "hog", out, compare(LABELS[scenario], out.workers) + one_answer_problems(out))
