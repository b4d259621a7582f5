"""A slow, obvious reading of a V8 .heapsnapshot (``json.loads`` and plain loops), used to count the
objects a scenario plants — on purpose without heaplens's reader, graph or verdict code, so that a
label is checked against the snapshot itself.

A count selects nodes by name (the DevTools class name for objects: the constructor's name) and type
(``object`` unless told), and optionally by exact self size, by the exact set of its named property
edges (plain objects of one shape; note that properties holding small integers are not edges in a
snapshot), or by a property whose string value contains a text."""

from __future__ import annotations

import json
from itertools import accumulate
from pathlib import Path

STRING_TYPES = ("string", "concatenated string", "sliced string")


class RefSnapshot:
    def __init__(self, path: str | Path):
        doc = json.loads(Path(path).read_text())
        meta = doc["snapshot"]["meta"]
        self.node_fields = meta["node_fields"]
        self.edge_fields = meta["edge_fields"]
        self.node_types = meta["node_types"][0]
        self.edge_types = meta["edge_types"][0]
        self.strings = doc["strings"]
        self.nodes = doc["nodes"]
        self.edges = doc["edges"]
        self.nf = len(self.node_fields)
        self.ef = len(self.edge_fields)
        self.n = len(self.nodes) // self.nf
        f = self.node_fields.index
        self._type, self._name, self._size = f("type"), f("name"), f("self_size")
        self._ecount = f("edge_count")
        e = self.edge_fields.index
        self._etype, self._ename, self._eto = e("type"), e("name_or_index"), e("to_node")
        counts = (self.nodes[i * self.nf + self._ecount] for i in range(self.n))
        self.first_edge = [0, *accumulate(counts)]

    def js_heap_size(self) -> int:
        """The sum of the self sizes of every node but the native ones (ArrayBuffer backing stores and
        other embedder memory): the snapshot's (GC-settled) JS heap."""
        native = self.node_types.index("native")
        sizes, types = self.nodes[self._size::self.nf], self.nodes[self._type::self.nf]
        return sum(size for size, t in zip(sizes, types) if t != native)

    def node(self, i: int) -> tuple[str, str, int]:
        base = i * self.nf
        return (self.node_types[self.nodes[base + self._type]], self.strings[self.nodes[base + self._name]],
                self.nodes[base + self._size])

    def properties(self, i: int) -> dict[str, int]:
        """Own named properties of node i (``property`` edges) → target node index."""
        out = {}
        for k in range(self.first_edge[i], self.first_edge[i + 1]):
            base = k * self.ef
            if self.edge_types[self.edges[base + self._etype]] == "property":
                out[self.strings[self.edges[base + self._ename]]] = self.edges[base + self._eto] // self.nf
        return out

    def count(self, name: str, type: str = "object", size: int | None = None, props: list[str] | None = None,
              where: dict[str, str] | None = None) -> int:
        want_type = self.node_types.index(type)
        want_name = {i for i, s in enumerate(self.strings) if s == name}
        shape = set(props) if props else None
        n = 0
        for i in range(self.n):
            base = i * self.nf
            if self.nodes[base + self._type] != want_type or self.nodes[base + self._name] not in want_name:
                continue
            if size is not None and self.nodes[base + self._size] != size:
                continue
            if shape is not None or where:
                own = self.properties(i)
                if shape is not None and (set(own) - {"__proto__"} != shape or self._template(own, shape)):
                    continue
                if where and not all(self._string_contains(own.get(k), text) for k, text in where.items()):
                    continue
            n += 1
        return n

    def _template(self, own: dict[str, int], shape: set[str]) -> bool:
        """V8's template of an object literal (its AllocationSite's boilerplate): the literal's shape, each
        property holding an uninitialised internal value (a hidden Oddball) — not an object of the program."""
        return all(self.node(own[k])[0] == "hidden" for k in shape)

    def string_value(self, i: int) -> str | None:
        """The text of a string node: a flat string's name, a concatenated string's parts joined (its
        ``first`` and ``second`` edges); None for anything else (a sliced string's offset is not in a
        snapshot)."""
        t, name, _ = self.node(i)
        if t == "string":
            return name
        if t != "concatenated string":
            return None
        parts = {}
        for k in range(self.first_edge[i], self.first_edge[i + 1]):
            base = k * self.ef
            edge_name = self.edges[base + self._ename]
            if self.edge_types[self.edges[base + self._etype]] == "internal" and self.strings[edge_name] in ("first", "second"):
                parts[self.strings[edge_name]] = self.edges[base + self._eto] // self.nf
        first, second = (self.string_value(parts[k]) if k in parts else None for k in ("first", "second"))
        return None if first is None or second is None else first + second

    def _string_contains(self, i: int | None, text: str) -> bool:
        if i is None:
            return False
        value = self.string_value(i)
        return value is not None and text in value


def count_spec(snap: RefSnapshot, spec: dict) -> int:
    return snap.count(spec["class"], type=spec.get("type", "object"), size=spec.get("size"),
                      props=spec.get("props"), where=spec.get("where"))
