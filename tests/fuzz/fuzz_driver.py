"""The seeded fuzz/fault driver (issue 14): generates bad inputs and runs heaplens commands on them,
in-process, one case after another, checking the contract of every case.

    python tests/fuzz/fuzz_driver.py FAMILY SEED COUNT WORKDIR [--only I] [--budget SECONDS]

Families: snapshot (mutations of a real snapshot), header (crafted headers), gzip (bombs, damage),
special (FIFOs, devices, sockets, links), manifest (corrupt manifests edited by isolate / hotspots),
record (corrupt run records read by diagnose / report), report (a corrupt cached report.json newer than
its record, read by report / diagnose). WORKDIR must hold the seed files made by
tests/fuzz/test_fuzz.py (``base.heapsnapshot``, ``before.heapsnapshot``, and for ``record`` a run).

Case ``i`` of FAMILY uses ``random.Random(f"{SEED}:{FAMILY}:{i}")``: the same case is the same input on
every machine. Before a case the driver prints ``START i``; after it one JSON line
``{"i", "ok", "why", "argv", "code", "seconds"}``. A crash or a hang of the whole driver is caught by
the parent (the last START names the case). The contract checked per case:

- the command returns (a per-case alarm turns a hang into a failure) with exit 0, 1 or 2 — never an
  exception out of ``heaplens.cli.main`` (what a user would see as a traceback);
- exit 2 prints exactly one ``heaplens: error:`` line on stderr;
- stdout and stderr hold nothing a terminal acts on (and encode as UTF-8);
- a manifest the command refused is byte for byte what it was; one it wrote is JSON with no key twice
  in one object; no temporary file is left next to it.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gzip
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import sys
import time
import traceback
from pathlib import Path

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
CASE_SECONDS = 30
INTERESTING = [b"0", b"1", b"255", b"256", b"4294967295", b"4294967296", b"18446744073709551615",
               b"18446744073709551616", b"99999999999999999999999", b"-1", b"1e5", b"1.5", b"", b"null", b'"x"',
               b"[]", b"{}", b"00000000000000000000007"]
STRING_BITS = ["\\u001b[2J", "\\u001b]52;c;eA==\\u0007", "\\ud800", "\\udfff", "\\u0000", "\\u202e", "\\n", "\\\\",
               "\\\"", "\u00e9", "\U0001F600", "\\u2028", "|", "<script>"]


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


# ---- running one command in-process ---------------------------------------------------------------


def run_cli(argv: list[str], cwd: Path | None = None) -> tuple[int | None, str, str, str | None]:
    """(exit code, stdout, stderr, traceback text or None). stdout/stderr are strict UTF-8 text streams,
    like a terminal's: a string that cannot be encoded fails the command as it would for a user."""
    from heaplens.cli import main

    out_b, err_b = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_b, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_b, encoding="utf-8", errors="strict", write_through=True)
    code, tb = None, None
    old_cwd = os.getcwd()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
    except Hang:
        tb = f"no answer in {CASE_SECONDS} s (hang)"
    except BaseException:  # noqa: BLE001 - anything escaping main() is what a user sees as a traceback
        tb = traceback.format_exc()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        os.chdir(old_cwd)
    return code, out_b.getvalue().decode("utf-8", "replace"), err_b.getvalue().decode("utf-8", "replace"), tb


def check_output(code, out, err, tb, stdout_printable: bool = True) -> str | None:
    """What is wrong with one command's ending, or None."""
    if tb is not None:
        return "exception: " + tb.strip().splitlines()[-1][:300] + "\n" + tb[-2500:]
    if code not in (0, 1, 2):
        return f"exit code {code!r}"
    if "Traceback" in err:
        return "a traceback on stderr"
    for name, text in (("stdout", out), ("stderr", err)):
        if name == "stdout" and not stdout_printable:
            continue
        m = UNSAFE.search(text)
        if m:
            return f"{name} has {m.group()!r}: {text[max(0, m.start() - 60):m.start() + 60]!r}"
    if code == 2:
        lines = err.strip().splitlines()
        errors = [line for line in lines if line.startswith("heaplens: error: ")]
        if len(errors) != 1 or not lines[-1].startswith("heaplens: error: ") or \
                any(not (line.startswith("heaplens: warning: ") or line.startswith("heaplens: error: ")
                         or line.startswith("usage: ")) for line in lines):
            return f"exit 2 without exactly one error line: {err[-600:]!r}"
    return None


