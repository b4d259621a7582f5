"""Slow, obvious reference implementations (json.load + dicts) to check the fast paths against."""

from __future__ import annotations

import gzip
import json
import re
from collections import deque
from pathlib import Path


def load(path: Path) -> dict:
    opener = gzip.open if Path(path).read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def node_rows(doc: dict) -> list[dict]:
    meta = doc["snapshot"]["meta"]
    fields = meta["node_fields"]
    n = len(fields)
    nodes = doc["nodes"]
    return [dict(zip(fields, nodes[i : i + n])) for i in range(0, len(nodes), n)]


def families(doc: dict) -> dict[tuple[str, str], tuple[int, int]]:
    """{(type, name): (count, self size sum)} — the grouping of heapsnapshot-delta.mjs."""
    types = doc["snapshot"]["meta"]["node_types"][0]
    strings = doc["strings"]
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for row in node_rows(doc):
        key = (types[row["type"]], strings[row["name"]])
        c, s = out.get(key, (0, 0))
        out[key] = (c + 1, s + row["self_size"])
    return out


def class_name(type_name: str, name: str) -> str:
    if type_name == "hidden":
        return "(system)"
    if type_name == "code":
        return "(compiled code)"
    if type_name == "closure":
        return "Function"
    if type_name == "regexp":
        return "RegExp"
    if type_name in ("object", "native"):
        if name.startswith("<") and " " in name:
            return name[: name.index(" ")] + ">"
        if name.startswith("Detached <") and " " in name[10:]:
            return name[: name.index(" ", 10)] + ">"
        return name
    return f"({type_name})"


def classes(doc: dict) -> dict[str, tuple[int, int]]:
    """{class name: (count, self size sum)}: the nodes grouped by their (type, name) indices in one pass over the
    node columns (no dict per node: a 120 MB snapshot's 2.2 s become 0.75 s), then each distinct pair named."""
    meta = doc["snapshot"]["meta"]
    types, fields, strings, nodes = meta["node_types"][0], meta["node_fields"], doc["strings"], doc["nodes"]
    n = len(fields)
    col = {f: nodes[fields.index(f)::n] for f in ("type", "name", "self_size")}
    pairs: dict[tuple[int, int], tuple[int, int]] = {}
    for key in zip(col["type"], col["name"], col["self_size"]):
        c, s = pairs.get(key[:2], (0, 0))
        pairs[key[:2]] = (c + 1, s + key[2])
    out: dict[str, tuple[int, int]] = {}
    for (t, name), (count, size) in pairs.items():
        key = class_name(types[t], strings[name])
        c, s = out.get(key, (0, 0))
        out[key] = (c + count, s + size)
    return out


def dump(doc: dict, path: Path, newlines: bool = False) -> Path:
    """Write a snapshot document the way V8 does (sections in order); optionally one record per line."""
    meta = doc["snapshot"]
    parts = ['{"snapshot":' + json.dumps(meta, separators=(",", ":"))]
    nf = len(meta["meta"].get("node_fields", [0]))
    ef = len(meta["meta"].get("edge_fields", [0]))

    def arr(values, width):
        if not newlines or not values:
            return "[" + ",".join(map(str, values)) + "]"
        recs = [",".join(map(str, values[i : i + width])) for i in range(0, len(values), width)]
        return "[" + "\n,".join(recs) + "]"

    parts.append('"nodes":' + arr(doc["nodes"], nf))
    parts.append('"edges":' + arr(doc["edges"], ef))
    for key in ("trace_function_infos", "trace_tree", "samples", "locations"):
        if key in doc:
            parts.append(f'"{key}":' + json.dumps(doc[key], separators=(",", ":")))
    sep = ",\n" if newlines else ","
    parts.append('"strings":[' + sep.join(json.dumps(s) for s in doc["strings"]) + "]")
    Path(path).write_text(",\n".join(parts) + "}")
    return Path(path)


