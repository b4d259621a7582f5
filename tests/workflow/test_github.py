"""GitHub workflow commands: escaped per the runner's rules, capped per level, paths relative to the repository."""

from __future__ import annotations

from heaplens.report.github import Annotations, command, escape_data, escape_property, repo_path


def _unescape_data(s: str) -> str:
    """The runner's reading of a command's message (actions/runner: ActionCommand.Unescape)."""
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def test_escaping():
    assert escape_data("50% of\r\nit") == "50%25 of\\u000d\\u000ait"  # control characters are shown, never sent
    assert escape_property("a:b,c%d") == "a%3Ab%2Cc%25d"
    hostile = "x\n::error::injected\x1b[2J%0A,:"
    line = command("warning", hostile, file="src/a,b:c.js", line=7, title="t:1,2")
    assert "\n" not in line and "\x1b" not in line
    head, _, message = line.partition("::")[2].partition("::")
    assert head == "warning file=src/a%2Cb%3Ac.js,line=7,title=t%3A1%2C2"
    # what the runner reads back: the message as printable text, no second command, the % kept
    assert _unescape_data(message) == "x\\u000a::error::injected\\u001b[2J%0A,:"
    props = dict(p.split("=", 1) for p in head.split(" ", 1)[1].split(","))
    assert _unescape_property(props["file"]) == "src/a,b:c.js" and _unescape_property(props["title"]) == "t:1,2"
    assert command("notice", "plain") == "::notice::plain"
    assert command("error", "m", line=3) == "::error::m"  # a line without a file means nothing


def test_cap_per_level():
    ann = Annotations(limit=2)
    for i in range(5):
        ann.add("warning", f"w{i}", file="a.js")
    ann.add("warning", "w0", file="a.js")  # the same annotation once
    ann.add("error", "e", file="a.js")
    lines = ann.finish("report.html")
    assert lines[:3] == ["::warning file=a.js::w0", "::warning file=a.js::w1", "::error file=a.js::e"]
    assert lines[3].startswith("::notice title=heaplens::3 more heaplens annotation(s) not shown")
    assert len(lines) == 4


def test_paths_relative_to_the_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    assert repo_path(str(tmp_path / "packages" / "shop"), "test/a.test.js") == "packages/shop/test/a.test.js"
    assert repo_path("/elsewhere/suite", "test/a.test.js") == "test/a.test.js"
    assert repo_path(None, "test/a.test.js") == "test/a.test.js"
    assert repo_path(str(tmp_path), None) is None