# ---- snapshot mutations ---------------------------------------------------------------------------


def _number_spans(data: bytes, rnd: random.Random, lo: int, hi: int):
    """A random number token in data[lo:hi] as (start, end), or None."""
    for _ in range(20):
        i = rnd.randrange(lo, hi)
        if 48 <= data[i] <= 57:
            a = i
            while a > 0 and 48 <= data[a - 1] <= 57:
                a -= 1
            b = i
            while b < len(data) and 48 <= data[b] <= 57:
                b += 1
            return a, b
    return None


def mutate_snapshot(data: bytes, rnd: random.Random) -> tuple[bytes, str]:
    n = len(data)
    nodes_at = data.find(b'"nodes"')
    edges_at = data.find(b'"edges"')
    strings_at = data.rfind(b'"strings"')
    regions = {"header": (0, max(1, nodes_at)), "nodes": (nodes_at, edges_at), "edges": (edges_at, strings_at),
               "strings": (strings_at, n), "anywhere": (0, n)}
    kind = rnd.choice(["flip", "truncate", "delete", "duplicate", "number", "number", "token", "string", "section",
                       "whitespace", "combo"])
    region = rnd.choice(list(regions))
    lo, hi = regions[region]
    if hi <= lo:
        lo, hi = 0, n
    d = bytearray(data)
    if kind == "flip":
        for _ in range(rnd.randint(1, 8)):
            d[rnd.randrange(lo, hi)] = rnd.choice(b'0123456789,[]{}":\\ \n\x00\xff\x1b' + bytes([rnd.randrange(256)]))
    elif kind == "truncate":
        d = d[: rnd.randrange(lo, hi)]
    elif kind == "delete":
        a = rnd.randrange(lo, hi)
        d = d[:a] + d[a + rnd.randint(1, 4096):]
    elif kind == "duplicate":
        a = rnd.randrange(lo, hi)
        b = min(n, a + rnd.randint(1, 4096))
        d = d[:b] + d[a:b] + d[b:]
    elif kind in ("number", "combo"):
        for _ in range(1 if kind == "number" else rnd.randint(2, 6)):
            span = _number_spans(bytes(d), rnd, lo, min(hi, len(d)))
            if span:
                d = d[:span[0]] + rnd.choice(INTERESTING) + d[span[1]:]
    elif kind == "token":
        a = rnd.randrange(lo, hi)
        d = d[:a] + rnd.choice([b",", b"]", b"[", b"}", b"{", b'"', b"\\", b",,", b"[]", b'""']) + d[a:]
    elif kind == "string":  # an escape inside a string of the strings section
        a = data.find(b'",', rnd.randrange(strings_at, n)) if strings_at > 0 else -1
        if a > 0:
            d = d[:a] + rnd.choice(STRING_BITS).encode() + d[a:]
    elif kind == "section":  # rename, drop or repeat a section key
        key = rnd.choice([b'"nodes"', b'"edges"', b'"strings"', b'"locations"', b'"samples"', b'"trace_tree"',
                          b'"snapshot"', b'"meta"'])
        a = bytes(d).find(key)
        if a >= 0:
            d = d[:a] + rnd.choice([b'"x\\u001b[2J"', b'"nodes"', b'"strings"', b'""', key + b":[]," + key]) + \
                d[a + len(key):]
    elif kind == "whitespace":
        a = rnd.randrange(lo, hi)
        d = d[:a] + rnd.choice([b" ", b"\n", b"\t\r\n"]) * rnd.choice([1, 100, 70_000]) + d[a:]
    return bytes(d), f"{kind}@{region}"


def snapshot_case(rnd, work: Path):
    base = (work / "base.heapsnapshot").read_bytes()
    data, what = mutate_snapshot(base, rnd)
    p = work / "case.heapsnapshot"
    p.write_bytes(data)
    before = work / "before.heapsnapshot"
    argv = rnd.choice([["diff", before, p], ["diff", "--by", "class", "--format", "json", before, p],
                       ["diff", "--ids", before, p], ["top", p], ["top", "--format", "markdown", p],
                       ["retainers", "--class", "Object", p], ["retainers", "--id", "1", p], ["diagnose", before, p]])
    return what, argv, None


