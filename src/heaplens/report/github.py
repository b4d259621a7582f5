"""GitHub Actions workflow commands: annotations on the files a report's findings or a check name.

``::warning file=PATH,line=N,title=T::MESSAGE`` — escaped as GitHub's runner and toolkit expect: in the message
``%`` → ``%25``, CR → ``%0D``, LF → ``%0A``; in a property also ``:`` → ``%3A`` and ``,`` → ``%2C``. Before
that, every control or bidi character is shown as an escape (:func:`heaplens.printable.line`), so a
name from a heap snapshot can neither end the command early nor start another one. PATH is relative to the
repository (``$GITHUB_WORKSPACE``; elsewhere the current directory), where GitHub places the annotation on
the file's diff. GitHub shows at most 10 annotations of each level per step: the most important come first
and a last ``::notice`` says how many more the report holds.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import printable
from ..units import fmt_size
from .findings import LABEL

PER_STEP = 10  # annotations of one level GitHub shows per step
TEST_FILES_PER_FINDING = 3


def escape_data(text) -> str:
    # (CR and LF, GitHub's %0D and %0A, never get here: printable.line shows them as escapes)
    return printable.line(text).replace("%", "%25")


def escape_property(text) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, *, file: str | None = None, line: int | None = None,
            title: str | None = None) -> str:
    """One workflow command line (``level``: error, warning, notice)."""
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
        if line:
            props.append(f"line={int(line)}")
    if title:
        props.append(f"title={escape_property(title)}")
    return f"::{level}{' ' + ','.join(props) if props else ''}::{escape_data(message)}"


def enabled(flag: bool | None) -> bool:
    """``--annotations`` / ``--no-annotations``, else on when running in GitHub Actions."""
    if flag is not None:
        return flag
    return os.environ.get("GITHUB_ACTIONS") == "true"


def repo_path(root: str | None, file: str | None) -> str | None:
    """A suite file (relative to the suite root) as a path relative to the repository."""
    if not file:
        return None
    p = Path(file)
    if not p.is_absolute():
        if not root:
            return file
        p = Path(root) / p
    base = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except (ValueError, OSError):
        return file if not Path(file).is_absolute() else p.as_posix()


class Annotations:
    """Annotations of one command, capped per level (most important first)."""

    def __init__(self, limit: int = PER_STEP):
        self.limit = limit
        self.lines: list[str] = []
        self.count: dict[str, int] = {}
        self.dropped: dict[str, int] = {}
        self._seen: set[tuple] = set()

    def add(self, level: str, message: str, *, file: str | None = None, line: int | None = None,
            title: str | None = None) -> None:
        key = (level, file, line, message)
        if key in self._seen:
            return
        self._seen.add(key)
        if self.count.get(level, 0) >= self.limit:
            self.dropped[level] = self.dropped.get(level, 0) + 1
            return
        self.count[level] = self.count.get(level, 0) + 1
        self.lines.append(command(level, message, file=file, line=line, title=title))

    def finish(self, where: str | None = None) -> list[str]:
        out = list(self.lines)
        more = sum(self.dropped.values())
        if more:
            out.append(command("notice", f"{more} more heaplens annotation(s) not shown (GitHub shows "
                                         f"{self.limit} per level and step)" + (f": see {where}" if where else ""),
                               title="heaplens"))
        return out


def finding_message(f: dict) -> str:
    per_file = f.get("per_file")
    growth = fmt_size(f.get("retained_growth") or 0, signed=True)
    parts = [f"{f.get('title')}: {growth} retained"]
    if per_file:
        parts.append(f"{fmt_size(per_file, signed=True)}/file")
    if f.get("projected") and f.get("files_in_lane"):
        parts.append(f"{fmt_size(f['projected'], signed=True)} over the lane's {f['files_in_lane']} files")
    text = ", ".join(parts) + f" ({f.get('severity')}, lane {f.get('lane')}, pid {f.get('pid')})"
    fix = (f.get("fix") or {}).get("text")
    return text + (f". Fix: {fix}" if fix else "")


def add_findings(ann: Annotations, doc: dict, level: str = "warning") -> None:
    """The holder's source line and the test files of every finding of a report model, biggest first."""
    root = (doc.get("run") or {}).get("root")
    findings = list(doc.get("findings") or [])
    title = lambda f: f"heaplens: {LABEL.get(f.get('kind'), f.get('kind'))}"
    # first each finding's holder line, then their test files: the cap keeps the causes
    for f in findings:
        h = f.get("holder") or {}
        path = repo_path(root, h.get("file"))
        if path:
            ann.add(level, finding_message(f), file=path, line=h.get("line"), title=title(f))
        elif not (f.get("fix") or {}).get("files"):
            ann.add(level, finding_message(f), title=title(f))
    for f in findings:
        for test in ((f.get("fix") or {}).get("files") or [])[:TEST_FILES_PER_FINDING]:
            ann.add(level, f"{test} adds to {f.get('title')} ({f.get('severity')}, lane {f.get('lane')})"
                    + (f". Fix: {f['fix']['text']}" if (f.get("fix") or {}).get("text") else ""),
                    file=repo_path(root, test), title=title(f))


def report_annotations(doc: dict, limit: int = PER_STEP) -> list[str]:
    ann = Annotations(limit)
    add_findings(ann, doc)
    html = Path((doc.get("run") or {}).get("dir") or ".") / "report.html"
    return ann.finish(str(html))
