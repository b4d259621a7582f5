"""Where heaplens says a function is: the line on disk, from V8's line in the code it compiled."""

from __future__ import annotations

import json
import re

import numpy as np

from heaplens.diagnose.naming import DeclarationIndex, declaration_at, declaration_pattern, location
from heaplens.graph import HeapGraph, read_for_graph
from helpers import HERE, JS, requires_node, run_node

HEADER = "".join(f"// line {i}: a header long enough to push the code past the 1,024 characters V8 keeps\n"
                 for i in range(1, 15))
OUTBOX = HEADER + """function createOutbox() {
  const pending = new Set()
  const later = (retry) => {
    const timer = setTimeout(() => {
      pending.delete(timer)
      retry()
    }, 60000)
    pending.add(timer)
  }
  return {
    send(message) {
      later(() => this.send(message))
    },
    cancelAll() {
      for (const timer of pending) clearTimeout(timer)
      pending.clear()
    },
  }
}
exports.createOutbox = createOutbox
"""


@requires_node
def test_a_callback_past_the_kept_source_is_placed_by_its_named_neighbours_however_many_closures(tmp_path):
    """48,000 retry callbacks are closures of the same script as `createOutbox`, `send` and `cancelAll`: the
    named ones still give the transform's shift however far down the snapshot lists them, so each callback is
    placed on the line on disk that creates it (the timer-closures scenario was once placed two lines off: the
    first 5,000 closures of its script were all callbacks, and no named function was looked at)."""
    src = tmp_path / "outbox.js"
    src.write_text(OUTBOX)
    lines = OUTBOX.split("\n")
    want = {lines.index("    const timer = setTimeout(() => {") + 1, lines.index("      later(() => this.send(message))") + 1}
    out = tmp_path / "snaps"
    out.mkdir()
    files = json.loads(run_node(JS / "timer_lines.mjs", out, src, 12000).stdout)["files"]
    g = HeapGraph(read_for_graph(files[-1]))
    locs, lf, nf = g.snap.locations, g.snap.layout.location_fields, g.snap.layout.node_field_count
    nodes = locs[:, lf.index("object_index")] // nf
    closure = np.asarray(g.ntype)[nodes] == g.nt["closure"]
    here = {int(k) for k in nodes[closure] if g.scripts.of_closure(int(k)) in (str(src), src.as_uri())}
    callbacks = sorted(k for k in here if g.node_name(k) == "")
    assert len(callbacks) >= 48000 and {"createOutbox", "send", "cancelAll"} <= {g.node_name(k) for k in here}
    assert len(OUTBOX[:OUTBOX.index("setTimeout")]) > 1024  # the callback is past the source V8 keeps
    placed = {location(g, k, str(tmp_path))[1] for k in callbacks[:: max(1, len(callbacks) // 100)]}
    assert placed == want


TRICKY = """export default async function *gen() {}
functionglued() {}
export
  default
    function split(a,
      b) {
}
class  Spaced extends Base { constructor() {} }
\u00a0\u2003 async   method  (x) \t{
  static async other() {
aaa() {
  $dollar$() {
\tclass Ünicode {}
function\u2028late() {}
 * starred() {
const notADeclaration = function named() {}
\r\nwindows() {\r
"""


# names that are the pattern's own keywords, names ending in `$` (a boundary after a non-word character), keywords
# that are left out when what follows them fails, whitespace runs across lines
KEYWORDS = """export (a) {
async async(x) {
static static() {
function function() {}
class class {}
default default() {
export default async static async run  (a, b)  {
export  async  function  *  gen$ () {}
  foo$x() {
function foo$ x() {}
function foo$x() {}
class Foo$ {}
async(b) {
export
default
class
 Wide {}
static async
  async () {
function*starry(){}
classy() {}
exported() {}
class A{}
static
  static
    (q) {
function\u00a0\u2003nbsp() {}
class\x1cSep {}
(unclosed( {
name(  )
{
name2( )   x {
export async async async() {
_() {
$() {
function snake_case() {}
class Base_ {}
function under_ (x) {}
"""


def test_declaration_at_is_the_declaration_pattern_at_every_line_start():
    """declaration_at (the pattern's parses tried in its backtracking's order, no pattern compiled per name) ends
    where ``declaration_pattern(name).match`` ends, or both fail, at every line start of awkward text and of
    real sources, for every identifier in them and the pattern's keywords as names."""
    texts = [TRICKY, KEYWORDS, KEYWORDS.replace("\n", "\r\n"), KEYWORDS.replace(" ", "\t"), OUTBOX]
    texts += [p.read_text(errors="replace") for p in sorted((HERE.parent / "tests/js").rglob("*.mjs"))[:16]]
    extra = {"a", "x", "foo", "foo$", "Foo", "export", "default", "async", "static", "class", "function", "gen",
             "$", "_", "n", "zz", "snake", "Base", "under"}
    found = checked = 0
    for text in texts:
        starts = [0] + [m.end() for m in re.finditer("\n", text)]
        names = sorted(set(re.findall(r"(?:[^\W\d]|\$)[\w$]*", text)) | extra)
        for name in names:
            pat = declaration_pattern(name)
            for p in starts:
                want = pat.match(text, p)
                got = declaration_at(text, p, name)
                assert got == (want and want.end()), (name, p, text[p:p + 60])
                found += want is not None
                checked += 1
    assert checked > 50_000 and found > 100


def test_the_declaration_index_finds_what_the_declaration_pattern_finds():
    """DeclarationIndex.first tries the pattern only where a declaration of the name can start: the same match as a
    search of the whole text, for every identifier of real sources (the fixtures' and the scenarios') and of text
    made to be awkward (keywords glued to the name, declarations over lines, other whitespace, names inside names)."""
    texts = [TRICKY, TRICKY.replace("\n", "\r\n"), OUTBOX]
    for d in ("tests/js", "examples/scenarios", "examples/demo"):
        texts += [p.read_text(errors="replace") for p in sorted((HERE.parent / d).rglob("*.[jt]s"))
                  if "node_modules" not in p.parts and "generated" not in p.parts]
    found = checked = 0
    for text in texts:
        index = DeclarationIndex(text)
        names = set(re.findall(r"(?:[^\W\d]|\$)[\w$]*", text)) | {"a", "n", "function", "async", "zz"}
        for name in sorted(names):
            want = declaration_pattern(name).search(text)
            got = index.first(name)
            assert (got and (got.start(), got.end())) == (want and (want.start(), want.end())), (name, text[:80])
            found += want is not None
            checked += 1
    assert checked > 2000 and found > 200