# ---- crafted headers ------------------------------------------------------------------------------

JUNK = [None, True, -1, 2**32, 2**64, 1.5, "", "x\u001b", [], {}, [[[]]], {"a": {}}, ["type"], [["a"], ["b"]],
        [[f"t{i}" for i in range(40)]], ["name"] * 3]


def _int(v) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def header_case(rnd, work: Path):
    base = (work / "base.heapsnapshot").read_bytes()
    cut = base.index(b'"nodes"')
    head_text = base[:cut].rstrip().rstrip(b",") + b"}"  # {"snapshot": {...}}
    doc = json.loads(head_text)
    h = doc["snapshot"]
    meta = h["meta"]
    what = []
    for _ in range(rnd.randint(1, 3)):
        op = rnd.choice(["del", "junk", "count", "fields", "types", "deep", "dupkey", "escape"])
        what.append(op)
        if op == "del":
            target = rnd.choice([h, meta])
            if target:
                del target[rnd.choice(list(target))]
        elif op == "junk":
            target = rnd.choice([h, meta])
            target[rnd.choice(list(target) + ["extra"])] = copy.deepcopy(rnd.choice(JUNK))
        elif op == "count":
            h[rnd.choice(["node_count", "edge_count", "trace_function_count", "extra_native_bytes"])] = \
                rnd.choice([0, 1, -1, _int(h.get("node_count")) + rnd.choice([-1, 1, 7]), 2**31, 2**32 + 1, "12"])
        elif op == "fields":
            key = rnd.choice(["node_fields", "edge_fields", "location_fields"])
            v = meta.get(key)
            v = list(v) if isinstance(v, list) else []
            if v:
                rnd.choice([lambda: rnd.shuffle(v), lambda: v.pop(rnd.randrange(len(v))),
                            lambda: v.append(rnd.choice(v)), lambda: v.extend(f"f{i}" for i in range(70))])()
            meta[key] = v
        elif op == "types":
            key = rnd.choice(["node_types", "edge_types"])
            t = meta.get(key)
            if isinstance(t, list) and t and isinstance(t[0], list):
                rnd.choice([lambda: t[0].clear(), lambda: t[0].extend(f"x{i}" for i in range(40)),
                            lambda: t.__setitem__(0, "string"), lambda: rnd.shuffle(t[0])])()
    text = json.dumps(doc, separators=(",", ":"))
    if "deep" in what:
        depth = rnd.choice([50, 900, 5000, 100_000])
        text = text.replace('"meta":', '"deep":' + "[" * depth + "]" * depth + ',"meta":', 1)
    if "dupkey" in what:
        text = text.replace('"node_count":', '"node_count":0,"node_count":', 1)
    if "escape" in what:
        text = text.replace('"node_fields":["type"', '"node_fields":["ty\\u001bpe\\ud800"', 1)
    p = work / "case.heapsnapshot"
    p.write_bytes(text[:-1].encode() + b",\n" + base[cut:])  # the document goes on after the header
    argv = rnd.choice([["diff", work / "before.heapsnapshot", p], ["top", p], ["diff", "--ids", work / "before.heapsnapshot", p]])
    return "+".join(what), argv, None


# ---- gzip ---------------------------------------------------------------------------------------


