"""Issue 14 item 4: names chosen by the code under test never reach a terminal or Markdown raw.

The snapshots are real (Node, tests/fuzz/js/hostile_names.mjs): two classes named with an OSC 52
clipboard write, a screen clear, a colour, a bidi override and a newline. Every command that prints
them (diff in each format and grouping, the id diff, top, retainers, diagnose, report) must print
their escapes instead, and the JSON documents must still carry the exact names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from fuzz_helpers import EVIL, EVIL2, UNSAFE, assert_clean, hl, hl_each, hostile_pair, one_line_error

from heaplens import printable

RUNNER = Path(__file__).parents[1] / "runner"
ESCAPED = "\\u001b]52;c;ZXZpbA==\\u0007\\u001b[2J\\u001b[31mEvilClass"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return hostile_pair(tmp_path_factory.mktemp("hostile"))


# ---- the helper ---------------------------------------------------------------------------------


def test_text_escapes_what_a_terminal_acts_on():
    assert printable.text(EVIL) == ESCAPED
    assert printable.text("a\tb\nc") == "a\tb\nc"  # layout stays
    assert printable.text("x\r\x7f\x85\u2028\u202e\u2066\ud800y") == "x\\u000d\\u007f\\u0085\\u2028\\u202e\\u2066\\ud800y"
    assert printable.text("Grüße 日本 🎉 \\u001b") == "Grüße 日本 🎉 \\u001b"  # printable text is untouched
    assert printable.line("a\tb\nc") == "a\\u0009b\\u000ac"
    assert printable.is_printable("plain") and not printable.is_printable(EVIL)
    model = {"k\x1b": [EVIL, ("t\x07",), 3, None, {"n": "\ud800"}]}
    assert printable.deep(model) == {"k\\u001b": [ESCAPED, ("t\\u0007",), 3, None, {"n": "\\ud800"}]}


@pytest.mark.parametrize("value", [EVIL, EVIL2, "lone \ud800 and \udfff", "\x00\x1f\x7f\x9f", "ok ✓"])
def test_a_json_document_stays_exact(value):
    doc = {"name": value, "rows": [{"n": value}]}
    text = printable.text(json.dumps(doc, ensure_ascii=False))
    assert UNSAFE.search(text) is None
    assert json.loads(text) == doc


# ---- the commands ---------------------------------------------------------------------------------


def _check(cp, *, escaped: bool = True):
    assert cp.returncode == 0, cp.stderr[-3000:]
    assert_clean(cp)
    if escaped:  # printable's \u001b, or a renderer's own \x1b (diagnose's evidence lines)
        assert ESCAPED in cp.stdout or ESCAPED.replace("\\u00", "\\x") in cp.stdout, cp.stdout[:3000]


DIFF_EXTRA = [[], ["--by", "class"], ["--format", "markdown"], ["--by", "class", "--format", "markdown"], ["--trend"],
              ["--ids"], ["--ids", "--format", "markdown"], ["--retainers"]]
DIFF_JSON_EXTRA = [[], ["--ids"], ["--trend"]]
FORMATS = ["table", "markdown", "json"]


def _commands(pair) -> list[list]:
    return ([["diff", *pair, "--min-kb", "1", *extra] for extra in DIFF_EXTRA]
            + [["diff", *pair, "--min-kb", "1", "--format", "json", *extra] for extra in DIFF_JSON_EXTRA]
            + [["top", pair[1], "--format", fmt] for fmt in FORMATS]
            + [["retainers", pair[1], "--class", EVIL, "--format", fmt] for fmt in FORMATS]
            + [["diagnose", *pair, "--format", fmt] for fmt in ("table", "json")])


@pytest.fixture(scope="module")
def ran(pair):
    """Every command of the tests below, run once in one child process (fuzz_helpers.hl_each)."""
    argvs = _commands(pair)
    return {tuple(map(str, argv)): cp for argv, cp in zip(argvs, hl_each(argvs))}


def result(ran, *argv):
    return ran[tuple(map(str, argv))]


@pytest.mark.parametrize("extra", DIFF_EXTRA)
def test_diff(pair, ran, extra):
    _check(result(ran, "diff", *pair, "--min-kb", "1", *extra))


@pytest.mark.parametrize("extra", DIFF_JSON_EXTRA)
def test_diff_json_keeps_the_exact_names(pair, ran, extra):
    cp = result(ran, "diff", *pair, "--min-kb", "1", "--format", "json", *extra)
    _check(cp, escaped=False)
    names = {r.get("name") or r.get("class") for r in json.loads(cp.stdout)["rows"]}
    assert {EVIL, EVIL2} <= names


@pytest.mark.parametrize("fmt", FORMATS)
def test_top(pair, ran, fmt):
    cp = result(ran, "top", pair[1], "--format", fmt)
    _check(cp, escaped=fmt != "json")
    if fmt == "json":
        assert {EVIL, EVIL2} <= {c["class"] for c in json.loads(cp.stdout)["classes"]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_retainers_of_the_class(pair, ran, fmt):
    cp = result(ran, "retainers", pair[1], "--class", EVIL, "--format", fmt)
    _check(cp, escaped=fmt != "json")
    if fmt == "json":
        assert json.loads(cp.stdout)["class"] == EVIL


def test_retainers_of_one_object(pair, ran):
    agg = json.loads(result(ran, "retainers", pair[1], "--class", EVIL, "--format", "json").stdout)["aggregation"]
    target = agg["chains"][0]["example"]["target"]
    assert EVIL in target
    cp = hl("retainers", pair[1], "--id", re.search(r"@(\d+)", target).group(1))
    _check(cp)


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_diagnose(pair, ran, fmt):
    cp = result(ran, "diagnose", *pair, "--format", fmt)
    _check(cp, escaped=fmt != "json")
    if fmt == "table":
        assert "2nd line" not in [line.strip() for line in cp.stdout.splitlines()]  # a name cannot forge a line


def test_an_error_line_with_bytes_from_the_file(pair, tmp_path):
    """A section name is read from the file; the one error line escapes it."""
    data = pair[0].read_bytes().replace(b'"nodes":', b'"\x1b[2J\x1b]0;pwned\x07":', 1)
    bad = tmp_path / "bad.heapsnapshot"
    bad.write_bytes(data)
    line = one_line_error(hl("diff", pair[0], bad), "found")
    assert "\\u001b[2J" in line


# ---- the run report -------------------------------------------------------------------------------

SUITE_TEST = r"""import { test, expect } from 'vitest';
const tag = '\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[31mEvilClass';
const K = new Function('return class { constructor(k) { this.pad = JSON.stringify({ k, pad: "x".repeat(400) }); } }')();
Object.defineProperty(K.prototype, Symbol.toStringTag, { value: tag });
globalThis.__hostile ??= [];
test('hostile {i}', async () => {
  for (let k = 0; k < 20000; k++) globalThis.__hostile.push(new K(k));
  expect(1).toBe(1);
});
"""


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A real run of a suite whose leaking class is named with terminal escapes."""
    from helpers import npm_ci

    v4 = npm_ci(RUNNER / "fixtures" / "v4")
    d = tmp_path_factory.mktemp("hostile-suite")
    (d / "test").mkdir()
    os.symlink(v4 / "node_modules", d / "node_modules")
    (d / "package.json").write_text(json.dumps({"name": "hostile-suite", "private": True, "type": "module"}))
    (d / "package-lock.json").write_text(json.dumps({"name": "hostile-suite", "lockfileVersion": 3, "packages": {}}))
    (d / "vitest.config.js").write_text("export default { test: { isolate: false } }\n")  # one long-lived worker
    for i in range(1, 5):
        (d / "test" / f"h{i}.test.js").write_text(SUITE_TEST.replace("{i}", str(i)))
    cp = hl("run", "--workers", "1", "--snapshots", cwd=d, timeout=600)  # boundary snapshots: first and last file
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    run = next((d / ".heaplens" / "runs").glob("*/run.json")).parent
    return {"suite": d, "run": run}


@pytest.mark.skipif(shutil.which("npm") is None and os.environ.get("CI") != "true", reason="npm is not installed")
@pytest.mark.parametrize("fmt", ["terminal", "markdown"])
def test_report(hostile_run, fmt):
    cp = hl("report", hostile_run["run"], "--format", fmt, cwd=hostile_run["suite"], timeout=600)
    assert cp.returncode == 0, cp.stderr[-3000:]
    assert_clean(cp)
    assert "EvilClass" in cp.stdout


@pytest.mark.skipif(shutil.which("npm") is None and os.environ.get("CI") != "true", reason="npm is not installed")
def test_report_files(hostile_run, tmp_path):
    for fmt in ("markdown", "html"):
        out = tmp_path / f"r.{fmt}"
        cp = hl("report", hostile_run["run"], "--format", fmt, "-o", out, cwd=hostile_run["suite"],
                timeout=600)
        assert cp.returncode == 0, cp.stderr[-3000:]
        text = out.read_text(encoding="utf-8")
        assert UNSAFE.search(text) is None and "EvilClass" in text
