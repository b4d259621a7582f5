"""The Vitest config edit (heaplens.fix.vitest_config) on a prepared real suite, checked by its own Vitest.

    .venv/bin/python bench/check_vitest_config.py date-fns src/format/test.ts src/eachMinuteOfInterval/test.ts [--run]
    .venv/bin/python bench/check_vitest_config.py hono src/jsx/streaming.test.tsx src/jsx/dom/css.test.tsx [--run]

Plans the edit of the suite's config for the given files, prints the diff, writes the edited config beside the
original under another name (the suite's own file is not touched), and runs ``vitest list --filesOnly --json``
with it: every project and its file count, and where the given files are. ``--run`` also runs the edited
projects (``vitest run --project P`` for the isolated ones and the shared ones they came from) and prints Vitest's
summary lines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import suites as S  # noqa: E402
from heaplens.fix.vitest_config import find_config, plan_isolation  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", choices=S.SUITE_NAMES)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--run", action="store_true")
    a = ap.parse_args(argv)
    root = S.suite_path(a.suite)
    if S.read_marker(root) is None:
        print(f"{a.suite} is not prepared: .venv/bin/python bench/suites.py prepare {a.suite}", file=sys.stderr)
        return 2
    cfg = find_config(root)
    edit = plan_isolation(cfg, a.files, root=root)
    if edit.refused:
        print(edit.patch)
        return 1
    print(edit.diff)
    for n in edit.notes:
        print("note:", n)
    if edit.path != cfg:
        print(f"the edit is of {edit.path.name}, not checked here", file=sys.stderr)
        return 1
    check = cfg.with_name("vitest.heaplens-check" + cfg.suffix)
    check.write_text(edit.text)
    env = {**os.environ, "CI": "true", "NO_COLOR": "1"}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "l.json"
            subprocess.run(["node", "node_modules/vitest/vitest.mjs", "list", "--filesOnly", f"--json={out}",
                            "--config", str(check)], cwd=root, env=env, capture_output=True)
            data = json.loads(out.read_text())
        by: dict[str, list[str]] = {}
        for e in data:
            by.setdefault(e.get("projectName") or "", []).append(Path(e["file"]).relative_to(root).as_posix())
        for name, files in sorted(by.items()):
            mine = [f for f in files if f in a.files]
            print(f"{name:32s} {len(files):4d} files" + (f"   given: {', '.join(mine)}" if mine else ""))
        if a.run:
            for project in edit.isolated_projects + edit.shared_projects:
                cp = subprocess.run(["node", "node_modules/vitest/vitest.mjs", "run", "--config", str(check),
                                     "--project", project, "--coverage.enabled=false"], cwd=root, env=env,
                                    capture_output=True, text=True)
                lines = [l.strip() for l in ANSI.sub("", cp.stdout).splitlines() if l.strip().startswith(("Test Files", "Tests"))]
                print(f"vitest run --project {project}: exit {cp.returncode}; " + "; ".join(lines))
    finally:
        check.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
