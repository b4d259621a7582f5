"""The self-contained HTML report: rendered from real runs of a small Vitest suite and opened in a real headless
Chromium (Debian's ``chromium``): the script ran, no console message, the charts hold the expected series and
bars, nothing is loaded from the network; every text of the document is escaped."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from heaplens.report.html import render
from heaplens.workflow.report import report_document as build
from helpers import npm_ci

HERE = Path(__file__).resolve().parent
RUNNER = HERE.parent / "runner"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")

if CHROMIUM is None and IN_CI:
    pytest.fail("chromium is not installed (apt-get install -y chromium): the HTML report must be checked in a "
                "real browser in CI", pytrace=False)

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium: /usr/bin/chromium is missing "
                                                               "(apt-get install -y chromium); CI installs it")

PLANT = '</script><script>document.body.setAttribute("data-pwned","1")</script><img src=x onerror=alert(1)>&"\''

# -------------------------------------------------------------------------------------------- helpers


def _heaplens(*args, cwd: Path, runs: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env.update(HEAPLENS_PROGRESS="0", HEAPLENS_RUNS_DIR=str(runs))
    return subprocess.run([sys.executable, "-m", "heaplens", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=300)


def _run_dir(runs: Path) -> Path:
    (rec,) = sorted(runs.glob("*/run.json"))
    return rec.parent


STORE = """export const sessionStore = new Map()
export class Session {
  constructor (id) { this.id = id; this.payload = 'p'.repeat(1500) + id; this.tags = new Array(40).fill(id) }
}
export function keep (id) { sessionStore.set(id, new Session(id)) }
"""
LEAK = """import { test, expect } from 'vitest'
import { keep } from '../src/store.js'
test('keeps sessions %d', async () => {
  for (let k = 0; k < 3000; k++) keep('s%d-' + k)
  await new Promise(resolve => setTimeout(resolve, 900))
  expect(true).toBe(true)
})
"""
ODD = 'odd<b>&"q\'.test.js'  # a real file name that needs escaping


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    """A temp copy of the v4 fixture suite (basic + oom) with a module-level Map that leaks, a file with an
    awkward name, and the fixture's node_modules linked in."""
    v4 = npm_ci(RUNNER / "fixtures" / "v4")
    d = tmp_path_factory.mktemp("html-suite")
    shutil.copy(v4 / "package.json", d / "package.json")
    (d / "node_modules").symlink_to(v4 / "node_modules", target_is_directory=True)
    # one long-lived worker for the files: the suite turns isolation off (heaplens runs it as configured)
    # the store is imported by a setup file, so the Map exists in the worker's earliest snapshot (after its first
    # file's collection) whichever file Vitest runs first: the holder is old in every pair, the verdict a runtime
    # leak by design (a module first imported by a later file is new unless a snapshot falls in between). Vitest
    # re-runs the setup file itself before every file; the store it imports stays in the worker's module cache.
    (d / "vitest.config.js").write_text("export default { test: { isolate: false, setupFiles: ['./src/setup.js'] } }\n")
    (d / "src").mkdir()
    (d / "src" / "store.js").write_text(STORE)
    (d / "src" / "setup.js").write_text("import './store.js'\n")
    basic = d / "suite" / "basic"
    shutil.copytree(v4 / "suite" / "basic", basic)
    for i in range(1, 7):  # ~6 s of tests: room for two snapshots of the worker even on a busy machine
        (basic / f"leak{i}.test.js").write_text(LEAK.replace("'../src/", "'../../src/") % (i, i))
    shutil.copy(basic / "f1.test.js", basic / ODD)
    shutil.copytree(v4 / "suite" / "oom", d / "suite" / "oom")
    return d


@pytest.fixture(scope="module")
def leak_doc(suite, tmp_path_factory) -> dict:
    runs = tmp_path_factory.mktemp("html-runs-leak")
    cp = _heaplens("run", "suite/basic", "--workers", "1", "--snapshots", cwd=suite, runs=runs)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr
    return build(_run_dir(runs))


@pytest.fixture(scope="module")
def oom_doc(suite, tmp_path_factory) -> dict:
    runs = tmp_path_factory.mktemp("html-runs-oom")
    cp = _heaplens("run", "suite/oom", "--workers", "1", "--max-old-space-mb", "48", cwd=suite, runs=runs)
    assert cp.returncode == 1, cp.stdout[-3000:] + cp.stderr
    return build(_run_dir(runs))


