"""The suites heaplens is measured on: real open-source ones and generated ones, set up reproducibly.

    .venv/bin/python bench/suites.py list
    .venv/bin/python bench/suites.py prepare NAME [--mirror PATH_OR_URL] [--commit SHA] [--force]
    .venv/bin/python bench/suites.py path NAME

Suites (``prepare`` writes each to ``<suites dir>/<name>``; the suites dir is ``$HEAPLENS_BENCH_SUITES``,
else ``/work/cache/suites`` when ``/work/cache`` exists, else ``bench/.cache/suites``):

- ``date-fns``  date-fns (Vitest 3, 250 test files, ``isolate: false``). From a git mirror (``--mirror``;
  default: the ``fetch`` tool's ``/work/.mirror/date-fns+date-fns/repo``). Its pnpm workspace links
  git submodules that are not in the mirror and its lockfile may need an unreachable registry, so
  ``prepare`` installs with npm only what its tests import (vitest 3, sinon, lodash, fp-ts, js-fns,
  @date-fns/tz, @date-fns/utc, pinned below), drops ``pnpm-lock.yaml``/``pnpm-workspace.yaml`` and the
  ``packageManager`` field (so the suite's package manager is npm), and drops the tsconfig
  ``references`` to the missing submodules (Vite's tsconfig loader fails every file on them).
  ``git diff`` in the checkout shows exactly that.
- ``hono``  hono (Vitest 4, ``vitest run src``: 121 files of project ``main`` plus the 9 jsx-dom
  files again in the two jsx-runtime projects; coverage on, as its config says). From a mirror
  (default ``/work/.mirror/honojs+hono/repo``); ``npm install`` of its devDependencies (its lockfile is
  bun's, which npm ignores). Nothing else is changed.
- ``gen200``  generated: 200 test files in 10 directories, Vitest 4 (tests/runner/fixtures/v4's
  lockfile), ``isolate: false`` in its config; every file does some sorting/JSON work and pushes 120
  records (~3 KB each) into a module-level array of ``src/store.js`` — a runtime leak spread over all
  files (24,000 records, ~70 MiB over the run), as in issue 12.
- ``modules3mb``  generated: 12 test files, each importing three generated ~3 MB modules
  (``src/generated/big-{0,1,2}.js``), Vitest 4, default config (isolate on).
- ``demo``  the bundled example suite (examples/demo/suite, Vitest 4): copied, ``npm ci``, ``node gen.mjs``.

Each prepared suite has ``.heaplens-bench.json``: where it came from (mirror, commit), the installed
versions, the plain command (``command``: the suite's own ``vitest run``, run through npm) and the
paths both sides get (``paths``), and the number of test files Vitest lists. ``prepare`` is idempotent:
a suite whose marker matches is left alone (``--force`` redoes it). Not run in CI (network, minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FIXTURES = REPO / "tests" / "runner" / "fixtures"
MARKER = ".heaplens-bench.json"

# What date-fns' tests import (grep of `from "…"` in src/**/test.ts), at the versions this was measured with.
# Its own package.json names the @date-fns ones `workspace:^` (git submodules); the registry's releases work.
DATE_FNS_TEST_DEPS = {
    "vitest": "3.2.7",
    "sinon": "7.5.0",
    "lodash": "4.18.1",
    "fp-ts": "2.16.11",
    "js-fns": "2.5.2",
    "@date-fns/tz": "1.5.0",
    "@date-fns/utc": "2.1.1",
}

SUITE_NAMES = ("date-fns", "hono", "gen200", "modules3mb", "demo")


class PrepareError(Exception):
    pass


def suites_dir() -> Path:
    env = os.environ.get("HEAPLENS_BENCH_SUITES")
    if env:
        return Path(env).resolve()
    if Path("/work/cache").is_dir():
        return Path("/work/cache/suites")
    return HERE / ".cache" / "suites"


def suite_path(name: str) -> Path:
    return suites_dir() / name


def read_marker(path: Path) -> dict | None:
    try:
        return json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return None


def log(msg: str) -> None:
    print(f"[suites] {msg}", file=sys.stderr, flush=True)


def sh(argv: list[str], cwd: Path, env: dict | None = None, quiet: bool = True) -> str:
    cp = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if cp.returncode != 0:
        tail = "\n".join((cp.stderr or cp.stdout).strip().splitlines()[-15:])
        raise PrepareError(f"`{' '.join(argv[:4])} …` failed in {cwd} (exit {cp.returncode}):\n{tail}")
    return cp.stdout


def npm(*args: str, cwd: Path) -> None:
    sh(["npm", *args, "--no-audit", "--no-fund", "--loglevel=error"], cwd)


def installed_version(root: Path, package: str) -> str | None:
    try:
        return json.loads((root / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def count_files(root: Path, paths: list[str]) -> int:
    """Test files as Vitest lists them (a file in two projects counted once)."""
    with tempfile.TemporaryDirectory(prefix="suites-list-") as tmp:
        out = Path(tmp) / "list.json"
        script = root / "node_modules" / "vitest" / "vitest.mjs"
        sh(["node", str(script), "list", "--filesOnly", f"--json={out}", *paths], root,
           env={**os.environ, "CI": "true"})
        data = json.loads(out.read_text() or "[]")
    return len({(e.get("file") if isinstance(e, dict) else e) for e in data})


# --------------------------------------------------------------------------------------------- real suites

def default_mirror(repo: str) -> str:
    return f"/work/.mirror/{repo.replace('/', '+')}/repo"


def checkout(mirror: str, dest: Path, commit: str | None) -> str:
    """A fresh clone of ``mirror`` (a bare git dir from the fetch tool, or any git URL) at ``commit``
    (default: the mirror's HEAD). Returns the commit."""
    if not (mirror.startswith(("http://", "https://", "git@")) or Path(mirror).exists()):
        raise PrepareError(f"no git mirror at {mirror}: bring the repository with the `fetch` tool, or give "
                           "--mirror PATH_OR_URL")
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    log(f"clone {mirror} → {dest}")
    sh(["git", "clone", "--quiet", "--no-checkout", mirror, str(dest)], dest.parent)
    rev = commit or "HEAD"
    sh(["git", "checkout", "--quiet", "--detach", rev], dest)
    return sh(["git", "rev-parse", "HEAD"], dest).strip()


def prune_tsconfig_references(root: Path) -> list[str]:
    """Drop ``{ "path": … }`` entries of tsconfig ``references`` that point at nothing (submodules absent
    from the mirror): Vite's tsconfig loader follows them and fails every test file. Text-level, so the
    files' comments and layout stay as they are. Returns the files changed."""
    changed = []
    entry = re.compile(r'\{\s*"path"\s*:\s*"([^"]+)"\s*\}\s*,?[ \t]*\n?')
    for f in sorted(root.rglob("tsconfig*.json")):
        if "node_modules" in f.parts:
            continue
        text = f.read_text()

        def keep(m: re.Match) -> str:
            target = f.parent / m.group(1)
            ok = (target / "tsconfig.json").is_file() if target.is_dir() else target.is_file()
            return m.group(0) if ok else ""

        new = entry.sub(keep, text)
        if new != text:
            # a now-trailing comma before `]` would break strict JSON readers
            new = re.sub(r",(\s*\])", r"\1", new)
            f.write_text(new)
            changed.append(str(f.relative_to(root)))
    return changed


def prepare_date_fns(dest: Path, mirror: str, commit: str | None) -> dict:
    sha = checkout(mirror, dest, commit)
    pkg_path = dest / "package.json"
    pkg = json.loads(pkg_path.read_text())
    pkg["devDependencies"] = dict(DATE_FNS_TEST_DEPS)
    pkg.pop("packageManager", None)
    pkg_path.write_text(json.dumps(pkg, indent=2) + "\n")
    for name in ("pnpm-lock.yaml", "pnpm-workspace.yaml"):
        (dest / name).unlink(missing_ok=True)
    pruned = prune_tsconfig_references(dest)
    log("npm install (the packages date-fns' tests import)")
    npm("install", cwd=dest)
    return {"commit": sha, "mirror": mirror, "changes": {
        "package.json": "devDependencies replaced by what the tests import; packageManager removed",
        "removed": ["pnpm-lock.yaml", "pnpm-workspace.yaml"],
        "tsconfig references to missing submodules dropped": pruned}}


def prepare_hono(dest: Path, mirror: str, commit: str | None) -> dict:
    sha = checkout(mirror, dest, commit)
    log("npm install (its devDependencies; bun.lock is not read by npm)")
    npm("install", cwd=dest)
    return {"commit": sha, "mirror": mirror, "changes": {"package-lock.json": "written by npm install"}}


# ---------------------------------------------------------------------------------------- generated suites

def install_fixture(dest: Path, major: int) -> None:
    """package.json + package-lock.json of tests/runner/fixtures/v<major>, installed with npm ci."""
    fixture = FIXTURES / f"v{major}"
    if not (fixture / "package-lock.json").is_file():
        raise PrepareError(f"no Vitest {major} fixture lockfile at {fixture}")
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(fixture / name, dest / name)
    log(f"npm ci (Vitest {major} from {fixture.relative_to(REPO)})")
    npm("ci", cwd=dest)


GEN200_STORE = """// generated by bench/suites.py: a module-level log that every test file appends to and nobody clears
export const events = [];
export function record(kind, payload) {
  events.push({ kind, payload, at: events.length });
}
"""

GEN200_TEST = """import {{ test, expect }} from 'vitest';
import {{ record }} from '../../src/store.js';

// file {i}: ~0.2 s of work (sorting, JSON, a short wait as for I/O); each test leaves 30 records (~3 KB each) in
// the shared store
const rows = Array.from({{ length: 3000 }}, (_, k) => ({{ id: k, name: 'row-' + ((k * 7919 + {i}) % 1000) }}));
for (let t = 0; t < 4; t++) {{
  test('case ' + t, async () => {{
    const sorted = [...rows].sort((a, b) => a.name.localeCompare(b.name));
    await new Promise((r) => setTimeout(r, 30));
    for (let r = 0; r < 30; r++) record('file{i}-' + t, JSON.stringify(sorted.slice(r * 60, r * 60 + 60)));
    expect(JSON.parse(JSON.stringify(sorted)).length).toBe(3000);
  }});
}}
"""

GEN200_CONFIG = """import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    isolate: false,
  },
});
"""


def prepare_gen200(dest: Path, files: int = 200, major: int = 4) -> dict:
    if dest.exists():
        shutil.rmtree(dest)
    install_fixture(dest, major)
    (dest / "src").mkdir()
    (dest / "src" / "store.js").write_text(GEN200_STORE)
    (dest / "vitest.config.js").write_text(GEN200_CONFIG)
    for i in range(files):
        d = dest / "test" / f"group{i % 10}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:03d}.test.js").write_text(GEN200_TEST.format(i=i))
    return {"generator": f"bench/suites.py gen200 files={files} vitest={major}"}


