"""``heaplens isolate``: list test files in the behavior manifest so the planner gives them their own lane."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import BaseCommand


class Command(BaseCommand):
    name = "isolate"
    help = "move test files out of the shared lanes (behavior manifest)"
    description = (
        "Add FILE… to the behavior manifest (default test/fixtures/test-parallel.behavior.json under the "
        "suite root; created with OpenClaw's old schema when missing) as <surface>.isolated (a lane of its "
        "own per file) or unit.singletonIsolated (the old schema's one-worker singleton lanes). Existing "
        "entries and the file's formatting are kept byte for byte; files already listed are reported, not "
        "added again; a missing file is refused and nothing is written."
    )

    examples = ("heaplens isolate src/cache.test.ts", "heaplens isolate a.test.ts b.test.ts --reason \"heaplens run X\"",
                "heaplens isolate src/big.test.ts --as singletonIsolated --dry-run")

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("files", nargs="+", metavar="FILE", help="test file (relative to here or to the suite root)")
        p.add_argument("--reason", metavar="TEXT", help="why (stored as {\"file\", \"reason\"} entries)")
        p.add_argument("--as", dest="kind", choices=("isolated", "singletonIsolated"), default="isolated",
                       help="the list to add to (default isolated)")
        p.add_argument("--surface", default="unit", help="the manifest section (default unit)")
        p.add_argument("--behavior", metavar="PATH", help="the manifest, relative to the suite root "
                       "(default test/fixtures/test-parallel.behavior.json)")
        p.add_argument("--root", metavar="DIR", help="the suite root (default: nearest package.json upwards)")
        p.add_argument("--dry-run", action="store_true", help="print the change as a diff, write nothing")

    def run(self, args: argparse.Namespace) -> int:
        from ..fix.behavior import isolate  # deferred: see commands/__init__
        from ..runner.session import resolve_root

        root = resolve_root(args.root, [])
        r = isolate(root, args.files, reason=args.reason, kind=args.kind, behavior_path=args.behavior,
                    surface=args.surface, dry_run=args.dry_run)
        label = shown_path(r.path)
        for f in r.already:
            print(f"already listed: {f[0]} ({f[1]} in {label})")
        verb = "would add" if args.dry_run else "added"
        for f in r.added:
            print(f"{verb} {f} to {label}: {r.where}" + (f' reason="{args.reason}"' if args.reason else ""))
        if r.created and r.written:
            print(f"created {label}")
        if args.dry_run and r.diff:
            sys.stdout.write(r.diff)
        return 0


def shown_path(path) -> str:
    """The manifest as the user would type it: relative to the working directory when inside it."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)