# -- the same object in two snapshots (heaplens.graph.identity), by hand -------------------------------------------
IMMUTABLE = {"closure": {"shared", "context", "bound_function", "bound_this"}, "code": {"source"},
             "object": {"previous", "scope_info"}}
STRINGS = {"string", "concatenated string", "sliced string"}
TAGGED = {"hidden", "array", "code", "object shape"}  # types V8 may name by the first object that refers to it


def _tag(name: str) -> bool:
    return name == "" or (len(name) >= 2 and name[0] == "(" and name[-1] == ")")


def objects(doc: dict) -> dict[int, dict]:
    """{id: {type, name, self_size, edges: [(edge type, edge name, target id)]}} — plain json."""
    meta = doc["snapshot"]["meta"]
    types, etypes = meta["node_types"][0], meta["edge_types"][0]
    ef = meta["edge_fields"]
    strings, edges = doc["strings"], doc["edges"]
    rows = node_rows(doc)
    nf = len(meta["node_fields"])
    out, pos = {}, 0
    for row in rows:
        es = []
        for k in range(row["edge_count"]):
            e = dict(zip(ef, edges[pos + k * len(ef): pos + (k + 1) * len(ef)]))
            t = etypes[e["type"]]
            name = strings[e["name_or_index"]] if t not in ("element", "hidden") else None
            es.append((t, name, rows[e["to_node"] // nf]["id"]))
        pos += row["edge_count"] * len(ef)
        out[row["id"]] = {"type": types[row["type"]], "name": strings[row["name"]], "self_size": row["self_size"],
                          "edges": es}
    return out


def same_kind(b: dict, a: dict) -> bool:
    """``b`` (earlier) and ``a`` (later), of one id, are the same kind of object: the same type and name; a
    concatenated or sliced string may have become a plain one; a native object is known by its type, and so is
    an internal one named by what refers to it (``(object elements)``, ``(constant elements)``, or no name)."""
    return (a["type"] == "native" == b["type"] or (b["type"], b["name"]) == (a["type"], a["name"])
            or (b["type"] in STRINGS - {"string"} and a["type"] == "string")
            or (a["type"] == b["type"] and a["type"] in TAGGED and _tag(a["name"]) and _tag(b["name"])))


def old_objects(before: dict, after: dict) -> set[int]:
    """The objects of ``after`` that were in ``before`` (``objects``): the same id and the same kind of object,
    and nothing they reference immutably is newer than they are."""
    old = {i for i, o in after.items() if i in before and same_kind(before[i], o)}
    changed = True
    while changed:
        changed = False
        for i in list(old):
            o = after[i]
            names = IMMUTABLE.get(o["type"], ())
            if any(t == "internal" and n in names and to not in old for t, n, to in o["edges"]):
                old.discard(i)
                changed = True
    return old


# -- what the program's roots reach (heaplens.graph.HeapGraph(program_roots=True)), by hand ------------------------
TRANSIENT = {("synthetic", "(Handle scope)"), ("native", "Node / CleanupQueue")}


def program_reachable(objs: dict) -> set[int]:
    """The ids of ``objects`` that a program root reaches: weak edges, the edges of the C++ handle scope and of
    Node's cleanup queues, identity maps among the strong roots do not count, and a WeakMap value is reached once
    both its key's and its table's edges are (V8's ephemeron rule)."""
    pair = re.compile(r"^\d+( / part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @\d+\))$", re.S)
    root = next(iter(objs))
    seen, q, sides = {root}, deque([root]), {}
    while q:
        v = q.popleft()
        o = objs[v]
        if (o["type"], o["name"]) in TRANSIENT:
            continue
        for t, n, to in o["edges"]:
            if t == "weak" or (o["name"] == "(Strong roots)" and (n or "").endswith("IdentityMapBase")):
                continue
            m = pair.match(n or "") if t == "internal" else None
            if m:
                sides[m.group(1)] = sides.get(m.group(1), 0) + 1
                if sides[m.group(1)] < 2:
                    continue
            if to not in seen:
                seen.add(to)
                q.append(to)
    return seen
