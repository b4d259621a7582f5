"""Naming a holder: the variable that keeps it, the module that declares it (file and line), its JS
type and how it holds the new objects (the holder kind of COORDINATION.md).

A holder is an old node H (docs/diagnose.md). Its retaining path from the roots is read outwards from
H until the first *variable*: a context slot (a module-level or closure variable; Vitest's block
contexts have unnamed slots, named from their ScopeInfo — ``scope_names``), a property of the global
object, or a property of a function (a class static). When the shortest path reaches H through the
test runner's own code (Vitest's mock registry, Node's timer lists, Vite's module runner), other paths
are tried for one that starts in the user's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..graph import HeapGraph
from ..graph.kernels import csr_slots
from ..graph.paths import best_path_edges
from ..snapshot.strings import find_string, hash_text
from .rules import Rules
from .slots import slot_name

JS_SOURCE = re.compile(r"\.(m|c)?(j|t)sx?$|\.(vue|svelte|astro)$")
MAX_SOURCE = 5 * 2**20
# properties every function has: not class statics
FUNCTION_PROPS = frozenset({"prototype", "__proto__", "name", "length", "constructor", "arguments", "caller"})
# internal edges between a collection and its contents: left out of an access path
INTERNAL_EDGES = frozenset({"table", "elements", "properties", "context", "shared", "map", "code", "bound_this",
                            "bound_function", "bound_arguments", "feedback_cell", "value", "extension", "previous",
                            "scope_info"})
GLOBAL_LABELS = ("global", "Window", "globalThis")  # the class names of a global object


@dataclass(frozen=True)
class Step:
    """One edge of a retaining path: ``src`` holds ``dst`` through an edge of ``etype`` named ``name``."""

    src: int
    etype: str
    name: str
    dst: int


@dataclass
class Anchor:
    kind: str  # variable | global | static
    name: str
    holder: int  # the context, global object or function that has the variable
    value: int  # what the variable points at
    index: int  # position of the anchor edge in the steps
    file: str | None  # script URL of the declaring module (variables), None otherwise
    tool: bool  # the variable belongs to the test runner / Node itself


@dataclass
class HolderName:
    """Everything said about one holder."""

    node: int
    kind: str = "property"
    variable: str | None = None
    access: str | None = None  # "resolver.memo", "process._events.exit"
    file: str | None = None  # URL / path of the declaring module
    line: int | None = None
    type: str = "Object"
    container: int | None = None  # the growing JS collection (Array, Map, …) when there is one
    owner: int | None = None  # the object to clean up: emitter, spy, timer list, server …
    path: str = ""
    tool: bool = False
    steps: list[Step] = field(default_factory=list)
    anchor: Anchor | None = None
    callback: int | None = None  # timers: the callback function


# -- paths ---------------------------------------------------------------------------------------

def path_steps(g: HeapGraph, k: int) -> list[Step]:
    """DevTools' retaining path of node ``k``, from the root side to ``k``."""
    off, pe = best_path_edges(g, np.array([k]))
    out = []
    for e in pe[off[0]:off[1]][::-1]:
        e = int(e)
        out.append(Step(g.source_of_edge(e), g.edge_type(e), g.edge_name(e), int(g.to[e])))
    return out


def chain_text(g: HeapGraph, steps: list[Step], start: int = 0) -> str:
    if not steps:
        return ""
    parts = []
    for s in steps[start:]:
        parts.append(g.node_label(s.src))
        parts.append(f"{s.name} ({s.etype})")
    parts.append(g.node_label(steps[-1].dst))
    return " → ".join(parts)


# -- anchors -------------------------------------------------------------------------------------

def is_global(g: HeapGraph, k: int) -> bool:
    if k in _user_roots(g):
        return True
    return g.class_label(k) in GLOBAL_LABELS


def _user_roots(g: HeapGraph) -> set[int]:
    cache = g.__dict__.get("_heaplens_user_roots")
    if cache is None:
        cache = g.__dict__["_heaplens_user_roots"] = {int(x) for x in np.asarray(g.user_roots).tolist()}
    return cache


def _is_context(g: HeapGraph, k: int) -> bool:
    return g.node_name(k) == "system / Context" or g.class_label(k) == "system / Context"


def _context_url(g: HeapGraph, ctx: int) -> str | None:
    try:
        return g.scripts.of_context(ctx)
    except Exception:  # a snapshot without the edges this needs
        return None


def find_anchor(g: HeapGraph, steps: list[Step], upto: int, rules: Rules) -> Anchor | None:
    """The variable that keeps ``steps[upto - 1].dst``, searched outwards: the nearest module-level
    variable, global or static of the user's code; else the nearest local variable of the user's code
    (a closure's); else the nearest one of the runner's or Node's own code. A variable of Node's or the
    runner's code ends the search — what it keeps is theirs — unless it is only the implementation of a
    global accessor (``globalThis.process`` is a getter returning Node's context variable ``process``).
    A variable that reaches the kept object only through a runner's module registry (rules.json
    ``registry_classes``) names the registry, which is the runner's whoever else can reach it (lodash's
    ``root``, its alias of the global object, reaches Vitest 3's ``ModuleCacheMap`` through a dictionary-mode
    global): it counts as the runner's; the module-level variables below the registry stay the user's."""
    best = None
    tool_at = None
    for a in _anchors(g, steps, upto, rules):
        a = _through_registry(g, steps, upto, a, rules)
        r = _rank(g, a)
        if tool_at is not None:
            if r == 0 and a.kind == "global" and _accessor_plumbing(g, steps, a.index + 1, tool_at):
                return a
            break
        if r == 0:
            return a
        if best is None or r < _rank(g, best):
            best = a
        if r == 2:
            tool_at = a.index
    return best


def _through_registry(g: HeapGraph, steps: list[Step], upto: int, a: Anchor | None, rules: Rules) -> Anchor | None:
    """``a`` as the runner's when its chain down to ``steps[upto - 1]`` runs through a runner's module registry."""
    if a is None or a.tool or not any(rules.registry(g.class_label(s.dst)) for s in steps[a.index:upto]):
        return a
    return replace(a, tool=True)


def _accessor_plumbing(g: HeapGraph, steps: list[Step], lo: int, hi: int) -> bool:
    """steps[lo:hi] only lead from a global's accessor pair through its getter to the getter's context."""
    for s in steps[lo:hi]:
        if s.etype not in ("internal", "hidden", "context", "property") or g.class_label(s.src) not in (
                "(system)", "Function", "system / Context", "system / AccessorPair"):
            return False
        if s.etype == "property" and not s.name.startswith(("get ", "set ")):
            return False
    return True


def _rank(g: HeapGraph, a: Anchor) -> int:
    """0: a module-level variable, global or static of the user's code; 1: a local variable of the
    user's code; 2: the runner's or Node's own (or of a script heaplens cannot tell)."""
    if a.tool or (a.kind in ("variable", "static") and a.file is None):
        return 2
    if a.kind == "variable" and (a.name == "this" or not module_level(g, a.holder)):
        return 1
    return 0


def module_level(g: HeapGraph, ctx: int) -> bool:
    """A context is a module's own (not a function's inside it) when no context it is nested in
    belongs to the same script."""
    cache = g.__dict__.setdefault("_heaplens_module_level", {})
    if ctx in cache:
        return cache[ctx]
    url = _context_url(g, ctx)
    out = True
    v = ctx
    for _ in range(16):
        nxt = None
        for e in range(int(g.first[v]), int(g.first[v + 1])):
            if g.edge_type(e) == "internal" and g.edge_name(e) == "previous":
                nxt = int(g.to[e])
                break
        if nxt is None or not _is_context(g, nxt):
            break
        if url and _context_url(g, nxt) == url:
            out = False
            break
        v = nxt
    cache[ctx] = out
    return out


def _anchor_of(g: HeapGraph, s: Step, i: int, rules: Rules) -> Anchor | None:
    a = _anchor_shared(g, s, rules)
    return None if a is None else replace(a, index=i)  # a copy: callers may keep or change it


