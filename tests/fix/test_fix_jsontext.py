"""Property: whatever the manifest's formatting, `isolate` changes it by one insertion, and the result parses
to the old data with the new entries appended."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heaplens.fix.behavior import isolate

BEH = "test/fixtures/test-parallel.behavior.json"
path_st = st.from_regex(r"src/[a-z]{1,8}(/[a-z]{1,6}){0,2}\.test\.ts", fullmatch=True)
entry_st = st.one_of(path_st, st.fixed_dictionaries({"file": path_st}, optional={"reason": st.text(max_size=20)}))
old_st = st.fixed_dictionaries({"unit": st.dictionaries(
    st.sampled_from(["isolated", "singletonIsolated", "threadSingleton", "vmForkSingleton"]),
    st.lists(entry_st, max_size=3), max_size=4)})
new_st = st.dictionaries(
    st.sampled_from(["base", "channels", "extensions", "unit"]),
    st.dictionaries(st.sampled_from(["isolated", "threadPinned"]), st.lists(entry_st, max_size=3), max_size=2),
    min_size=1, max_size=4)
style_st = st.sampled_from([dict(indent=2), dict(indent=4), dict(indent="\t"), dict(),
                            dict(separators=(",", ":")), dict(indent=2, ensure_ascii=False)])


def single_insertion(before: str, after: str) -> bool:
    """``after`` is ``before`` with one contiguous piece of text inserted."""
    p = 0
    while p < len(before) and p < len(after) and before[p] == after[p]:
        p += 1
    s = 0
    while s < len(before) - p and before[len(before) - 1 - s] == after[len(after) - 1 - s]:
        s += 1
    return p + s == len(before) and len(after) > len(before)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(old_st, new_st), style=style_st, newline=st.booleans(),
       new=st.lists(st.from_regex(r"src/n0/[a-z]{1,8}\.test\.ts", fullmatch=True), min_size=1, max_size=3, unique=True),
       reason=st.one_of(st.none(), st.text(min_size=1, max_size=20)), surface=st.sampled_from(["unit", "channels"]))
def test_isolate_is_one_insertion(data, style, newline, new, reason, surface):
    before = json.dumps(data, **style) + ("\n" if newline else "")
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "package.json").write_text("{}")
        for f in new:
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            (root / f).write_text("")
        (root / BEH).parent.mkdir(parents=True)
        (root / BEH).write_text(before)
        r = isolate(root, new, reason=reason, surface=surface)
        after = (root / BEH).read_text()
    assert r.added == new and r.written
    assert single_insertion(before, after), (before, after)
    section = data.setdefault(surface, {})
    current = section.setdefault("isolated", [])
    as_object = bool(reason) or any(isinstance(e, dict) for e in current)
    current += [({"file": f, "reason": reason} if reason else {"file": f}) if as_object else f for f in new]
    assert json.loads(after) == data