def big_module(m: int, target_bytes: int) -> str:
    """A generated module of about ``target_bytes``: functions with string tables, as code generators and
    i18n catalogs write them."""
    out = [f"// generated by bench/suites.py: big module {m}"]
    size = len(out[0])
    i = 0
    while size < target_bytes:
        words = " ".join(f"w{m}_{i}_{k}_{((m * 7919 + i * 104729 + k) % 99991):x}" for k in range(14))
        fn = (f"export function entry{i}(x) {{\n  const label = {json.dumps(words)};\n"
              f"  const table = {{ id: {i}, key: 'k{m}_{i}', size: label.length }};\n"
              f"  return x > 0 ? table.size + x : label.split(' ').length;\n}}")
        out.append(fn)
        size += len(fn) + 1
        i += 1
    out.append(f"export const count = {i};")
    out.append("export function some(x) { let s = 0; for (let k = 0; k < 50; k++) s += entry" + "0(x + k); return s; }")
    return "\n".join(out) + "\n"


MODULES_TEST = """import {{ test, expect }} from 'vitest';
import * as a from '../src/generated/big-0.js';
import * as b from '../src/generated/big-1.js';
import * as c from '../src/generated/big-2.js';

test('file {i}: the three catalogs answer', () => {{
  for (const m of [a, b, c]) expect(m.some({i})).toBeGreaterThan(0);
  expect(a.entry{k}(1) + b.entry{k}(1) + c.entry{k}(1)).toBeGreaterThan(3);
}});
"""


