"""The knowledge the verdict needs about runtimes and runners (``rules.json``), as compiled patterns.

Nothing in the rules is a threshold: they say what an object *is* — a module record, a backing store,
a timer, code of the test runner — and the verdict follows from the holder (docs/diagnose.md).
``--rules FILE`` adds to them: a user's pattern is tried together with the built-in one (``a|b``), a
user's list comes first. :attr:`Rules.digest` identifies the effective rules (a cached report records it).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import UsageError
from ..inputfile import parse_json, read_text

SCHEMA_VERSION = 2


def _merge(base, extra, where: str):
    """``extra`` over ``base``: dicts merge key by key, lists are prepended, strings (patterns) are
    alternatives; ``about`` texts of the extra file are ignored."""
    if isinstance(base, dict):
        if not isinstance(extra, dict):
            raise UsageError(f"{where}: expected an object")
        out = dict(base)
        for k, v in extra.items():
            if k in ("about", "schema_version"):
                continue
            out[k] = _merge(base[k], v, f"{where}.{k}") if k in base else v
        return out
    if isinstance(base, list):
        if not isinstance(extra, list):
            raise UsageError(f"{where}: expected a list")
        return list(extra) + [x for x in base if x not in extra]
    if isinstance(base, str) and isinstance(extra, str):
        return f"(?:{extra})|(?:{base})" if extra else base
    return extra


def _compile(pattern, where: str) -> re.Pattern:
    if not isinstance(pattern, str):
        raise UsageError(f"{where}: expected a regular expression (a string)")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"{where}: bad regular expression: {exc}") from None


@dataclass
class KindRule:
    kind: str
    classes: re.Pattern | None
    new_classes: re.Pattern | None
    edges: re.Pattern | None
    context_variables: re.Pattern | None
    scripts: re.Pattern | None
    # a class match does not count when the chain leaves that object by one of these edges (a socket's own
    # listener list: the objects hang on a listener of the socket, not on the socket as a resource)
    not_leaving_by: re.Pattern | None = None


class Rules:
    def __init__(self, doc: dict, sources: list[str]):
        self.doc = doc
        self.sources = sources
        try:
            mr = doc["module_records"]
            self.module_classes = _compile(mr["classes"], "module_records.classes")
            self.module_plain = _compile(mr["plain_objects"], "module_records.plain_objects")
            self.url_properties = list(mr["url_properties"])
            self.importer_properties = list(mr["importer_properties"])
            self.registry_classes = (_compile(mr["registry_classes"], "module_records.registry_classes")
                                     if mr.get("registry_classes") else None)
            self.tool_scripts = _compile(doc["tool_scripts"], "tool_scripts")
            self.tool_globals = _compile(doc["tool_globals"], "tool_globals")
            self.import_bindings = _compile(doc["import_bindings"], "import_bindings")
            self.external = _compile(doc["external"]["classes"], "external.classes")
            self.engine_types = frozenset(doc["engine"]["types"])
            self.engine_classes = _compile(doc["engine"]["classes"], "engine.classes")
            hk = doc["holder_kinds"]
            self.kinds = []
            for kind in hk["order"]:
                r = hk[kind]
                self.kinds.append(KindRule(
                    kind,
                    *(_compile(r[k], f"holder_kinds.{kind}.{k}") if r.get(k) else None
                      for k in ("classes", "new_classes", "edges", "context_variables", "scripts", "not_leaving_by"))))
            self.registry_per_file_pools = frozenset(doc.get("registry_per_file_pools", {}).get("pools", []))
            self.fix_by_type = {k: v for k, v in doc["fix_by_type"].items() if k != "about"}
            self.fix_by_kind = dict(doc["fix_by_kind"])
        except (KeyError, TypeError) as exc:
            raise UsageError(f"rules ({', '.join(sources)}): missing or malformed entry {exc}") from None
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        self.digest = hashlib.sha256(text.encode()).hexdigest()[:16]

    def tool_script(self, url: str | None) -> bool:
        return bool(url) and self.tool_scripts.search(url) is not None

    def registry(self, class_name: str) -> bool:
        """A runner's container of module instances (its module registry or cache)."""
        return self.registry_classes is not None and self.registry_classes.search(class_name) is not None

    def module_record(self, class_name: str) -> bool:
        return (self.module_classes.search(class_name) is not None
                or (class_name.startswith("{") and self.module_plain.search(class_name) is not None))


def load_rules(extra: list[str | Path] | None = None) -> Rules:
    """The built-in rules, extended by each file in ``extra`` (in order: later files win)."""
    doc = json.loads(resources.files(__package__).joinpath("rules.json").read_text())
    sources = []
    for path in extra or []:
        if not Path(path).exists():
            raise UsageError(f"{path}: no such rules file")
        # a FIFO or device is refused, not waited on; deep nesting is one line, not a RecursionError
        more = parse_json(read_text(path, "rules file"), f"rules file {path}", unique_keys=False)
        if not isinstance(more, dict):
            raise UsageError(f"{path}: a rules file is a JSON object (see heaplens/diagnose/rules.json)")
        if "rules" in more and isinstance(more["rules"], list):
            raise UsageError(f"{path}: this is a rules file of heaplens < 0.3 (family buckets); the verdict "
                             "now follows the holder — see docs/diagnose.md for the keys it reads")
        doc = _merge(copy.deepcopy(doc), more, str(path))
        sources.append(str(path))
    return Rules(doc, sources + ["built-in"])