def gzip_case(rnd, work: Path):
    base = (work / "base.heapsnapshot").read_bytes()
    p = work / "case.heapsnapshot.gz"
    kind = rnd.choice(["valid", "mutated", "truncated", "garbage-after", "magic-only", "random-after-magic",
                       "multi-member", "A-bomb", "ws-bomb", "double", "empty", "bad-crc", "zeros"])
    level = rnd.choice([1, 6, 9])
    if kind == "valid":
        blob = gzip.compress(base, level)
    elif kind == "mutated":
        blob = gzip.compress(mutate_snapshot(base, rnd)[0], level)
    elif kind == "truncated":
        blob = gzip.compress(base, level)
        blob = blob[: rnd.randrange(2, len(blob))]
    elif kind == "garbage-after":
        blob = gzip.compress(base, level) + os.urandom(rnd.randint(1, 64))
    elif kind == "magic-only":
        blob = b"\x1f\x8b"
    elif kind == "random-after-magic":
        blob = b"\x1f\x8b" + bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 300)))
    elif kind == "multi-member":
        k = rnd.randrange(len(base))
        blob = gzip.compress(base[:k], level) + gzip.compress(base[k:], level)
    elif kind == "A-bomb":
        blob = gzip.compress(b"A" * (rnd.choice([1, 8, 64]) << 20), 9)
    elif kind == "ws-bomb":
        blob = gzip.compress(base.rstrip() + b" " * (rnd.choice([8, 64, 96]) << 20), 9)
    elif kind == "double":
        blob = gzip.compress(gzip.compress(base, level), level)
    elif kind == "empty":
        blob = gzip.compress(b"", level)
    elif kind == "bad-crc":
        blob = gzip.compress(base, level)
        blob = blob[:-8] + bytes(rnd.randrange(256) for _ in range(8))
    else:
        blob = gzip.compress(bytes(rnd.choice([1, 16]) << 20), 9)
    p.write_bytes(blob)
    argv = rnd.choice([["diff", work / "before.heapsnapshot", p], ["top", p]])
    # keep bombs cheap: an absolute limit of 32 MiB (the ratio limit applies below it too)
    return kind, argv, {"HEAPLENS_GZIP_MAX_BYTES": rnd.choice(["32M", "40M"])}


# ---- special files ------------------------------------------------------------------------------


def special_case(rnd, work: Path):
    d = work / "special"
    d.mkdir(exist_ok=True)
    kinds = ["fifo", "fifo-link", "dev-zero", "dev-null", "dev-urandom", "socket", "dir", "link-loop", "dangling",
             "unreadable-dir-entry", "proc-file"]
    kind = rnd.choice(kinds)
    p = d / f"{kind}.heapsnapshot"
    for q in (p,):
        if q.is_symlink() or q.exists():
            if q.is_dir() and not q.is_symlink():
                shutil.rmtree(q)
            else:
                q.unlink()
    holder = None
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "fifo-link":
        f = d / "fifo-target"
        if not f.exists():
            os.mkfifo(f)
        p.symlink_to(f)
    elif kind == "dev-zero":
        p = Path("/dev/zero")
    elif kind == "dev-null":
        p = Path("/dev/null")
    elif kind == "dev-urandom":
        p = Path("/dev/urandom")
    elif kind == "socket":
        holder = socket.socket(socket.AF_UNIX)
        holder.bind(str(p))
    elif kind == "dir":
        p.mkdir()
    elif kind == "link-loop":
        p.symlink_to(p.name)
    elif kind == "dangling":
        p.symlink_to("nowhere")
    elif kind == "unreadable-dir-entry":
        p.mkdir()
        (p / "Heap.20260101.000000.1.0.001.heapsnapshot").mkdir()
    else:
        p = Path("/proc/self/status")
    before = work / "before.heapsnapshot"
    argv = rnd.choice([["diff", before, p], ["diff", "--ids", before, p], ["top", p], ["retainers", "--id", "1", p],
                       ["diagnose", before, p], ["diff", "--lane-dir", p]])
    return kind, argv, holder


# ---- manifests ----------------------------------------------------------------------------------

BEHAVIOR = {"unit": {"isolated": [{"file": "src/old.test.ts", "reason": "r"}], "singletonIsolated": ["src/s.test.ts"],
                     "threadSingleton": [], "vmForkSingleton": []}}
BEHAVIOR_NEW = {"base": {"threadPinned": ["src/p.test.ts"]},
                "unit": {"isolated": ["src/old.test.ts"], "isolatedPrefixes": ["src/pre/"]}}
HOTSPOTS = {"config": "vitest.unit.config.ts", "generatedAt": "2026-03-20T10:00:00.000Z", "defaultMinDeltaKb": 1,
            "lane": "unit-fast", "files": {"src/big.test.ts": {"deltaKb": 1111491, "sources": ["gha-1:unit-fast"]}}}
LOG = ("[test-parallel][mem] summary unit-fast files=3 peak=1.0GiB totalDelta=+1.0GiB peakAt=x "
       "top=src/a.test.ts:+412.3MiB, src/big.test.ts:+2.0GiB\n")


