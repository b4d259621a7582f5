"""Where an isolation fix goes, and the one interface every target's editor has.

``plan(root, files, behavior_manifest=, reason=)`` → :class:`Change`: the edit that runs ``files`` each in a
fresh worker, in the file the suite's own runner reads —

- the project's OpenClaw behavior manifest (``test/fixtures/test-parallel.behavior.json`` or the one the run
  was planned with) **when the project has one**: its planner is what reads it (:mod:`heaplens.fix.behavior`);
- otherwise the suite's **Vitest config** (``vitest.config.*`` / ``vite.config.*`` / a workspace file; a new
  ``vitest.config.mjs`` when there is none): a project of their own with ``isolate: true``
  (:mod:`heaplens.fix.vitest_config`) — what plain ``vitest run`` and ``npm test`` read in CI.

A :class:`Change` is: ``target`` (the file), ``kind`` (``behavior-manifest`` | ``vitest-config``), ``diff``
(unified, "" when nothing changes), ``refused_reason`` + ``patch`` (a config too dynamic to edit safely: the
reason, and the change for a person to make), ``notes``, ``original``/``text`` (the file before and after;
``original`` None for a new file) and ``apply(dry_run=False)``: writes atomically (temporary file, fsync,
rename) and only when the file is still what was planned; ``dry_run`` writes nothing. Every byte outside the
edited node stays as it was. A Jest config editor (issue 16) returns the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..runner import manifests as M
from .behavior import isolate
from .common import manifest_path
from .vitest_config import Edit, plan_isolation


@dataclass
class Change:
    target: Path
    kind: str  # "behavior-manifest" | "vitest-config"
    files: list[str]
    diff: str = ""
    refused_reason: str | None = None
    patch: str = ""
    notes: list[str] = field(default_factory=list)
    original: str | None = None
    text: str | None = None
    written: bool = False
    _edit: Edit | None = field(default=None, repr=False)
    _manifest: dict | None = field(default=None, repr=False)

    @property
    def refused(self) -> bool:
        return self.refused_reason is not None

    def apply(self, dry_run: bool = False) -> bool:
        """Write the change (atomically); False when ``dry_run``, refused or nothing to change."""
        if self.refused or dry_run or not self.diff:
            return False
        if self._edit is not None:
            self.written = self._edit.apply()
        else:
            if self.target.read_bytes().decode("utf-8", errors="replace") != self.original:
                raise UsageError(f"{self.target} changed since the edit was planned (nothing written): plan it again")
            res = isolate(**self._manifest)
            self.written = res.written
        return self.written


def plan(root: str | Path, files: list[str], *, behavior_manifest: str | Path | None = None,
         reason: str | None = None) -> Change:
    """The isolation change for ``files`` (relative to ``root``), planned, nothing written."""
    root = Path(root)
    if not files:
        raise UsageError("no test files to isolate")
    manifest = manifest_path(root, behavior_manifest, M.DEFAULT_BEHAVIOR)
    if manifest.is_file():
        args = {"root": root, "files": list(files), "reason": reason, "kind": "isolated",
                "behavior_path": manifest}
        res = isolate(**args, dry_run=True)
        original = res.before  # as isolate read it (the file exists: it is not created)
        notes = [f"{p} already in {where}" for p, where in res.already]
        return Change(target=manifest, kind="behavior-manifest", files=list(res.added), diff=res.diff,
                      notes=notes, original=original, text=res.text if res.diff else original, _manifest=args)
    edit = plan_isolation(None, list(files), root=root, reason=reason)
    return Change(target=edit.path, kind="vitest-config", files=list(edit.files), diff=edit.diff,
                  refused_reason=edit.refused_reason, patch=edit.patch, notes=list(edit.notes),
                  original=edit.original, text=edit.text, _edit=edit)
