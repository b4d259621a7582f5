"""DevTools class ids per node, computed without n-sized temporaries (same rules and the same
``name()`` / ``extra`` / ``ids`` interface as :class:`heaplens.snapshot.NodeClasses`), so that it
can run beside the dominator kernel within the memory budget of multi-GB snapshots."""

from __future__ import annotations

import numpy as np

from ..snapshot.classes import normalize_object_name, type_class_label
from . import kernels as GK


class GraphClasses:
    def __init__(self, snap, ntype: np.ndarray, nname: np.ndarray):
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
        ids, used = GK.node_class_ids(ntype, nname, per_type, nstrings)
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
            GK.remap_ids(ids, ntype, per_type, remap)
        self.ids = ids
        self.key_cid = None  # set by HeapGraph.class_keys once ids holds the class keys

    def name(self, cid: int) -> str:
        cid = int(cid)
        if cid < self._nstrings:
            return self._strings[cid]
        return self.extra[cid - self._nstrings]

    def of_node(self, ordinal: int) -> str:
        c = self.ids[ordinal]
        return self.name(c if self.key_cid is None else self.key_cid[c])
