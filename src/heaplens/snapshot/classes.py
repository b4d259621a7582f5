"""DevTools class names (the Summary view's "Constructor" column) for snapshot nodes.

Same rules as DevTools' ``calculateObjectNames``: ``hidden`` → ``(system)``, ``code`` →
``(compiled code)``, ``closure`` → ``Function``, ``regexp`` → ``RegExp``, ``object``/``native`` → the
node's own name (``<div id=…>`` cut to ``<div>``), anything else → ``(<type>)``.
Plain objects (``object`` nodes named ``Object``) get DevTools' interface names such as ``{a, b, c}``
when the edges are at hand (:meth:`NodeClasses.name_plain_objects`, used by the graph).
"""

from __future__ import annotations

import json
import re

import numpy as np

from .. import kernels as K
from .reader import HeapSnapshot
from .strings import hash_text

C = K.compiled()  # the graph's plain-object kernels (g_*): only name_plain_objects uses them

TYPE_CLASS = {
    "hidden": "(system)",
    "code": "(compiled code)",
    "closure": "Function",
    "regexp": "RegExp",
}
NAMED_TYPES = ("object", "native")


def type_class_label(type_name: str) -> str | None:
    """Class label of every node of a type, or None when the class is the node's own name."""
    if type_name in NAMED_TYPES:
        return None
    return TYPE_CLASS.get(type_name, f"({type_name})")


# DevTools HeapSnapshot.ts (inferInterfaceDefinitions)
MIN_INTERFACE_PROPERTY_COUNT = 1
MAX_INTERFACE_NAME_LENGTH = 120  # UTF-16 code units
MIN_OBJECT_COUNT_PER_INTERFACE = 2
MIN_OBJECT_PROPORTION_PER_INTERFACE = 1000