def _anchor_shared(g: HeapGraph, s: Step, rules: Rules) -> Anchor | None:
    """The anchor of step ``s`` (index 0), per graph once: the memo's own object, not to be changed."""
    memo = graph_memo(g, "anchor_of", rules)
    key = (s.src, s.etype, s.name, s.dst)
    if key not in memo:
        memo[key] = _anchor_of_step(g, s, 0, rules)
    return memo[key]


def _anchor_of_step(g: HeapGraph, s: Step, i: int, rules: Rules) -> Anchor | None:
    if s.etype in ("context", "hidden") and _is_context(g, s.src):
        url = _context_url(g, s.src)
        name = s.name
        if s.etype == "hidden":
            m = re.fullmatch(r"\[(\d+)\]", s.name)
            if not m:
                return None
            name = slot_name(g, s.src, int(m.group(1)), url)
            if name is None:
                return None
        if name.startswith((".", "*", "#")):  # V8's own slots (.result, *default*)
            return None
        # an import binding (`__vite_ssr_import_0__`) holds another module, not the module's state
        tool = rules.tool_script(url) or rules.import_bindings.search(name) is not None
        return Anchor("variable", name, s.src, s.dst, i, url, tool)
    if s.etype in ("property", "shortcut") and is_global(g, s.src):
        if s.dst in _user_roots(g) or s.name.startswith(("get ", "set ")):
            return None  # globalThis.global, an accessor's function
        tool = rules.tool_globals.search(s.name) is not None
        if not tool and int(g.ntype[s.dst]) == g.nt.get("closure", -1):
            # a global function (setTimeout, CustomEvent …): Node's or the runner's unless the user wrote it
            url = g.scripts.of_closure(s.dst)
            tool = url is None or rules.tool_script(url)
        return Anchor("global", s.name, s.src, s.dst, i, None, tool)
    if (s.etype == "property" and int(g.ntype[s.src]) == g.nt.get("closure", -1)
            and s.name not in FUNCTION_PROPS and not s.name.startswith(("get ", "set "))):
        url = g.scripts.of_closure(s.src)
        return Anchor("static", f"{g.node_name(s.src) or '(anonymous)'}.{s.name}", s.src, s.dst, i, url,
                      url is None or rules.tool_script(url))
    return None


def _anchors(g: HeapGraph, steps: list[Step], upto: int, rules: Rules):
    gv = global_values(g, rules)
    for i in range(upto - 1, -1, -1):
        s = steps[i]
        if s.dst in gv and not is_global(g, s.src):  # reached another way: still the global's value
            yield Anchor("global", gv[s.dst], _global_node(g), s.dst, i, None, False)
        a = _anchor_of(g, s, i, rules)
        if a is not None:
            yield a


def _global_node(g: HeapGraph) -> int:
    return int(np.asarray(g.user_roots)[0]) if len(g.user_roots) else g.root


def global_values(g: HeapGraph, rules: Rules) -> dict[int, str]:
    """Objects that are the value of a property of the global object that is not Node's or the
    runner's (``process`` through its accessor: the getter's context variable of the same name)."""
    cache = g.__dict__.get("_heaplens_global_values")
    if cache is not None:
        return cache
    out: dict[int, str] = {}
    closure = g.nt.get("closure", -1)
    for gl in _user_roots(g):
        for e in range(int(g.first[gl]), int(g.first[gl + 1])):
            if g.edge_type(e) not in ("property", "shortcut"):
                continue
            name = g.edge_name(e)
            v = int(g.to[e])
            if rules.tool_globals.search(name) or name.startswith(("get ", "set ")):
                continue
            if int(g.ntype[v]) == closure or v in _user_roots(g) or is_global(g, v):
                continue  # functions (setTimeout, CustomEvent …) and the global itself (globalThis.global)
            if g.class_label(v) in ("(system)", "system / AccessorPair"):
                v = _accessor_value(g, v, name)
                if v is None:
                    continue
            out.setdefault(v, name)
    g.__dict__["_heaplens_global_values"] = out
    return out


def _accessor_value(g: HeapGraph, pair: int, name: str) -> int | None:
    """The value a global accessor's getter returns when it is a context variable of the same name."""
    for e in range(int(g.first[pair]), int(g.first[pair + 1])):
        if g.edge_name(e) != "getter":
            continue
        fn = int(g.to[e])
        for f in range(int(g.first[fn]), int(g.first[fn + 1])):
            if g.edge_name(f) == "context":
                ctx = int(g.to[f])
                slots = {g.edge_name(h): int(g.to[h]) for h in range(int(g.first[ctx]), int(g.first[ctx + 1]))
                         if g.edge_type(h) == "context"}
                for n in (name, "_" + name):
                    if n in slots:
                        return slots[n]
                if len(slots) == 1:
                    return next(iter(slots.values()))
    return None


def graph_memo(g: HeapGraph, what: str, rules: Rules) -> dict:
    """A per-graph cache of a pure function of the graph and the rules: the retainer searches of several holders
    cross the same module graph (date-fns: 28,000 node checks of 6,000 nodes)."""
    key = f"_heaplens_memo_{what}"
    held = g.__dict__.get(key)
    if held is None or held[0] is not rules:
        held = g.__dict__[key] = (rules, {})
    return held[1]


def _tool_node(g: HeapGraph, k: int, rules: Rules) -> bool:
    memo = graph_memo(g, "tool_node", rules)
    out = memo.get(k)
    if out is None:
        if _is_context(g, k):
            url = _context_url(g, k)
            out = url is not None and rules.tool_script(url)
        else:
            name = g.class_label(k)
            out = rules.module_record(name) or rules.registry(name)
        memo[k] = out = bool(out)
    return out


def _in_dependency(a: Anchor) -> bool:
    """The anchor's variable is declared in a dependency (under node_modules), not in the suite's own code."""
    return "/node_modules/" in (a.file or "")


# Node flags (:func:`node_flags`) and what a retaining edge means to nearest_user_anchor's search
CONTEXT, GLOBAL, TOOL_CLASS, MODULE_RECORD, STORAGE = 1, 2, 4, 8, 16
STORAGE_LABELS = ("(array)", "(system)", "system / Hashtable")  # a collection's storage (its elements, its table)
_ENQUEUE, _SKIP, _ANCHOR, _CONTEXT_SOURCE, _FOUND, _FOUND_IN_DEPENDENCY = range(6)


def node_flags(g: HeapGraph, rules: Rules) -> np.ndarray:
    """Per node, as bits, the tests the retainer search makes of every node it meets, made for all nodes at once
    from their class names (a few hundred) and names: CONTEXT — :func:`_is_context`; GLOBAL — :func:`is_global`;
    TOOL_CLASS — :func:`_tool_node`'s test of a node that is not a context (its class is a module record or a
    registry; a context's is its script's, asked node by node). And for the module records' importers
    (engine._importers): MODULE_RECORD — its class label is a module record's (rules.json ``module_records``);
    STORAGE — its class label is one of STORAGE_LABELS."""
    memo = graph_memo(g, "node_flags", rules)
    if "flags" in memo:
        return memo["flags"]

    def bits(label: str) -> int:
        record = rules.module_record(label)
        return ((CONTEXT if label == "system / Context" else 0) | (GLOBAL if label in GLOBAL_LABELS else 0)
                | (TOOL_CLASS if record or rules.registry(label) else 0) | (MODULE_RECORD if record else 0)
                | (STORAGE if label in STORAGE_LABELS else 0))

    keys, key_cid, _ = g.class_keys
    keys, key_cid = np.asarray(keys), np.asarray(key_cid)
    present = np.flatnonzero(np.bincount(keys, minlength=len(key_cid)))  # the class keys nodes have
    cids, inv = np.unique(key_cid[present], return_inverse=True)
    key_bits = np.zeros(len(key_cid), dtype=np.uint8)
    key_bits[present] = np.array([bits(g.classes.name(int(c))) for c in cids.tolist()], dtype=np.uint8)[inv.reshape(-1)]
    flags = key_bits[keys]  # by class name: class_label of all but synthetic nodes
    ntype, nname = np.asarray(g.ntype), np.asarray(g.nname)
    for k in np.flatnonzero(ntype == g.nt.get("synthetic", -1)).tolist():
        flags[k] = bits(g.class_label(k))  # (their label is their name)
    for sid in string_ids(g.snap, "system / Context"):
        flags[nname == sid] |= CONTEXT  # _is_context asks the node's name too
    if len(g.user_roots):
        flags[np.asarray(g.user_roots, dtype=np.int64)] |= GLOBAL
    memo["flags"] = flags
    return flags


