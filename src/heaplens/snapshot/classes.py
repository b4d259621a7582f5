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
    ``len(strings)`` on index :attr:`extra` (type labels and cut ``<tag …>`` names).
    """

    def __init__(self, snap: HeapSnapshot):
        types = snap.nodes["type"]
        names = snap.nodes["name"]
        nstrings = len(snap.strings)
        self._strings = snap.strings
        self.extra: list[str] = []
        extra_index: dict[str, int] = {}

        def extra_id(label: str) -> int:
            if label not in extra_index:
                extra_index[label] = nstrings + len(self.extra)
                self.extra.append(label)
            return extra_index[label]

        per_type = np.empty(len(snap.layout.node_types), dtype=np.int64)
        for t, tname in enumerate(snap.layout.node_types):
            label = type_class_label(tname)
            per_type[t] = -1 if label is None else extra_id(label)
        ids = per_type[types]
        named = ids < 0
        ids[named] = names[named]
        # Names that DevTools cuts ("<div id=…>"): few, found by their first raw byte.
        mark = np.zeros(nstrings, dtype=bool)
        mark[names[named]] = True
        used = np.flatnonzero(mark)
        remap: dict[int, int] = {}
        for s in used:
            raw = snap.strings.raw(int(s))
            if raw[:1] == b"<" or raw[:10] == b"Detached <":
                full = snap.strings[int(s)]
                cut = normalize_object_name(full)
                if cut != full:
                    remap[int(s)] = extra_id(cut)
        for s, cid in remap.items():
            ids[named & (names == s)] = cid
        self.ids = ids.astype(np.uint32)
        self._nstrings = nstrings

    def name(self, cid: int) -> str:
        cid = int(cid)
        if cid < self._nstrings:
            return self._strings[cid]
        return self.extra[cid - self._nstrings]

    def of_node(self, ordinal: int) -> str:
        return self.name(self.ids[ordinal])