def mutate_json_text(text: str, rnd: random.Random) -> tuple[str, str]:
    kind = rnd.choice(["flip", "truncate", "dupkey", "deep", "wrongtype", "bom", "crlf", "escape", "invalid-utf8",
                       "huge-string", "none", "none"])
    if kind == "flip":
        t = list(text)
        for _ in range(rnd.randint(1, 4)):
            t[rnd.randrange(len(t))] = rnd.choice('{}[]":,\\ x0\n')
        return "".join(t), kind
    if kind == "truncate":
        return text[: rnd.randrange(len(text))], kind
    if kind == "dupkey":
        m = list(re.finditer(r'"([A-Za-z]+)":', text))
        k = rnd.choice(m)
        return text[:k.start()] + f'"{k.group(1)}": {rnd.choice(["[]", "{}", "1", chr(34) + "x" + chr(34)])}, ' + \
            text[k.start():], kind
    if kind == "deep":
        depth = rnd.choice([60, 70, 1000, 100_000])
        return text.replace("{", '{"deep": ' + "[" * depth + "]" * depth + ", ", 1), kind
    if kind == "wrongtype":
        doc = json.loads(text)
        paths = []

        def walk(o, path):
            paths.append(path)
            if isinstance(o, dict):
                for k, v in o.items():
                    walk(v, path + [k])
            elif isinstance(o, list):
                for i, v in enumerate(o):
                    walk(v, path + [i])
        walk(doc, [])
        path = rnd.choice(paths[1:] or [[]])
        if path:
            o = doc
            for p in path[:-1]:
                o = o[p]
            o[path[-1]] = copy.deepcopy(rnd.choice(JUNK))
        return json.dumps(doc, indent=2), kind
    if kind == "bom":
        return "\ufeff" + text, kind
    if kind == "crlf":
        return text.replace("\n", "\r\n"), kind
    if kind == "escape":
        return text.replace("src/", "src/\\u001b[2J\\ud800", 1), kind
    if kind == "invalid-utf8":
        return text, kind  # marked: written with a bad byte below
    if kind == "huge-string":
        return text.replace('"src/', '"' + "x" * 200_000 + "/src/", 1), kind
    return text, kind


def manifest_case(rnd, work: Path):
    root = work / "suite"
    if root.exists():
        shutil.rmtree(root)
    for f in ("src/a.test.ts", "src/b.test.ts", "src/old.test.ts", "src/big.test.ts", "src/pre/x.test.ts"):
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_text("")
    (root / "package.json").write_text("{}\n")
    (root / "test/fixtures").mkdir(parents=True)
    which = rnd.choice(["behavior", "behavior-new", "hotspots"])
    if which == "hotspots":
        rel = "test/fixtures/test-memory-hotspots.unit.json"
        text = json.dumps(HOTSPOTS, indent=2) + "\n"
        (work / "ci.log").write_text(LOG)
        argv = ["hotspots", "update", "--log", work / "ci.log", "--min-delta-kb", "1", "--root", root]
    else:
        rel = "test/fixtures/test-parallel.behavior.json"
        text = json.dumps(BEHAVIOR if which == "behavior" else BEHAVIOR_NEW, indent=2) + "\n"
        argv = ["isolate", root / "src/a.test.ts", "--root", root] + rnd.choice([[], ["--reason", "x\u001b[2J"],
                                                                                ["--as", "singletonIsolated"]])
    text, kind = mutate_json_text(text, rnd)
    data = text.encode("utf-8", "surrogatepass")
    if kind == "invalid-utf8":
        data = data.replace(b"src/", b"src/\xff\xfe", 1)
    path = root / rel
    path.write_bytes(data)
    link = rnd.random() < 0.15
    if link:  # through a symlink: the target must get the edit, the link must stay
        real = work / "real-manifest.json"
        real.write_bytes(data)
        path.unlink()
        path.symlink_to(real)
    return f"{which}:{kind}{'+link' if link else ''}", argv, {"manifest": path, "link": link}