def string_ids(snap, text: str) -> list[int]:
    """Every index of the string table whose text is ``text`` (a string with escapes or non-ASCII characters is
    found by its text, not by the hash of its bytes)."""
    st = snap.strings
    cand = np.flatnonzero(st.hashes == np.uint64(hash_text(text)))
    other = np.flatnonzero((st.flags != 0) & (st.lengths >= len(text)) & (st.lengths <= 12 * len(text)))
    return [i for i in np.union1d(cand, other).tolist() if st[i] == text]


def _retainers(g: HeapGraph, nodes: list[int], flags: np.ndarray, rules: Rules):
    """For each of ``nodes``: its first 2,000 retaining edges but the weak ones, their sources and what each means
    to the search (_ENQUEUE: its source is searched on; _SKIP: it is not, the runner's or Node's; _ANCHOR: a
    variable's edge, to be named; _FOUND, _FOUND_IN_DEPENDENCY: a variable's edge already named, by
    :func:`_context_variable_codes`) — in a few array passes. Returns ``(edges, sources, codes, bounds)``: node
    ``nodes[i]``'s are ``[bounds[i]:bounds[i + 1]]`` of each list."""
    rfirst, redge = g.reverse
    at = np.asarray(nodes, dtype=np.int64)
    lo = np.asarray(rfirst)[at].astype(np.int64)
    cnt = np.minimum(np.asarray(rfirst)[at + 1].astype(np.int64) - lo, 2000)
    slots, owner = csr_slots(lo, cnt)
    es = np.asarray(redge)[slots].astype(np.int64)
    et = np.asarray(g.etype)[es]
    keep = et != g.t["weak"]
    es, et, owner = es[keep], et[keep], owner[keep]
    src = g.sources_of_edges(es)
    f = flags[src]
    ctx = (f & CONTEXT) != 0
    variable = ((et == g.t["context"]) | (et == g.t["hidden"])) & ctx
    variable |= ((et == g.t["property"]) | (et == g.t["shortcut"])) & (
        ((f & GLOBAL) != 0) | (np.asarray(g.ntype)[src] == g.nt.get("closure", -1)))
    code = np.where(variable, _ANCHOR, np.where(ctx, _CONTEXT_SOURCE, np.where((f & TOOL_CLASS) != 0, _SKIP,
                                                                                _ENQUEUE)))
    named = (et == g.t["context"]) & ctx  # a context variable's edge: judged here from its context and its name
    sourced = ctx & ~variable  # another edge of a context: its script tells
    if named.any() or sourced.any():
        cbits = _context_bits(g, src[named | sourced], rules)
        code[sourced] = np.where((cbits[sourced[named | sourced]] & _CTX_TOOL) != 0, _SKIP, _ENQUEUE)
        code[named] = _context_variable_codes(g, cbits[named[named | sourced]], np.asarray(g.ename)[es[named]],
                                              (f[named] & GLOBAL) != 0, rules)
    bounds = np.searchsorted(owner, np.arange(len(at) + 1)).tolist()
    return es.tolist(), src.tolist(), code.tolist(), bounds


# What _variable_edge needs of a context (:func:`_context_bits`) and of a variable's name (:func:`_name_bits`)
_CTX_TOOL, _CTX_NO_URL, _CTX_MODULE_LEVEL, _CTX_DEPENDENCY = 1, 2, 4, 8
_NAME_V8, _NAME_IMPORT, _NAME_THIS = 1, 2, 4


def _context_bits(g: HeapGraph, ctxs: np.ndarray, rules: Rules) -> np.ndarray:
    """Per context of ``ctxs``, as bits, what its variables' anchors take from it: _CTX_TOOL — its script is the
    runner's or Node's (:func:`_tool_node` of a context); _CTX_NO_URL — no script is known (:func:`_context_url`);
    _CTX_MODULE_LEVEL — :func:`module_level`; _CTX_DEPENDENCY — its script is under node_modules
    (:func:`_in_dependency`). Made per graph once, for every context at once."""
    memo = graph_memo(g, "context_bits", rules)
    table = memo.get("bits")
    if table is None:
        table = memo["bits"] = _context_bits_table(g, rules)
    return table[ctxs]


def _context_bits_table(g: HeapGraph, rules: Rules) -> np.ndarray:
    ctx = np.flatnonzero((node_flags(g, rules) & CONTEXT) != 0)
    try:
        uid, urls = g.scripts.context_urls(ctx)
    except Exception:  # a snapshot without the edges this needs: as _context_url, one by one
        at: dict[str, int] = {}
        uid = np.array([-1 if u is None else at.setdefault(u, len(at)) for u in (_context_url(g, k) for k in
                                                                                ctx.tolist())], dtype=np.int64)
        urls = list(at)
    url_bits = np.array([(_CTX_TOOL if rules.tool_script(u) else 0) | (_CTX_DEPENDENCY if "/node_modules/" in u
                                                                          else 0) for u in urls] + [_CTX_NO_URL],
                        dtype=np.int8)
    bits = url_bits[uid]  # (-1, no URL: the last)
    bits[(bits & _CTX_TOOL) != 0] &= ~_CTX_DEPENDENCY
    ids = np.full(g.n, -1, dtype=np.int64)
    ids[ctx] = uid
    bits[_module_level_of(g, ctx, ids, rules)] |= _CTX_MODULE_LEVEL
    table = np.zeros(g.n, dtype=np.int8)
    table[ctx] = bits
    return table


def _module_level_of(g: HeapGraph, ctx: np.ndarray, url_ids: np.ndarray, rules: Rules) -> np.ndarray:
    """:func:`module_level` of each context of ``ctx``, all at once: ``url_ids`` is each node's script URL (as
    an index, -1 for none: :func:`_context_url`) for every context."""
    prev = _previous_table(g)
    is_ctx = (node_flags(g, rules) & CONTEXT) != 0
    out = np.ones(len(ctx), dtype=bool)
    url = url_ids[ctx]
    v = ctx.copy()
    live = np.arange(len(ctx))
    for _ in range(16):
        nxt = prev[v[live]]
        go = nxt >= 0
        go[go] = is_ctx[nxt[go]]
        live, nxt = live[go], nxt[go]
        same = (url[live] >= 0) & (url_ids[nxt] == url[live])
        out[live[same]] = False
        live = live[~same]
        v[live] = nxt[~same]
        if not len(live):
            break
    return out


def _previous_table(g: HeapGraph) -> np.ndarray:
    """Per node: the target of its first internal edge named ``previous`` (a context's outer context), or -1."""
    cache = g.__dict__.get("_heaplens_previous")
    if cache is None:
        ids = string_ids(g.snap, "previous")
        ename = np.asarray(g.ename)
        es = np.flatnonzero(ename == ids[0] if len(ids) == 1 else np.isin(ename, ids))
        es = es[np.asarray(g.etype)[es] == g.t["internal"]]
        src = g.sources_of_edges(es)
        first = np.ones(len(src), dtype=bool)
        first[1:] = src[1:] != src[:-1]  # (the edges ascend, so do their sources)
        cache = g.__dict__["_heaplens_previous"] = np.full(g.n, -1, dtype=np.int64)
        cache[src[first]] = np.asarray(g.to)[es[first]]
    return cache