_NEEDS_QUOTES = re.compile(r"[,'\"{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def utf16_len(s: str) -> int:
    """Length in UTF-16 code units (JavaScript's ``length``)."""
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def js_sort_key(s: str) -> bytes:
    """Orders strings as JavaScript's default sort does (by UTF-16 code units)."""
    return s.encode("utf-16-be", "surrogatepass")


def format_property_name(name: str) -> str:
    """DevTools ``JSHeapSnapshotNode.formatPropertyName``: names with a comma, quote or brace are
    written as a JSON string (``JSON.stringify``: lone surrogates escaped as ``\\udxxx``)."""
    if _NEEDS_QUOTES.search(name):
        name = json.dumps(name, ensure_ascii=False)
        name = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", name)
    return name


def interface_name(properties: list[str]) -> str:
    """``{a, b, c}`` from property names already cut to DevTools' length limit."""
    return "{" + ", ".join(format_property_name(p) for p in properties) + "}"


def normalize_object_name(name: str) -> str:
    """``<div id="a">`` → ``<div>``; ``Detached <div id="a">`` → ``Detached <div>``."""
    if name.startswith("<"):
        sp = name.find(" ")
        return name[:sp] + ">" if sp != -1 else name
    if name.startswith("Detached <"):
        sp = name.find(" ", 10)
        return name[:sp] + ">" if sp != -1 else name
    return name


class NodeClasses:
    """Class id of every node plus the names behind the ids.

    Ids below ``len(strings)`` are string indices (objects named by their constructor); ids from
    ``len(strings)`` on index :attr:`extra` (type labels and cut ``<tag …>`` names). Computed by a C
    loop with no node-sized temporaries. ``key_cid`` (optional) maps ``ids`` to class ids when a
    caller (the graph) re-keys them.
    """

    def __init__(self, snap: HeapSnapshot, ntype: np.ndarray | None = None, nname: np.ndarray | None = None):
        ntype = snap.nodes["type"] if ntype is None else ntype
        nname = snap.nodes["name"] if nname is None else nname
        nstrings = len(snap.strings)
        self._strings = snap.strings
        self._nstrings = nstrings
        self._layout = snap.layout
        self.extra: list[str] = []
        self._index: dict[str, int] = {}
        self.interfaces: list[dict] = []
        extra_id = self.extra_id

        per_type = np.empty(len(snap.layout.node_types), dtype=np.int64)
        for t, tname in enumerate(snap.layout.node_types):
            label = type_class_label(tname)
            per_type[t] = -1 if label is None else extra_id(label)
        ntype = np.ascontiguousarray(ntype, dtype=np.uint8)
        nname = np.ascontiguousarray(nname, dtype=np.uint32)
        ids = np.empty(len(ntype), dtype=np.uint32)
        used = np.zeros(nstrings, dtype=np.uint8)
        if K.node_class_ids(ntype, nname, per_type, ids, used) != 0:
            raise ValueError("NodeClasses: a node type or name index is out of range")
        # names DevTools cuts ("<div id=…>" → "<div>"): few, found by their first raw byte
        remap = None
        for s in np.flatnonzero(used).tolist():
            raw = snap.strings.raw(s)
            if raw[:1] == b"<" or raw[:10] == b"Detached <":
                full = snap.strings[s]
                cut = normalize_object_name(full)
                if cut != full:
                    if remap is None:
                        remap = np.full(nstrings, -1, dtype=np.int64)
                    remap[s] = extra_id(cut)
        if remap is not None:
            K.remap_ids(ids, ntype, per_type, remap)
        self.ids = ids
        self._ntype, self._nname = ntype, nname
        self.key_cid: np.ndarray | None = None

    def extra_id(self, label: str) -> int:
        """Class id of a label that is not a string of the snapshot (one id per label text)."""
        i = self._index.get(label)
        if i is None:
            i = self._index[label] = self._nstrings + len(self.extra)
            self.extra.append(label)
        return i

    def name_plain_objects(self, first: np.ndarray, etype: np.ndarray, ename: np.ndarray,
                           definitions: list[dict] | None = None) -> list[dict]:
        """DevTools' ``inferInterfaceDefinitions`` + ``applyInterfaceDefinitions``: plain objects
        (``object`` nodes named ``Object``) take the name of the best interface definition they
        match, e.g. ``{a, b, c}``. ``first`` is the CSR of the edges (uint32, n+1), ``etype`` and
        ``ename`` their type and name index. ``definitions`` (DevTools' JSON form: ``name``,
        ``properties`` as texts, ``count``) are applied instead of inferring this snapshot's own,
        as DevTools' Comparison view applies the later snapshot's to the earlier one. Returns the
        definitions in DevTools' order (also kept as :attr:`interfaces`). Call it before the ids
        are re-keyed."""
        layout = self._layout
        object_t = layout.node_type_index("object")
        property_t = layout.edge_type_index("property")
        object_s = self._find("Object")
        if object_t < 0 or property_t < 0 or object_s < 0:
            return []
        strings = self._strings
        nstr = self._nstrings
        ntype, nname = self._ntype, self._nname
        etype = np.ascontiguousarray(etype, dtype=np.uint8)
        ename = np.ascontiguousarray(ename, dtype=np.uint32)
        mark = np.zeros(nstr, dtype=np.uint8)
        total = C.g_plain_props(first, etype, ename, ntype, nname, object_t, object_s, property_t, mark)
        if total == 0:
            return []
        # the property names of plain objects: formatted length, and rank in JavaScript's order
        used = np.flatnonzero(mark).tolist()
        texts = [strings[s] for s in used]
        flen = np.zeros(nstr, dtype=np.uint32)
        for s, t in zip(used, texts):
            flen[s] = utf16_len(format_property_name(t))
        proto_s = self._find("__proto__")
        nodes = np.empty(total, dtype=np.uint32)
        hashes = np.empty(total, dtype=np.uint64)
        counts = np.empty(total, dtype=np.uint32)
        C.g_interface_keys(first, etype, ename, ntype, nname, object_t, object_s, property_t, proto_s, flen,
                           MAX_INTERFACE_NAME_LENGTH, nodes, hashes, counts)
        if definitions is not None:
            defs = [{"name": d["name"], "properties": list(d["properties"]), "count": d.get("count", 0)}
                    for d in definitions]
        else:
            defs = self._infer(first, etype, ename, total, nodes, hashes, counts, used, texts, property_t, proto_s)
        if not defs:
            return []
        self._apply(first, etype, ename, defs, total, nodes, used, texts, property_t)
        self.interfaces = defs
        return defs

    def _infer(self, first, etype, ename, total, nodes, hashes, counts, used, texts, property_t, proto_s):
        """The definitions: names shared by at least max(2, total / 1000) plain objects."""
        named = np.flatnonzero(counts > 0)
        if not len(named):
            return []
        uniq, first_pos, cnt = np.unique(hashes[named], return_index=True, return_counts=True)
        first_pos = named[first_pos]  # first object (node order) with that name
        min_count = max(MIN_OBJECT_COUNT_PER_INTERFACE, total / MIN_OBJECT_PROPORTION_PER_INTERFACE)
        keep = np.flatnonzero(cnt >= min_count)
        # most popular first; ties in order of first appearance (a JavaScript Map, stable sort)
        keep = keep[np.lexsort((first_pos[keep], -cnt[keep]))]
        text_of = dict(zip(used, texts))
        defs = []
        for i in keep.tolist():
            k = int(nodes[first_pos[i]])
            want = int(counts[first_pos[i]])
            props = []
            for e in range(int(first[k]), int(first[k + 1])):
                if etype[e] == property_t and int(ename[e]) != proto_s:
                    props.append(int(ename[e]))
                    if len(props) == want:
                        break
            names = [text_of[p] for p in props]
            defs.append({"name": interface_name(names), "properties": names, "count": int(cnt[i])})
        return defs

    def _apply(self, first, etype, ename, defs, total, nodes, used, texts, property_t) -> None:
        """Every plain object takes the best definition whose property set it contains."""
        # the trie of sorted property lists; keys are ranks in JavaScript's string order
        order = sorted(range(len(used)), key=lambda j: js_sort_key(texts[j]))
        rank = np.full(self._nstrings, 0xFFFFFFFF, dtype=np.uint32)
        rank_of: dict[str, int] = {}
        r, prev = -1, None
        for j in order:
            key = js_sort_key(texts[j])
            if key != prev:
                r, prev = r + 1, key
            rank[used[j]] = r
            rank_of[texts[j]] = r
        children: list[dict[int, int]] = [{}]
        match = [-1]
        depth = [0]
        for di, d in enumerate(defs):
            ranks = [rank_of.get(p) for p in d["properties"]]
            if not ranks or None in ranks:
                continue  # a property no plain object of this snapshot has: matches nothing
            t = 0
            for p in sorted(ranks):
                nxt = children[t].get(p)
                if nxt is None:
                    nxt = len(children)
                    children[t][p] = nxt
                    children.append({})
                    match.append(-1)
                    depth.append(depth[t] + 1)
                t = nxt
            if match[t] < 0:  # an earlier definition with the same properties wins
                match[t] = di
        T = len(children)
        tfirst = np.zeros(T + 1, dtype=np.uint32)
        tfirst[1:] = np.cumsum([len(c) for c in children])
        tkey = np.array([k for c in children for k in sorted(c)], dtype=np.uint32)
        tchild = np.array([c[k] for c in children for k in sorted(c)], dtype=np.uint32)
        tgreatest = np.array([max(c) if c else -1 for c in children], dtype=np.int64)
        tmatch = np.array(match, dtype=np.int32)
        tcount = np.array(depth, dtype=np.uint32)
        best = np.empty(total, dtype=np.int32)
        C.g_apply_interfaces(first, etype, ename, nodes, property_t, rank, tfirst, tkey, tchild, tgreatest, tmatch,
                             tcount, best)
        def_cid = np.array([self.extra_id(d["name"]) for d in defs], dtype=np.uint32)
        hit = best >= 0
        self.ids[nodes[hit]] = def_cid[best[hit]]

    def _find(self, text: str) -> int:
        h = hash_text(text)
        for i in np.flatnonzero(self._strings.hashes == np.uint64(h)).tolist():
            if self._strings[i] == text:
                return i
        return -1

    def name(self, cid: int) -> str:
        cid = int(cid)
        if cid < self._nstrings:
            return self._strings[cid]
        return self.extra[cid - self._nstrings]

    def of_node(self, ordinal: int) -> str:
        c = self.ids[ordinal]
        return self.name(c if self.key_cid is None else self.key_cid[c])
