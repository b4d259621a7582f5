"""Which hono test files fail without isolation, and after which other files (bench/README.md, "Why hono's tests
fail under heaplens run").

    .venv/bin/python bench/suites.py prepare hono
    .venv/bin/python bench/hono_isolation.py orders             # all files of project main, one worker, no isolation:
                                                                 # alphabetical, reversed, and alphabetical isolated
    .venv/bin/python bench/hono_isolation.py pairs VICTIM [CANDIDATE…]   # [candidate, victim] in one worker

Runs hono's own config with a sequencer that keeps a given file order (a config written to
``<hono>/.heaplens-bench/``, removed afterwards), ``vitest run --project main --maxWorkers=1
--coverage.enabled=false`` and Vitest's JSON reporter. Prints the failing files and tests; ``--json FILE`` keeps
them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import suites as S  # noqa: E402

ORDERED = """// heaplens bench: hono's own config, files run in the order of $HL_ORDER (comma-separated, relative paths)
import { mergeConfig } from 'vitest/config'
import base from '../vitest.config'

class Ordered {
  constructor(ctx) { this.ctx = ctx }
  async shard(files) { return files }
  async sort(files) {
    const order = (process.env.HL_ORDER ?? '').split(',')
    const key = (f) => {
      const id = Array.isArray(f) ? f[1] : (f.moduleId ?? f.filepath ?? '')
      const i = order.findIndex((o) => id.endsWith('/' + o))
      return i < 0 ? 1e9 : i
    }
    return [...files].sort((a, b) => key(a) - key(b))
  }
}
export default mergeConfig(base, { test: { sequence: { sequencer: Ordered } } })
"""

# files that render hono's JSX server-side streaming, ErrorBoundary or viewTransition, or replace globals with
# jsdom's: the candidates for `pairs` when none are given
CANDIDATES = """src/helper/css/index.test.tsx src/helper/streaming/sse.test.tsx src/helper/streaming/stream.test.ts
src/jsx/components.test.tsx src/jsx/context-isolation.test.ts src/jsx/dom/client.test.tsx src/jsx/dom/components.test.tsx
src/jsx/dom/context.test.tsx src/jsx/dom/css.test.tsx src/jsx/dom/hooks/index.test.tsx src/jsx/dom/index.test.tsx
src/jsx/dom/intrinsic-element/components.test.tsx src/jsx/hooks/dom.test.tsx src/jsx/index.test.tsx
src/jsx/streaming.test.tsx src/middleware/jsx-renderer/index.test.tsx src/helper/proxy/index.test.ts""".split()


class Hono:
    def __init__(self, root: Path):
        self.root = root
        self.dir = root / ".heaplens-bench"
        self.dir.mkdir(exist_ok=True)
        self.config = self.dir / "ordered.config.mjs"
        self.config.write_text(ORDERED)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def files(self) -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "l.json"
            subprocess.run(["node", "node_modules/vitest/vitest.mjs", "list", "--project", "main", "--filesOnly",
                            f"--json={out}", "src"], cwd=self.root, capture_output=True, env={**os.environ, "CI": "true"})
            data = json.loads(out.read_text())
        return sorted({Path(e["file"]).relative_to(self.root).as_posix() for e in data})

    def run(self, files: list[str], isolate: bool = False) -> dict[str, list[str]]:
        """{file: [failed test titles]} for the files run in this order in one worker."""
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "r.json"
            subprocess.run(["node", "node_modules/vitest/vitest.mjs", "run", "--config", str(self.config),
                            "--project", "main", "--isolate" if isolate else "--no-isolate", "--maxWorkers=1",
                            "--coverage.enabled=false", "--reporter=json", f"--outputFile={out}", *files],
                           cwd=self.root, capture_output=True, timeout=1800,
                           env={**os.environ, "CI": "true", "HL_ORDER": ",".join(files)})
            data = json.loads(out.read_text())
        return {Path(r["name"]).relative_to(self.root).as_posix():
                [a["title"] for a in r["assertionResults"] if a["status"] == "failed"] for r in data["testResults"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("orders", "pairs"))
    ap.add_argument("files", nargs="*", help="pairs: the victim, then candidates (default: the usual suspects)")
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args(argv)
    root = S.suite_path("hono")
    if S.read_marker(root) is None:
        print("hono is not prepared: .venv/bin/python bench/suites.py prepare hono", file=sys.stderr)
        return 2
    h = Hono(root)
    out: dict = {}
    try:
        if a.what == "orders":
            files = h.files()
            for name, order, iso in (("alphabetical", files, False), ("reversed", files[::-1], False),
                                     ("alphabetical, isolated", files, True)):
                res = h.run(order, isolate=iso)
                failed = {f: t for f, t in res.items() if t}
                out[name] = failed
                print(f"{name}: {sum(map(len, failed.values()))} failed tests in {len(failed)} files (of {len(res)})")
                for f, t in failed.items():
                    print(f"  {f} ({len(t)}): {'; '.join(t[:3])}{' …' if len(t) > 3 else ''}")
        else:
            if not a.files:
                ap.error("pairs needs a victim file")
            victim, cands = a.files[0], a.files[1:] or [c for c in CANDIDATES if c != a.files[0]]
            alone = h.run([victim]).get(victim, [])
            print(f"{victim} alone: {len(alone)} failed")
            for c in cands:
                res = h.run([c, victim]).get(victim, [])
                out[c] = res
                if res:
                    print(f"  after {c}: {len(res)} failed ({'; '.join(res[:2])}{' …' if len(res) > 2 else ''})")
            print(f"  passes after the {sum(1 for v in out.values() if not v)} other candidates")
    finally:
        h.close()
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