def _name_bits(g: HeapGraph, names: np.ndarray, rules: Rules) -> np.ndarray:
    """Per string index of ``names`` (context variables' names), as bits: _NAME_V8 — one of V8's own slots
    (``.result``, ``*default*``); _NAME_IMPORT — an import binding (rules.json ``import_bindings``); _NAME_THIS —
    ``this``. Per graph once per string."""
    memo = graph_memo(g, "name_bits", rules)
    uniq, inv = np.unique(names, return_inverse=True)
    bits = np.empty(len(uniq), dtype=np.int8)
    for i, sid in enumerate(uniq.tolist()):
        b = memo.get(sid)
        if b is None:
            name = g.snap.strings[sid]
            b = memo[sid] = ((_NAME_V8 if name.startswith((".", "*", "#")) else 0)
                             | (_NAME_IMPORT if rules.import_bindings.search(name) is not None else 0)
                             | (_NAME_THIS if name == "this" else 0))
        bits[i] = b
    return bits[inv.reshape(-1)]


def _context_variable_codes(g: HeapGraph, cbits: np.ndarray, names: np.ndarray, global_ctx: np.ndarray,
                            rules: Rules) -> np.ndarray:
    """:func:`_variable_edge` of context variables' edges (type ``context``, from a context) at once, from their
    contexts' bits (:func:`_context_bits`), their names' string indices and whether the context is a global
    object: the rank of the variable's anchor (:func:`_anchor_of_step`, :func:`_rank`) and what follows it."""
    nbits = _name_bits(g, names, rules)
    v8 = (nbits & _NAME_V8) != 0
    tool = (cbits & _CTX_TOOL) != 0
    # no anchor (V8's own slot) or a local variable of the user's code (rank 1): a global object or the runner's
    # or Node's context is not searched on (the context of a rank-1 variable is not the runner's)
    other = np.where(global_ctx | tool, _SKIP, _ENQUEUE)
    rank2 = ~v8 & (tool | ((nbits & _NAME_IMPORT) != 0) | ((cbits & _CTX_NO_URL) != 0))
    rank1 = ~v8 & ~rank2 & (((nbits & _NAME_THIS) != 0) | ((cbits & _CTX_MODULE_LEVEL) == 0))
    rank0 = ~v8 & ~rank2 & ~rank1
    found = np.where((cbits & _CTX_DEPENDENCY) != 0, _FOUND_IN_DEPENDENCY, _FOUND)
    return np.where(rank0, found, np.where(rank2, _SKIP, other))


def _variable_edge(g: HeapGraph, e: int, src: int, v: int, rules: Rules, flags: np.ndarray) -> int:
    """What the search does with a variable's edge ``e`` (``src`` → ``v``): _FOUND (a module-level variable,
    global or static of the user's code; _FOUND_IN_DEPENDENCY when declared under node_modules), _SKIP (the
    runner's or Node's variable, or a global object), else what any edge gets."""
    a = _anchor_shared(g, Step(src, g.edge_type(e), g.edge_name(e), v), rules)
    if a is not None:
        r = _rank(g, a)
        if r == 0:
            return _FOUND_IN_DEPENDENCY if _in_dependency(a) else _FOUND
        if r == 2:
            return _SKIP  # what a variable of Node's or the runner's code keeps is theirs
    if flags[src] & GLOBAL:
        return _SKIP
    return _SKIP if _tool_node(g, src, rules) else _ENQUEUE


def nearest_user_anchor(g: HeapGraph, x: int, rules: Rules, max_nodes: int = 4000):
    """Breadth-first over the retainers of ``x`` (weak edges and the root left out): the nearest
    module-level variable, global or static of the user's code that keeps it. Returns
    ``(steps from the root to x, index of the anchor step)`` or None.

    The nodes' tests are :func:`node_flags`'; the retainers of the nodes next in the queue are read together
    (:func:`_retainers`); a variable's edge is judged once per graph (the searches of several holders cross the
    same module graph). The search is a pure function of the graph, the rules, ``x`` and ``max_nodes``: made once
    per graph for each (two holders' names can start it from the same node); each caller gets its own list of the
    steps (the steps themselves are shared, and nothing changes a Step)."""
    memo = graph_memo(g, "nearest_user_anchor", rules)
    key = (int(x), int(max_nodes))
    if key not in memo:
        memo[key] = _nearest_user_anchor(g, x, rules, max_nodes)
    found = memo[key]
    return None if found is None else (list(found[0]), found[1])


def _nearest_user_anchor(g: HeapGraph, x: int, rules: Rules, max_nodes: int):
    gv = global_values(g, rules)
    flags = node_flags(g, rules)
    judged = graph_memo(g, "variable_edges", rules)
    root = g.root
    # each node reached: the edge it was reached by and the node that edge leads to (its Step is made only for
    # the path returned: the search crosses tens of thousands of edges)
    parent: dict[int, tuple[int, int] | None] = {x: None}

    def down_from(v: int) -> list[Step]:
        out = []
        while parent[v] is not None:
            e, w = parent[v]
            out.append(Step(v, g.edge_type(e), g.edge_name(e), w))
            v = w
        return out

    dependency = None  # the nearest anchor in a dependency (node_modules), used when the suite's code has none
    queue, head = [x], 0
    batch_lo = batch_hi = 0  # the positions in the queue of the nodes whose retainers were read together
    while head < len(queue) and len(parent) < max_nodes:
        v = queue[head]
        head += 1
        if v in gv:
            gl = _global_node(g)
            down = [Step(gl, "property", gv[v], v), *down_from(v)]
            up = path_steps(g, gl)
            return up + down, len(up)
        if head > batch_hi:  # the retainers of v and of the nodes queued after it (up to 256)
            batch_lo = head - 1
            batch_hi = min(len(queue), batch_lo + 256)
            E, S, C, bounds = _retainers(g, queue[batch_lo:batch_hi], flags, rules)
        i = head - 1 - batch_lo
        a, b = bounds[i], bounds[i + 1]
        for e, src, c in zip(E[a:b], S[a:b], C[a:b]):
            if src == root or src in parent:
                continue
            if c == _ANCHOR:
                c = judged.get(e)
                if c is None:
                    c = judged[e] = _variable_edge(g, e, src, v, rules, flags)
            if c == _ENQUEUE:
                parent[src] = (e, v)
                queue.append(src)
            elif c == _FOUND or c == _FOUND_IN_DEPENDENCY:
                down = [Step(src, g.edge_type(e), g.edge_name(e), v), *down_from(v)]
                up = path_steps(g, src)
                if c == _FOUND_IN_DEPENDENCY:
                    # a dependency's variable that also refers to it (`const os = require('os')` in a
                    # library): the suite's own code's variable, if one keeps it too, is where the fix goes
                    if dependency is None:
                        dependency = (up + down, len(up))
                    continue
                return up + down, len(up)
    return dependency


# -- the holder ----------------------------------------------------------------------------------

def js_type(g: HeapGraph, k: int) -> str:
    """The JS type of an object: its constructor's name through ``__proto__.constructor`` when that differs
    from V8's name for it (Node makes an ``AbortSignal`` as an ``EventTarget`` and sets its prototype)."""
    label = g.class_label(k)
    proto = property_edge(g, k, "__proto__")
    fn = property_edge(g, proto, "constructor") if proto is not None else None
    if fn is None or int(g.ntype[fn]) != g.nt.get("closure", -1):
        return label
    name = g.node_name(fn)
    return name if name and IDENTIFIER.fullmatch(name) else label


def property_edge(g: HeapGraph, k: int, name: str) -> int | None:
    """The target of node ``k``'s property ``name`` (vectorised over its edges: an array can have millions)."""
    s = find_string(g.snap, name)
    if s < 0:
        return None
    lo, hi = int(g.first[k]), int(g.first[k + 1])
    hit = np.flatnonzero((np.asarray(g.ename[lo:hi]) == s) & (np.asarray(g.etype[lo:hi]) == g.t["property"]))
    return int(g.to[lo + int(hit[0])]) if len(hit) else None


IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")


def _js_visible(g: HeapGraph, k: int) -> bool:
    t = g.snap.layout.node_types[int(g.ntype[k])]
    if t in ("object", "closure", "regexp", "native"):
        name = g.class_label(k)
        return not name.startswith("system /") or name == "system / Context"
    return False


def name_holder(g: HeapGraph, holder: int, top: int, rules: Rules, new_classes: set[str] | None = None) -> HolderName:
    """Name the old node ``holder`` through which the new node ``top`` (and what it keeps) is held."""
    steps = path_steps(g, top)
    at = next((i for i, s in enumerate(steps) if s.src == holder), None)
    if at is None:  # the shortest path bypasses the holder (a system reference): the holder's own path
        upper = path_steps(g, holder)
        steps = upper + [Step(holder, "?", "…", top)]
        at = len(upper)
    hn = HolderName(node=holder, steps=steps)
    # a global object or a context holds its new value through the variable itself: that edge is the anchor
    own = _is_context(g, holder) or is_global(g, holder)
    anchor = find_anchor(g, steps, at + 1 if own and at < len(steps) else at, rules)
    in_dependency = anchor is not None and _rank(g, anchor) == 0 and _in_dependency(anchor)
    if anchor is None or _rank(g, anchor) > 0 or in_dependency:
        # the shortest path goes through the runner's or Node's own code, or a function's local, or a
        # dependency's variable: is the holder (or, held by a variable itself, its value) also kept by a variable
        # of the user's modules (the suite's own code first)?
        start = steps[at].dst if own and at < len(steps) else holder
        found = nearest_user_anchor(g, start, rules)
        if found is not None and in_dependency:
            other = _anchor_of(g, found[0][found[1]], found[1], rules)
            if other is None or _in_dependency(other):
                found = None  # only other dependencies: the shortest path's stays
        if found is not None:
            alt, ai = found
            if start != holder:  # the path ends at the value: the holder's edge to it is replaced
                steps = alt + steps[at + 1:]
                at = len(alt) - 1
            else:
                steps = alt + steps[at:]
                at = len(alt)
            anchor = _through_registry(g, steps, at, _anchor_of(g, alt[ai], ai, rules), rules)
            hn.steps = steps
    hn.anchor = anchor
    # the chain from the variable (or the root) down to the top new node
    # how it is held: the chain below a module-level variable, or the whole chain (a local variable of a
    # timer's callback is held by the timer)
    first = anchor.index if anchor is not None and _rank(g, anchor) == 0 else 0
    below = steps[first:]
    hn.path = chain_text(g, steps, 0)
    hn.kind, hn.owner = _kind(g, below, anchor, rules, new_classes or set())
    accessor = _accessor_name(g, steps, anchor) if anchor is not None and anchor.tool and anchor.kind == "variable" \
        else None
    if first == 0 and hn.kind in ("timer", "listener", "server", "db", "mock"):
        # no variable of the user's: the chain is shown from the resource on (the timer list, the emitter)
        kr = next(k for k in rules.kinds if k.kind == hn.kind)
        for i, s in enumerate(steps):
            if ((kr.classes is not None and kr.classes.search(g.class_label(s.src)))
                    or (kr.edges is not None and kr.edges.search(s.name))):
                hn.path = chain_text(g, steps, i)
                break
    # the growing container: the holder if it is a JS object; else the first JS object below it
    cont = None
    if _js_visible(g, holder) and not _is_context(g, holder) and not is_global(g, holder):
        cont = holder
    elif not (_is_context(g, holder) or is_global(g, holder)):
        # an internal array or table (a Map's, a Set's, an Array's elements): the JS object that owns it
        for s in reversed(steps[:at]):
            if _js_visible(g, s.src) and not _is_context(g, s.src):
                cont = s.src
                break
    if cont is None:
        # a variable (a context slot, a global) holds the new value itself: the value
        for s in steps[at:]:
            if _js_visible(g, s.dst) and not _is_context(g, s.dst):
                cont = s.dst
                break
    hn.container = cont
    if hn.kind == "variable" and anchor is not None:
        # a property of the variable's value holds the new objects (`resolver.memo`), not the variable itself
        if any(s.etype in ("property", "shortcut") and s.name not in INTERNAL_EDGES and not s.name.startswith("get ")
               for s in steps[anchor.index + 1:at]):
            hn.kind = "property"
    if anchor is not None:
        hn.tool = _rank(g, anchor) == 2
    else:  # no variable: the runner's or Node's own when its chain runs through their code
        hn.tool = any(_tool_node(g, s.src, rules) or (int(g.ntype[s.src]) == g.nt.get("closure", -1)
                                                      and rules.tool_script(g.scripts.of_closure(s.src)))
                      for s in steps[:at])
    if anchor:
        hn.file = anchor.file
        hn.access = _access(g, anchor, steps, at)
        if anchor.name == "this":  # a method's receiver: named by its class (`MetricsPoller#samples`)
            hn.variable = None
        else:
            hn.variable = anchor.name if anchor.kind != "static" else anchor.name.split(".")[0]
        if anchor.kind in ("global", "static") and hn.kind in ("variable", "property"):
            hn.kind = anchor.kind
    if hn.kind == "mock" and (anchor is None or _rank(g, anchor) > 0):
        hn.variable = hn.access = None  # named by engine.name_spies from the spies themselves
    if accessor and hn.kind in ("listener", "timer"):
        # a user's listener on a runtime object the code reaches by a getter (`process.stdout.on(…)`): named as
        # the code names it, and not the runtime's own state (the listener is the user's)
        hn.variable, hn.access = accessor, accessor + hn.access[len(anchor.name):]
        hn.tool = False
        hn.file = None
    if hn.kind in ("variable", "property", "global", "static"):
        hn.type = js_type(g, cont) if cont is not None else js_type(g, holder)
    elif hn.owner is not None:
        hn.type = js_type(g, hn.owner)
    else:
        kr = next((k for k in rules.kinds if k.kind == hn.kind), None)
        hit = sorted(c for c in (new_classes or ()) if kr is not None and kr.new_classes is not None
                     and kr.new_classes.search(c))
        hn.type = hit[0] if hit else hn.kind
    return hn


def _access(g: HeapGraph, anchor: Anchor, steps: list[Step], at: int) -> str:
    """``bus._events.order``: the variable, then the named properties down to the holder's contents."""
    if anchor.name == "this":
        parts = [g.class_label(anchor.value), "#"]
    else:
        parts = [anchor.name]
    for s in steps[anchor.index + 1:at]:
        if s.etype in ("property", "shortcut") and s.name not in INTERNAL_EDGES and not s.name.startswith("get "):
            ident = re.fullmatch(r"[A-Za-z_$][\w$]*", s.name)
            dot = "" if parts[-1] == "#" else "."
            parts.append(f"{dot}{s.name}" if ident else f"[{s.name!r}]")
        elif s.etype == "element":
            if not parts[-1].endswith("[]"):
                parts.append("[]")
    return "".join(parts)


def _accessor_name(g: HeapGraph, steps: list[Step], anchor: Anchor) -> str | None:
    """``process.stdout``: a runtime variable that an object on the chain exposes by a getter of the same name
    (Node's lazily created process streams live in a closure of ``get stdout``), named as code reaches it."""
    for s in steps[:anchor.index]:
        owner = s.dst
        label = g.class_label(owner)
        if not IDENTIFIER.fullmatch(label):
            continue
        for e in range(int(g.first[owner]), min(int(g.first[owner + 1]), int(g.first[owner]) + 2000)):
            if g.edge_name(e) == f"get {anchor.name}":
                return f"{label}.{anchor.name}"
    return None