def prepare_modules3mb(dest: Path, files: int = 12, megabytes: float = 3.0, major: int = 4) -> dict:
    if dest.exists():
        shutil.rmtree(dest)
    install_fixture(dest, major)
    gen = dest / "src" / "generated"
    gen.mkdir(parents=True)
    for m in range(3):
        (gen / f"big-{m}.js").write_text(big_module(m, int(megabytes * 1024 * 1024)))
    (dest / "test").mkdir()
    for i in range(files):
        (dest / "test" / f"catalog-{i:02d}.test.js").write_text(MODULES_TEST.format(i=i, k=i * 97))
    return {"generator": f"bench/suites.py modules3mb files={files} modules=3x{megabytes:g}MB vitest={major}"}


def prepare_demo(dest: Path) -> dict:
    src = REPO / "examples" / "demo" / "suite"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("node_modules", ".heaplens", "generated"))
    log("npm ci + node gen.mjs (the demo suite)")
    npm("ci", cwd=dest)
    sh(["node", "gen.mjs"], dest)
    return {"generator": "examples/demo/suite (copied), node gen.mjs"}


# ------------------------------------------------------------------------------------------------ commands

PLAIN = ["npm", "exec", "--no", "--", "vitest", "run"]


def spec(name: str) -> dict:
    """What the benchmark runs for a suite: the plain command's paths (the heaplens side gets the same)."""
    return {
        "date-fns": {"paths": [], "repo": "date-fns/date-fns"},
        "hono": {"paths": ["src"], "repo": "honojs/hono"},
        "gen200": {"paths": []},
        "modules3mb": {"paths": []},
        "demo": {"paths": []},
    }[name]


