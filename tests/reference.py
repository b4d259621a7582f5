"""Slow, obvious reference implementations (json.load + dicts) to check the fast paths against."""

from __future__ import annotations

import gzip
import json
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
    types = doc["snapshot"]["meta"]["node_types"][0]
    strings = doc["strings"]
    out: dict[str, tuple[int, int]] = {}
    for row in node_rows(doc):
        key = class_name(types[row["type"]], strings[row["name"]])
        c, s = out.get(key, (0, 0))
        out[key] = (c + 1, s + row["self_size"])
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