def _timer_owner(g: HeapGraph, timer: int, rules: Rules) -> tuple[str, int] | None:
    """(kind, node) when a timer's callback is bound to a server, socket or database handle (Node's
    ``server.connectionsCheckingInterval``, a socket's idle timeout): that resource holds the timer."""
    def edge(k: int, name: str) -> int | None:
        for e in range(int(g.first[k]), int(g.first[k + 1])):
            if g.edge_name(e) == name:
                return int(g.to[e])
        return None

    # a timer list: its timers (``_idleNext`` …)
    timers, t = [], timer
    for _ in range(64):
        if t is None or t in timers:
            break
        timers.append(t)
        t = edge(t, "_idleNext")
    for t in timers:
        fn = edge(t, "_onTimeout")
        this = edge(fn, "bound_this") if fn is not None else None
        if this is None:
            continue
        for kr in rules.kinds:
            if kr.kind in ("server", "db") and kr.classes is not None and kr.classes.search(g.class_label(this)):
                return kr.kind, this
    return None


def name_spies(g: HeapGraph, hn: HolderName, fns) -> None:
    """A mock no variable of the user's code keeps (a `vi.mock` factory's spy, kept by Vitest's registry):
    named by the property that holds its spies in the mocked module (the most common name)."""
    names: dict[str, int] = {}
    spy = None
    for f in list(fns)[:500]:
        f = int(f)
        if any(g.edge_name(e) in ("mock", "mockState") for e in range(int(g.first[f]), int(g.first[f + 1]))):
            name = _property_name(g, f)
            if name:
                names[name] = names.get(name, 0) + 1
                spy = spy if spy is not None else f
    if not names:  # no new spy among them: the holder is an older spy (a mocked module the worker reuses)
        for f in (hn.owner, hn.node):
            if f is not None and int(g.ntype[f]) == g.nt.get("closure", -1) and any(
                    g.edge_name(e) in ("mock", "mockState") for e in range(int(g.first[f]), int(g.first[f + 1]))):
                name = _property_name(g, f)
                if name:
                    names[name], spy = 1, f
                    break
    if names:
        hn.variable = hn.access = max(names.items(), key=lambda kv: kv[1])[0]
        hn.owner = spy


def _property_name(g: HeapGraph, k: int) -> str | None:
    """The name of a property that holds ``k`` (an object's, not the global's, not a function's own): of
    several, the one whose object is nearest to the roots (a spy is held by its mocked module's exports
    and also by the `{Mock}` object that named it inside the mock library — in no fixed order)."""
    rfirst, redge = g.reverse
    best = None
    for j in range(int(rfirst[k]), min(int(rfirst[k + 1]), int(rfirst[k]) + 2000)):
        e = int(redge[j])
        if g.edge_type(e) != "property":
            continue
        name = g.edge_name(e)
        src = g.source_of_edge(e)
        if (IDENTIFIER.fullmatch(name) and name not in FUNCTION_PROPS and not is_global(g, src)
                and int(g.ntype[src]) != g.nt.get("closure", -1) and not _is_context(g, src)):
            d = int(g.distance[src])
            d = d if d >= 0 else 1 << 30
            if best is None or d < best[0]:
                best = (d, name)
    return best[1] if best else None


def _kind(g: HeapGraph, below: list[Step], anchor: Anchor | None, rules: Rules,
          new_classes: set[str]) -> tuple[str, int | None]:
    """(holder kind, the object to clean up): first how the chain below the variable holds the objects (a
    server, a database handle, a spy, a timer, an emitter's listeners on it — in that order); then what the
    new objects are (new servers or database handles among them: closing them is the cleanup)."""
    for kr in rules.kinds:
        for s in below:
            node = None
            if kr.classes is not None and (kr.classes.search(g.class_label(s.src))
                                           or kr.classes.search(g.class_label(s.dst))):
                node = s.src if kr.classes.search(g.class_label(s.src)) else s.dst
                if kr.not_leaving_by is not None and any(t.src == node and kr.not_leaving_by.search(t.name)
                                                         for t in below):
                    continue  # e.g. a socket's listener list: the listener rule decides
            elif kr.edges is not None and s.etype in ("property", "internal", "context") and kr.edges.search(s.name):
                node = s.src
            elif kr.scripts is not None and int(g.ntype[s.dst]) == g.nt.get("closure", -1):
                url = g.scripts.of_closure(s.dst)
                if url and kr.scripts.search(url):
                    node = s.dst  # a function of the mock library: a spy
            if node is None:
                continue
            if kr.kind == "timer":
                for t in [x.dst for x in below] + [node]:
                    if g.class_label(t) in ("TimersList", "Timeout"):
                        owner = _timer_owner(g, t, rules)
                        if owner is not None:  # a server's or socket's own timer: closing it is the cleanup
                            return owner
            return kr.kind, node
        if (kr.context_variables is not None and anchor is not None and anchor.kind == "variable"
                and kr.context_variables.search(anchor.name)):
            return kr.kind, anchor.value
    for kr in rules.kinds:
        if kr.new_classes is not None and any(kr.new_classes.search(c) for c in new_classes):
            return kr.kind, None
    if anchor is None:
        return "property", None
    return "variable", anchor.value  # name_holder makes it `property` when the access path has one


# -- declarations in the source ------------------------------------------------------------------

def source_path(url: str | None, root: str | None) -> Path | None:
    """A readable JS/TS source for a script URL (``file://`` or absolute; under ``root`` when given)."""
    if not url or url.startswith(("node:", "internal/", "data:", "http:", "https:")):
        return None
    p = Path(url.removeprefix("file://").split("?")[0])
    if not p.is_absolute() and root:
        p = Path(root) / p
    try:
        if not JS_SOURCE.search(p.name) or not p.is_file() or p.stat().st_size > MAX_SOURCE:
            return None
        if root and not p.resolve().is_relative_to(Path(root).resolve()):
            return None
    except OSError:
        return None
    return p


def global_declaration(g: HeapGraph, name: str, root: str | None, rules: Rules,
                       first: list[str] | None = None) -> tuple[str | None, int | None]:
    """(file URL, line) of the user's source that assigns the global ``name`` (``globalThis.name ??= …``):
    the scripts in ``first`` are searched first, then every script of the user's code in the snapshot."""
    if not re.fullmatch(r"[A-Za-z_$][\w$]*", name or ""):
        return None, None
    pat = re.compile(rf"(?:globalThis|global|window|self)\s*(?:\.\s*{re.escape(name)}|\[\s*['\"]{re.escape(name)}"
                     rf"['\"]\s*\])\s*(?:\?\?|\|\||&&)?=(?!=)")
    urls = list(dict.fromkeys([*(first or []), *g.scripts.by_script_id.values()]))
    for url in urls[:2000]:
        if rules.tool_script(url):
            continue
        path = source_path(url, root)
        if path is None:
            continue
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        m = pat.search(text)
        if m:
            return url, text.count("\n", 0, m.start()) + 1
    return None, None


def declaration_line(path: Path | None, name: str | None, static: bool = False) -> int | None:
    """1-based line of the declaration of ``name`` (``const/let/var/function/class``, a class ``static``,
    an assignment), or None."""
    if path is None or not name or not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
        return None
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    n = re.escape(name)
    pats = [rf"^\s*static\s+(?:async\s+)?\*?\s*#?{n}\b"] if static else []
    pats += [rf"\b(?:const|let|var)\s+(?:\{{[^}}]*\b)?{n}\b", rf"\b(?:function\s*\*?|class)\s+{n}\b",
             rf"(?:globalThis|global|window|self)\s*(?:\.\s*{n}|\[\s*['\"]{n}['\"]\s*\])\s*(?:\?\?|\|\||&&)?=(?!=)",
             rf"^\s*(?:export\s+)?{n}\s*="]
    for pat in pats:
        m = re.search(pat, text, re.M)
        if m:
            return text.count("\n", 0, m.start()) + 1 + text[m.start():m.end()].count("\n") * 0
    return None


def relative(url: str | None, root: str | None) -> str | None:
    if not url:
        return None
    p = url.removeprefix("file://")
    if root:
        r = str(root).rstrip("/") + "/"
        if p.startswith(r):
            return p[len(r):]
    return p