class Page:
    def __init__(self, html: str, dom: str, console: list[str], screenshot: Path):
        self.html, self.dom, self.console, self.screenshot = html, dom, console, screenshot

    @property
    def body(self) -> str:
        return re.search(r"<body[^>]*>", self.dom).group(0)

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.dom))


def _chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def open_in_chromium(html: str, tmp: Path, name: str = "report") -> Page:
    """The DOM after the page's scripts ran, every console message (any is a failure: the page logs nothing,
    and a blocked network load or an exception shows up here), and a 1400×3000 screenshot."""
    tmp.mkdir(parents=True, exist_ok=True)
    page = tmp / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    url = page.as_uri()
    dump = _chromium(url, tmp / "profile", "--dump-dom")
    assert dump.returncode == 0, dump.stderr[-3000:]
    png = tmp / f"{name}.png"
    shot = _chromium(url, tmp / "profile", "--window-size=1400,3000", f"--screenshot={png}")
    assert shot.returncode == 0, shot.stderr[-3000:]
    assert png.is_file() and png.stat().st_size > 10_000
    console = [l for l in (dump.stderr + shot.stderr).splitlines() if ":CONSOLE" in l]
    return Page(html, dump.stdout, console, png)


def assert_offline(html: str) -> None:
    """Nothing that would load from elsewhere: no external src/href, no CSS imports or url() of a remote."""
    assert not re.search(r"""(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "@import" not in html
    assert "default-src 'none'" in html  # the page's CSP forbids every load, so a regression shows as a console error


def embedded(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="heaplens-report">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def planted(doc: dict) -> dict:
    """The document with markup planted in every kind of text it carries."""
    d = copy.deepcopy(doc)
    d["run"]["run_id"] = PLANT
    d["reproduce"] = "heaplens run " + PLANT
    for lane in d["lanes"]:
        lane["name"] = PLANT
        for s in lane["timeline"]["files"]:
            s["file"] = "suite/" + PLANT + s["file"]
    for w in d["workers"]:
        w["lane"] = PLANT
        w["verdict"] = PLANT
        w["notes"] = [*w["notes"], PLANT]
        for fam in w["families"]:
            fam["name"] = PLANT
        for f in w["findings"]:
            f["title"] = PLANT
            f["evidence"] = [*f["evidence"], PLANT]
            f["holder"]["access"] = PLANT
            f["holder"]["file"] = "suite/" + PLANT
            f["fix"]["text"] = PLANT
            f["fix"]["files"] = [*f["fix"]["files"], "suite/" + PLANT]
    for f in d["findings"]:
        f["title"] = PLANT
        f["lane"] = PLANT
    d["verification"] = {"verdict": PLANT, PLANT: {"peak_rss": 1}}
    return d


# ----------------------------------------------------------------------------------- without a browser


def test_empty_and_partial_documents_render():
    assert "<html" in render({})
    html = render({"schema": "heaplens.report", "run": {"run_id": "r1", "status": "failed"}, "lanes": [
        {"name": "empty", "timeline": {}},
        {"name": "no-samples", "timeline": {"samples": [], "snapshots": [{"t": 1.0, "seq": 1}], "files": [
            {"file": "a.test.js", "pid": 1, "start": 0.1, "end": 0.5, "delta": -2048}]},
         "faults": [{"kind": "oom", "pid": 1, "files": ["a.test.js"], "t": None}]},
        {"name": "one-sample", "timeline": {"samples": [{"t": 0.0, "rss": 0, "workers": {}}]}},
    ], "workers": [{"lane": "empty", "pid": None, "verdict": "no snapshot pair", "findings": [], "trace": {}}],
        "findings": [], "verification": {}})
    assert "No RSS samples" in html and "No per-file RSS" in html and "time unknown" in html
    assert "no snapshot pair (RSS trace only)" in html
    assert 'id="verification"' in html and "heaplens report" in html


def test_everything_is_escaped(leak_doc):
    html = render(planted(leak_doc))
    assert PLANT not in html and "<script>document.body" not in html and "<img src=x" not in html
    assert "&lt;/script&gt;&lt;script&gt;" in html
    # the embedded JSON cannot end its <script> early and reads back as the document
    assert html.count("</script>") == 2
    assert embedded(html) == json.loads(json.dumps(planted(leak_doc)))


def test_verification_is_rendered_generically(leak_doc):
    d = copy.deepcopy(leak_doc)
    d["verification"] = {"verdict": "fixed: peak RSS down 38 %", "before": {"unit-fast": 512 * 2**20},
                         "after": {"unit-fast": 318 * 2**20}, "a_new_field": ["x", {"nested": True}]}
    html = render(d)
    section = html[html.index('id="verification"'):]
    assert "fixed: peak RSS down 38 %" in section and "512.0MiB" in section and "318.0MiB" in section
    assert "a_new_field" in section and "nested" in section


def test_verification_of_heaplens_verify(leak_doc):
    from heaplens.workflow.verify import LaneFigures, Verification

    v = Verification(before_run="runs/a", after_run="runs/b", touched_files=["suite/basic/leak3.test.js"],
                     moved=True, snapshots=False, verdict="verified", lines=["peak RSS 300.0MiB → 120.0MiB (-60 %)"],
                     lanes_before={"unit-fast": LaneFigures(peak=300 * 2**20, slope=2.5 * 2**20, files=12, faults=0)},
                     lanes_after={"unit-fast": LaneFigures(peak=120 * 2**20, slope=4096.0, files=11, faults=0)})
    d = copy.deepcopy(leak_doc)
    d["verification"] = v.to_json()
    section = render(d).split('id="verification"')[1].split("</section>")[0]
    assert 'verdict: <b class="ok">verified</b>' in section and "300.0MiB" in section and "120.0MiB" in section
    assert "2.5MiB" in section and "4.0KiB" in section and "<th>files</th><td>12</td>" in section
    assert "suite/basic/leak3.test.js" in section and "-60 %" in section


# ------------------------------------------------------------------------------------------ in Chromium


@needs_chromium
def test_leak_report_in_chromium(leak_doc, tmp_path):
    doc = leak_doc
    w = doc["workers"][0]  # the planted Map grows the worker: a finding held by `sessionStore`
    assert w["significant"] and w["before"], w["verdict"]
    f = w["findings"][0]
    assert f["kind"] == "runtime-leak" and f["holder"]["variable"] == "sessionStore", w["verdict"]
    html = render(doc)
    assert_offline(html)
    assert not re.search(r"https?://", html)  # not even as text: the run carries no URL
    page = open_in_chromium(html, tmp_path)
    assert page.console == []
    assert 'data-rendered="1"' in page.body and 'data-timelines="1"' in page.body

    (lane,) = doc["lanes"]
    tl = lane["timeline"]
    pids = {p for s in tl["samples"] for p in s["workers"]}
    assert len(pids) == 1 and len(tl["snapshots"]) >= 2
    # the timeline: the process tree and one line per worker, a marker per snapshot, a span per file
    assert page.count(r'class="series tree"') == 1
    assert page.count(r'class="series worker"') == len(pids)
    assert page.count(r'<g class="snap-marker">') == len(tl["snapshots"])
    assert page.count(r'<rect class="span(?: hl)?"') == len(tl["files"]) == 12
    assert page.count(r'<g class="fault-marker">') == 0
    # the growth bars: one per file, the files of the finding's fix highlighted
    assert page.count(r'<rect class="bar(?: hl| neg)?"') == len(tl["files"])
    hl = set(f["fix"]["files"])
    assert hl and page.count(r'<rect class="bar hl"') == len(hl)
    assert page.count(r'<rect class="span hl"') == len(hl)
    # the seed's six things are on the page, the finding with its severity, confidence, holder and fix
    text = page.dom
    assert "heaplens run suite/basic --workers 1 --snapshots --lane unit-fast" in text
    assert f"pid <code>{w['pid']}</code>" in text
    assert Path(w["before"]).name in text and Path(w["after"]).name in text
    assert page.count(r'<div class="finding kind-runtime-leak sev-(?:mild|moderate|severe)">') == len(w["findings"])
    assert "runtime leak held by `sessionStore`" in text and "<code>map-clear</code>" in text
    assert "sessionStore.clear()" in text and f["severity"] in text
    for line in w["verified"] + w["not_verified"]:
        assert line.replace("&", "&amp;") in text
    # the awkward real file name arrives as text
    assert 'odd&lt;b&gt;&amp;"q\'.test.js' in text and "odd<b>" not in text
    print(f"screenshot: {page.screenshot}")

    # the hover read-out: a mouse move over the middle of the timeline shows the samples there
    # (the page's CSP runs only its own script, by hash: the probe's hash is added for this test)
    probe = """
      var svg = document.querySelector("svg.timeline"), r = svg.getBoundingClientRect();
      svg.dispatchEvent(new MouseEvent("mousemove", {clientX: r.left + r.width * 0.6, clientY: r.top + r.height * 0.3}));
      var box = svg.parentNode.querySelector(".readout");
      document.body.setAttribute("data-readout", box.hidden ? "hidden" : box.textContent);
    """
    probe_hash = "sha256-" + base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode()
    probed = html.replace("</body>", f"<script>{probe}</script></body>").replace("script-src '", f"script-src '{probe_hash}' '")
    hover = open_in_chromium(probed, tmp_path, "hover")
    assert hover.console == []
    readout = re.search(r'data-readout="([^"]*)"', hover.body).group(1)
    assert "process tree" in readout and f"pid {w['pid']}" in readout and "t =" in readout
    # a script that got into the page some other way does not run: the CSP names the report's own by hash
    assert "unsafe-inline'; img" not in html and "script-src 'sha256-" in html
    injected = html.replace("</body>", '<script>document.body.setAttribute("data-pwned", "1")</script></body>')
    blocked = open_in_chromium(injected, tmp_path, "injected")
    assert "data-pwned" not in blocked.body and 'data-rendered="1"' in blocked.body
    assert any("Content Security Policy" in line for line in blocked.console)


@needs_chromium
def test_oom_lane_in_chromium(oom_doc, tmp_path):
    (lane,) = oom_doc["lanes"]
    (fault,) = lane["faults"]
    assert fault["kind"] == "oom"
    html = render(oom_doc)
    assert_offline(html)
    page = open_in_chromium(html, tmp_path, "oom")
    assert page.console == [] and 'data-rendered="1"' in page.body
    assert page.count(r'<g class="fault-marker">') == 1  # at its time, or at the lane's end when no sample saw it
    assert "grow.test.js" in page.dom and "oom" in page.dom


@needs_chromium
def test_planted_markup_stays_text_in_chromium(leak_doc, tmp_path):
    html = render(planted(leak_doc))
    page = open_in_chromium(html, tmp_path, "planted")
    assert page.console == []  # no alert, no blocked image load, no script error
    assert 'data-rendered="1"' in page.body and "data-pwned" not in page.body
    assert page.count(r"<img\b") == 0


@needs_chromium
def test_a_console_error_is_caught(tmp_path):
    """The harness itself: a page that throws is seen."""
    page = open_in_chromium("<!DOCTYPE html><body><script>nosuchfunction()</script></body>", tmp_path, "bad")
    assert any("nosuchfunction" in l for l in page.console)


def test_isolation_fix_shows_the_manifest_diff_and_blind_spots(leak_doc):
    d = copy.deepcopy(leak_doc)
    f = d["workers"][0]["findings"][0]
    f["kind"] = "module-graph"
    f["fix"] = {"kind": "isolate", "layer": "scheduling", "files": ["suite/basic/leak3.test.js", "suite/<b>.test.js"],
                "reason": "heaplens: module-graph retention", "behavior_manifest": "test/fixtures/b.behavior.json",
                "missing_timings": ["suite/<b>.test.js"], "text": "isolate 2 file(s)",
                "manifest_diff": "--- a/b.json\n+++ b/b.json\n@@ -1,3 +1,4 @@\n   \"isolated\": [\n"
                                 "+    {\"file\": \"suite/<b>.test.js\"},\n-    \"old\"\n   ]"}
    html = render(d)
    assert '<span class="add">+    {&quot;file&quot;: &quot;suite/&lt;b&gt;.test.js&quot;},</span>' in html
    assert '<span class="del">-    &quot;old&quot;</span>' in html and '<span class="hunk">@@ -1,3 +1,4 @@</span>' in html
    assert "scheduling blind spot" in html and "test/fixtures/b.behavior.json" in html
    assert 'v-graph">module-graph retention' in html