def prepare(name: str, mirror: str | None = None, commit: str | None = None, force: bool = False) -> Path:
    if name not in SUITE_NAMES:
        raise PrepareError(f"unknown suite {name!r} (one of: {', '.join(SUITE_NAMES)})")
    dest = suite_path(name)
    marker = read_marker(dest)
    if marker and not force and (commit is None or marker.get("commit") == commit) \
            and (dest / "node_modules" / "vitest").is_dir():
        log(f"{name}: already prepared at {dest} (--force redoes it)")
        return dest
    t0 = time.monotonic()
    s = spec(name)
    if name == "date-fns":
        info = prepare_date_fns(dest, mirror or default_mirror(s["repo"]), commit)
    elif name == "hono":
        info = prepare_hono(dest, mirror or default_mirror(s["repo"]), commit)
    elif name == "gen200":
        info = prepare_gen200(dest)
    elif name == "modules3mb":
        info = prepare_modules3mb(dest)
    else:
        info = prepare_demo(dest)
    n = count_files(dest, s["paths"])
    marker = {
        "name": name,
        **info,
        "vitest": installed_version(dest, "vitest"),
        "node": node_version(),
        "command": [*PLAIN, *s["paths"]],
        "paths": s["paths"],
        "files": n,
        "prepared_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "prepare_seconds": round(time.monotonic() - t0, 1),
    }
    (dest / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    log(f"{name}: ready at {dest} (Vitest {marker['vitest']}, {n} test files, {marker['prepare_seconds']} s)")
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="the suites and whether they are prepared")
    p = sub.add_parser("prepare", help="set a suite up (idempotent)")
    p.add_argument("names", nargs="+", metavar="NAME", help=f"{', '.join(SUITE_NAMES)} or all")
    p.add_argument("--mirror", help="git mirror path or URL (real suites; default the fetch tool's mirror)")
    p.add_argument("--commit", help="check out this commit (real suites; default the mirror's HEAD)")
    p.add_argument("--force", action="store_true", help="redo it even when already prepared")
    q = sub.add_parser("path", help="print where a suite is")
    q.add_argument("name", choices=SUITE_NAMES)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "list":
            for name in SUITE_NAMES:
                m = read_marker(suite_path(name))
                state = f"prepared (Vitest {m.get('vitest')}, {m.get('files')} files, {m.get('prepared_at')})" \
                    if m else "not prepared"
                print(f"{name:11s} {suite_path(name)}  {state}")
        elif a.cmd == "path":
            print(suite_path(a.name))
        else:
            names = list(SUITE_NAMES) if a.names == ["all"] else a.names
            if len(names) > 1 and (a.mirror or a.commit):
                raise PrepareError("--mirror/--commit apply to one suite at a time")
            for name in names:
                prepare(name, a.mirror, a.commit, a.force)
    except PrepareError as exc:
        print(f"suites: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