def check_manifest(path: Path, before: bytes, code: int, link: bool) -> str | None:
    real = path.resolve()
    after = real.read_bytes() if real.exists() else b""
    if code != 0 and after != before:
        return f"exit {code} but the manifest changed"
    if code == 0 and after != before:
        from heaplens.inputfile import parse_json

        try:
            parse_json(after.decode("utf-8"), "written manifest")
        except Exception as exc:  # noqa: BLE001
            return f"the written manifest does not read back: {exc}"
    leftovers = [n for d in {path.parent, real.parent} for n in os.listdir(d) if n.startswith(".")]
    if leftovers:
        return f"temporary files left: {leftovers}"
    if link and not path.is_symlink():
        return "the symlink was replaced by a file"
    return None


# ---- run records ----------------------------------------------------------------------------------


def record_case(rnd, work: Path):
    """A copy of a real run directory whose run.json is corrupted (the lead's typed record, item 6)."""
    src = work / "run"
    d = work / "case-run"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(src, d, symlinks=True)
    for extra in ("report.json", "report.html"):
        if (d / extra).exists():
            (d / extra).unlink()
    text = (d / "run.json").read_text()
    text, kind = mutate_json_text(text, rnd)
    (d / "run.json").write_text(text, encoding="utf-8", errors="surrogatepass")
    argv = rnd.choice([["diagnose", d], ["diagnose", d, "--format", "json"], ["report", d, "--no-retainers"],
                       ["report", d, "--format", "markdown", "--no-retainers"]])
    return kind, argv, None


def report_case(rnd, work: Path):
    """A copy of a real run directory whose cached report (report.json, built by ``report --no-retainers``)
    is corrupted and still newer than run.json, read by the commands that reuse it (item 6)."""
    src = work / "run"
    d = work / "case-report"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(src, d, symlinks=True)
    report = d / "report.json"
    text, kind = mutate_json_text(report.read_text(), rnd)
    report.write_text(text, encoding="utf-8", errors="surrogatepass")
    later = (d / "run.json").stat().st_mtime + 10
    os.utime(report, (later, later))
    argv = rnd.choice([["report", d, "--no-retainers"], ["report", d, "--no-retainers", "--format", "markdown"],
                       ["report", d, "--no-retainers", "--format", "json"], ["report", d, "--no-retainers", "--format",
                                                                            "html", "-o", work / "case-report.html"],
                       ["diagnose", d, "--no-retainers"], ["diagnose", d, "--no-retainers", "--format", "json"]])
    return kind, argv, None


FAMILIES = {"snapshot": snapshot_case, "header": header_case, "gzip": gzip_case, "special": special_case,
            "manifest": manifest_case, "record": record_case, "report": report_case}


def run_case(family: str, seed: str, i: int, work: Path) -> dict:
    rnd = random.Random(f"{seed}:{family}:{i}")
    what, argv, extra = FAMILIES[family](rnd, work)
    env_backup = dict(os.environ)
    manifest = before = None
    holder = None
    if family == "gzip":
        os.environ.update(extra)
    elif family == "manifest":
        manifest = extra["manifest"]
        before = manifest.resolve().read_bytes()
    elif family == "special":
        holder = extra
    t = time.monotonic()
    try:
        code, out, err, tb = run_cli(argv)
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
        if holder is not None:
            holder.close()
    # isolate / hotspots echo the user's own arguments and manifest entries: only their errors are checked
    why = check_output(code, out, err, tb, stdout_printable=family != "manifest")
    if why is None and manifest is not None:
        why = check_manifest(manifest, before, code, extra["link"])
    return {"i": i, "ok": why is None, "what": what, "why": why, "argv": [str(a) for a in argv], "code": code,
            "seconds": round(time.monotonic() - t, 3)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("family", choices=sorted(FAMILIES))
    ap.add_argument("seed")
    ap.add_argument("count", type=int)
    ap.add_argument("work", type=Path)
    ap.add_argument("--only", type=int, help="run case I alone")
    ap.add_argument("--budget", type=float, default=0, help="stop starting cases after this many seconds")
    a = ap.parse_args()
    os.environ["HEAPLENS_PROGRESS"] = "0"
    t0 = time.monotonic()
    cases = [a.only] if a.only is not None else range(a.count)
    for i in cases:
        if a.budget and time.monotonic() - t0 > a.budget:
            break
        print(f"START {i}", flush=True)
        print(json.dumps(run_case(a.family, a.seed, i, a.work)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
