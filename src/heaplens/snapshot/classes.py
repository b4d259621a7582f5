"""DevTools class names (the Summary view's "Constructor" column) for snapshot nodes.

Same rules as DevTools' ``calculateObjectNames``: ``hidden`` → ``(system)``, ``code`` →
``(compiled code)``, ``closure`` → ``Function``, ``regexp`` → ``RegExp``, ``object``/``native`` → the
node's own name (``<div id=…>`` cut to ``<div>``), anything else → ``(<type>)``.
Plain-object interface inference (``{a, b}``) needs the edges and is not done here.
"""

from __future__ import annotations

import numpy as np

from .reader import HeapSnapshot

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
        from .. import kernels as K

        ntype = snap.nodes["type"] if ntype is None else ntype
        nname = snap.nodes["name"] if nname is None else nname
        nstrings = len(snap.strings)
        self._strings = snap.strings
        self._nstrings = nstrings
        self.extra: list[str] = []
        index: dict[str, int] = {}

        def extra_id(label: str) -> int:
            if label not in index:
                index[label] = nstrings + len(self.extra)
                self.extra.append(label)
            return index[label]

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
        self.key_cid: np.ndarray | None = None

    def name(self, cid: int) -> str:
        cid = int(cid)
        if cid < self._nstrings:
            return self._strings[cid]
        return self.extra[cid - self._nstrings]

    def of_node(self, ordinal: int) -> str:
        c = self.ids[ordinal]
        return self.name(c if self.key_cid is None else self.key_cid[c])