def location(g: HeapGraph, fn: int, root: str | None = None) -> tuple[str | None, int | None]:
    """(script URL, 1-based line in the file on disk) of a function. V8 gives the position in the code it
    compiled — for Vitest the transformed module, whose lines are shifted by the hoisted imports and
    export getters — so the line is mapped back to the source file by its text when the file is there."""
    closure = int(g.ntype[fn]) == g.nt.get("closure", -1)
    loc = g.location_of(fn)
    if not loc:
        return (g.scripts.of_closure(fn) if closure else g.scripts.of_node(fn)), None
    # per graph and position (script, line, column): the instances of one function share their script and line
    # (a timer's group can hold 2,000 functions, most of them instances of a few)
    cache = g.__dict__.setdefault("_heaplens_locations", {})
    key = (closure, loc, root)
    if key not in cache:
        url = g.scripts.of_closure(fn) if closure else g.scripts.of_node(fn)
        line = loc[1]
        mapped = original_line(g, fn, url, line, root)
        cache[key] = (url, mapped if mapped is not None else line + 1)
    return cache[key]


def string_value(g: HeapGraph, k: int, limit: int = 4096) -> str | None:
    """The text of a string node; concatenated strings are flattened through their ``first``/``second``
    edges (V8 names them ``(concatenated string)``), sliced ones through ``parent`` (whole parent)."""
    t = g.snap.layout.node_types[int(g.ntype[k])]
    if t == "string":
        return g.node_name(k)
    if t not in ("concatenated string", "sliced string"):
        return None
    parts: list[str] = []
    stack = [k]
    budget = 64
    while stack and budget > 0 and sum(map(len, parts)) < limit:
        v = stack.pop()
        budget -= 1
        tv = g.snap.layout.node_types[int(g.ntype[v])]
        if tv == "string":
            parts.append(g.node_name(v))
            continue
        kids = {g.edge_name(e): int(g.to[e]) for e in range(int(g.first[v]), int(g.first[v + 1]))}
        if tv == "concatenated string" and "first" in kids and "second" in kids:
            stack += [kids["second"], kids["first"]]
        elif tv == "sliced string" and "parent" in kids:
            return None  # the slice's offsets are not in the snapshot
        else:
            return None
    return "".join(parts) if not stack else None


def _script_source(g: HeapGraph, fn: int) -> str | None:
    """The source text V8 compiled for a function's script (closure → shared → script → source)."""
    cache = g.__dict__.setdefault("_heaplens_script_source", {})

    def edge(k: int, names: tuple[str, ...]) -> int | None:
        for e in range(int(g.first[k]), int(g.first[k + 1])):
            if g.edge_type(e) not in ("element", "hidden") and g.edge_name(e) in names:
                return int(g.to[e])
        return None

    sfi = edge(fn, ("shared",))
    script = edge(sfi, ("script_or_debug_info", "script")) if sfi is not None else None
    if script is None:
        return None
    if script not in cache:
        src = edge(script, ("source",))
        text = None
        if src is not None:
            text = string_value(g, src, limit=MAX_SOURCE)
        cache[script] = text
    return cache[script]


def original_line(g: HeapGraph, fn: int, url: str | None, line0: int, root: str | None) -> int | None:
    """The 1-based line of the source file on disk that has the text of line ``line0`` (0-based) of the
    compiled code — the nearest such line, preferring those above (a transform adds lines on top)."""
    # per graph, once: a diagnosis maps thousands of functions to a few hundred files
    paths = g.__dict__.setdefault("_heaplens_source_paths", {})
    if (url, root) not in paths:
        paths[(url, root)] = source_path(url, root)
    path = paths[(url, root)]
    if path is None:
        return None
    code = _script_source(g, fn)
    compiled = g.__dict__.setdefault("_heaplens_code_lines", {})
    if code is not None and code not in compiled:
        compiled[code] = code.split("\n")
    lines = compiled[code] if code is not None else []
    if not 0 <= line0 < len(lines):  # V8 keeps 1,024 characters of a string: the line is past them
        return _by_named_neighbours(g, fn, path, line0)
    want = lines[line0].strip()
    if not want:
        return None
    disk = _on_disk(g, path)
    if disk is None:
        return None
    orig = disk[1]
    hits = [i for i, text in enumerate(orig) if text.strip() == want]
    if not hits:  # the transform rewrote the line (imports become `__vi_import_0__.x`): compare without them
        norm = _untransformed(want)
        hits = [i for i, text in enumerate(orig) if _untransformed(text.strip()) == norm]
    if not hits:
        return _by_named_neighbours(g, fn, path, line0)
    return min(hits, key=lambda i: (abs(i - line0) + (0 if i <= line0 else 0.5))) + 1


def _on_disk(g: HeapGraph, path: Path) -> tuple[str, list[str]] | None:
    """A source file's text and its lines, read once per graph (None: it cannot be read)."""
    cache = g.__dict__.setdefault("_heaplens_disk", {})
    if path not in cache:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            cache[path] = None
        else:
            cache[path] = (text, text.split("\n"))
    return cache[path]


def _by_named_neighbours(g: HeapGraph, fn: int, path: Path, line0: int) -> int | None:
    """The line on disk from the shift of the named functions and classes of the same script: V8's line of
    each (in the compiled code) against the line that declares it in the file; the nearest one at or above
    ``line0`` gives the shift (a transform adds its lines at the top)."""
    loc = g.location_of(fn)
    if loc is None:
        return None
    shifts = _shifts(g, loc[0], path)
    above = [(v8, d) for v8, d in shifts if v8 <= line0]
    if above:
        return line0 - max(above)[1] + 1
    below = [(v8, d) for v8, d in shifts if v8 > line0]  # none above: the nearest below (a shift made at the top)
    return line0 - min(below)[1] + 1 if below else None


def _shifts(g: HeapGraph, script_id: int, path: Path) -> list[tuple[int, int]]:
    """(V8 line, V8 line − line on disk) of the named functions of a script whose declaration the file shows."""
    cache = g.__dict__.setdefault("_heaplens_shifts", {})
    if script_id in cache:
        return cache[script_id]
    out: list[tuple[int, int]] = []
    disk = _on_disk(g, path)
    if disk is None:
        cache[script_id] = out
        return out
    text = disk[0]
    locs = g.snap.locations
    lf = g.snap.layout.location_fields
    nf = g.snap.layout.node_field_count
    rows = np.flatnonzero(locs[:, lf.index("script_id")] == script_id)
    nodes = locs[rows, lf.index("object_index")] // nf
    ok = nodes < g.n
    rows, nodes = rows[ok], nodes[ok]
    closures = np.asarray(g.ntype)[nodes] == g.nt.get("closure", -1)  # functions (objects sit at their constructor)
    rows, nodes = rows[closures], nodes[closures]
    # one row per function name: a leak's thousands of anonymous closures of one script must not hide its named ones
    _, first = np.unique(np.asarray(g.nname)[nodes], return_index=True)
    for r in rows[np.sort(first)].tolist():
        k = int(locs[r, lf.index("object_index")]) // nf
        name = g.node_name(k)
        if not name or not IDENTIFIER.fullmatch(name):
            continue
        m = _declaration(text, name, path, g)
        if m:
            at = m.start()
            if re.match(r"[ \t]*(?:export\s+)?(?:default\s+)?class\b", text[at:m.end()]):
                # a class's function is its constructor: V8 puts it at `constructor(`
                nxt = re.search(r"^[ \t]*(?:export\s+)?(?:default\s+)?class\b", text[m.end():], re.M)
                body = text[m.end():m.end() + nxt.start()] if nxt else text[m.end():]
                c = re.search(r"\bconstructor\s*\(", body)
                if c:
                    at = m.end() + c.start()
            disk0 = text.count("\n", 0, at)
            out.append((int(locs[r, lf.index("line")]), int(locs[r, lf.index("line")]) - disk0))
    cache[script_id] = out
    return out


def declaration_pattern(name: str) -> re.Pattern:
    """A line that declares function or class ``name`` (``export default async function name``, ``class name``,
    a method ``static name(…) {``): from the line's start, whitespace, ``*`` and keywords, then the name."""
    n = re.escape(name)
    return re.compile(rf"^[ \t]*(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\s*\*?\s*{n}\b|class\s+{n}\b|"
                      rf"(?:static\s+)?(?:async\s+)?{n}\s*\([^)]*\)\s*\{{)", re.M)


@dataclass(frozen=True)
class Declared:
    """Where ``declaration_pattern(name)`` matches: its span, as a match's ``start()`` and ``end()``."""
    at: int
    to: int

    def start(self) -> int:
        return self.at

    def end(self) -> int:
        return self.to


def _space_run(text: str, i: int) -> int:
    """The end of the run of ``\\s`` characters (str.isspace, as re's) from ``i``."""
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    return i


def _keyword(text: str, i: int, kw: str) -> int | None:
    """``kw\\s+`` at ``i``: where it ends (the whitespace run is taken whole: nothing that can follow it in the
    pattern starts with whitespace), or None."""
    j = i + len(kw)
    if text.startswith(kw, i) and j < len(text) and text[j].isspace():
        return _space_run(text, j)
    return None


def _is_word(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] == "_")


def _name_ends(text: str, i: int, name: str) -> int | None:
    """``name\\b`` at ``i``: its end, or None."""
    j = i + len(name)
    if text.startswith(name, i) and _is_word(text, j - 1) != _is_word(text, j):
        return j
    return None


def declaration_at(text: str, p: int, name: str) -> int | None:
    """``declaration_pattern(name).match(text, p)`` for a line start ``p``, without compiling a pattern per name:
    the end of the match, or None. The pattern's parses tried in the order its backtracking tries them (each
    optional keyword taken before left out, the alternatives in their order); each parse's end follows from where
    the name is, and a whitespace run is only ever taken whole (the pattern's next item never starts with
    whitespace), so the first parse that holds gives the same end as the regular expression."""
    n = len(text)
    i = p
    while i < n and text[i] in " \t":
        i += 1
    for a in ((_keyword(text, i, "export"), i) if text.startswith("export", i) else (i,)):
        if a is None:
            continue
        for b in ((_keyword(text, a, "default"), a) if text.startswith("default", a) else (a,)):
            if b is None:
                continue
            for c in ((_keyword(text, b, "async"), b) if text.startswith("async", b) else (b,)):
                if c is None:
                    continue
                end = _declaration_tail(text, c, name)
                if end is not None:
                    return end
    return None


def _declaration_tail(text: str, i: int, name: str) -> int | None:
    """The pattern's alternatives from ``i``: ``function\\s*\\*?\\s*name\\b``, ``class\\s+name\\b``,
    ``(?:static\\s+)?(?:async\\s+)?name\\s*\\([^)]*\\)\\s*\\{``."""
    if text.startswith("function", i):
        j = _space_run(text, i + 8)
        if text.startswith("*", j):
            j = _space_run(text, j + 1)
        end = _name_ends(text, j, name)
        if end is not None:
            return end
    if text.startswith("class", i):
        j = _keyword(text, i, "class")
        end = None if j is None else _name_ends(text, j, name)
        if end is not None:
            return end
    for a in ((_keyword(text, i, "static"), i) if text.startswith("static", i) else (i,)):
        if a is None:
            continue
        for b in ((_keyword(text, a, "async"), a) if text.startswith("async", a) else (a,)):
            if b is None or not text.startswith(name, b):
                continue
            j = _space_run(text, b + len(name))
            if not text.startswith("(", j):
                continue
            j = text.find(")", j + 1)
            if j < 0:
                continue
            j = _space_run(text, j + 1)
            if text.startswith("{", j):
                return j + 1
    return None


# the characters between a line's start and the name in a declaration_pattern match: whitespace, `*` and the
# keywords' letters — as a superset, every character but ASCII digits and punctuation
_BEFORE_NAME = np.zeros(128, dtype=bool)
for _c in " \t\n\v\f\r\x1c\x1d\x1e\x1f*abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _BEFORE_NAME[ord(_c)] = True


class DeclarationIndex:
    """A source text's line starts and, per position, where the run of characters that can come between a line's
    start and a declared name (_BEFORE_NAME) ending there begins: :meth:`first` is ``declaration_pattern(name)
    .search(text)``, tried only at the line starts from which such a run reaches an occurrence of the name."""

    def __init__(self, text: str):
        self.text = text
        cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ok = np.ones(len(cp), dtype=bool)
        ascii_ = cp < 128
        ok[ascii_] = _BEFORE_NAME[cp[ascii_]]
        self.line_starts = np.concatenate([[0], np.flatnonzero(cp == ord("\n")) + 1]).astype(np.int64)
        del cp, ascii_
        # run_from[i]: where the run through i starts (i + 1 when text[i] is not of it); int32: a source is < 2**31
        self.run_from = np.arange(1, len(ok) + 1, dtype=np.int32)
        self.run_from[ok] = 0
        np.maximum.accumulate(self.run_from, out=self.run_from)

    def first(self, name: str) -> Declared | None:
        found, i = [], self.text.find(name)
        while i >= 0:  # every occurrence, overlapping ones too
            found.append(i)
            i = self.text.find(name, i + 1)
        if not found:
            return None
        q = np.array(found, dtype=np.int64)
        start = np.where(q > 0, self.run_from[np.maximum(q - 1, 0)], 0)  # where a run ending before the name begins
        lo = np.searchsorted(self.line_starts, start)
        hi = np.searchsorted(self.line_starts, q, side="right")
        for p in np.unique(np.concatenate([self.line_starts[a:b] for a, b in zip(lo.tolist(), hi.tolist())])).tolist():
            end = declaration_at(self.text, p, name)
            if end is not None:
                return Declared(p, end)
        return None


def _declaration(text: str, name: str, path: Path, g: HeapGraph) -> Declared | None:
    """``declaration_pattern(name).search(text)`` of a file on disk (its index made once per graph)."""
    cache = g.__dict__.setdefault("_heaplens_declarations", {})
    if path not in cache:
        cache[path] = DeclarationIndex(text)
    return cache[path].first(name)


_SSR_REF = re.compile(r"\(0,\s*(__vi_import_\d+__|__vite_ssr_import_\d+__)\.([\w$]+)\)|"
                      r"(__vi_import_\d+__|__vite_ssr_import_\d+__)\.(?:default\.)?([\w$]+)")


def _untransformed(line: str) -> str:
    """A line as written before Vite's SSR transform, roughly: ``(0, __vi_import_0__.foo)(`` → ``foo(``,
    ``__vi_import_1__.default.createServer`` → ``createServer``; whitespace dropped."""
    out = _SSR_REF.sub(lambda m: m.group(2) or m.group(4), line)
    out = re.sub(r"\b[\w$]+\.(?=[\w$]+\()", "", out)  # `http.createServer(` ~ `createServer(`
    return re.sub(r"\s+", "", out)


def registration_line(path: Path | None, name: str | None, near: int | None, kind: str) -> int | None:
    """The line that registers a named callback (``process.on('exit', onExit)``,
    ``setInterval(tick, …)``) nearest after its definition, or None."""
    if path is None or not name or not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
        return None
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    n = re.escape(name)
    if kind == "listener":
        pat = rf"\.\s*(?:on|once|addListener|prependListener|prependOnceListener|addEventListener)\s*\(\s*[^,()]+,\s*{n}\b"
    else:
        pat = rf"\b(?:setInterval|setTimeout|setImmediate)\s*\(\s*{n}\b"
    best = None
    for m in re.finditer(pat, text):
        ln = text.count("\n", 0, m.start()) + 1
        if best is None or (near is not None and abs(ln - near) < abs(best - near)):
            best = ln
    return best
