"""Classify heap growth: module-graph retention, runtime leak, external memory — with evidence.

The rules are data (``rules.json``, extendable with ``--rules FILE``): every family that grew goes
to the bucket of the first rule it matches, and the verdict follows from the share of the growth
each bucket holds. Retainer chains of the new objects (``confirm=True``) check the verdict: a runtime
leak should be held by user variables, globals, listeners or timers; module-graph growth by the
module loader.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..compare.ids import add_retainers, id_diff
from ..errors import UsageError
from ..graph.paths import Aggregation
from ..inputfile import parse_json, read_text
from .slots import name_chain

VERDICTS = {
    "module-graph": "module-graph retention",
    "runtime": "runtime leak",
    "external": "external memory",
}
LOADER_PATTERN = re.compile(
    r"ModuleWrap|ModuleJob|ModuleLoader|LoadCache|\bModule\b|moduleCache|ModuleCacheMap|vite-node|vitest|"
    r"\(Compilation cache\)|SourceTextModule|BuiltinModule|require \(context\)|_cache \(property\)"
)
# A retained-size share of the growth held by one user class that makes an ambiguous verdict a leak.
RETAINED_SHARE = 0.4
# Scripts of the test runner itself: a chain held there is module-loader machinery, not user code.
TOOL_SCRIPT = re.compile(r"node_modules/(vitest|vite|@vitest|vite-node|tinypool|tinyspy|@vitejs)/|^node:internal/")


# Objects that are the code of a module (its functions, contexts, records): held through the module
# loader — even by way of an export getter and the module's context — they are the module graph itself.
CODE_CLASSES = frozenset({"Function", "system / Context", "Module", "system / SharedFunctionInfo",
                          "system / ScopeInfo", "system / FeedbackCell", "system / FeedbackVector",
                          "system / BytecodeArray", "system / ClosureFeedbackCellArray", "(closure)"})


def code_class(name: str) -> bool:
    return name in CODE_CLASSES


def tool_script(url: str | None) -> bool:
    return bool(url and TOOL_SCRIPT.search(url))


USER_HOLDER_HINTS = (
    ("listener", re.compile(r"_events|listeners|EventEmitter|AbortSignal")),
    ("timer", re.compile(r"\bTimeout @|TimersList|Immediate @|_onTimeout")),
    ("global", re.compile(r"^global @")),
)


@dataclass
class Rule:
    id: str
    bucket: str
    label: str
    types: frozenset[str] | None
    name: re.Pattern | None

    def matches(self, type_name: str | None, name: str) -> bool:
        if self.types is not None and type_name not in self.types:
            return False
        return self.name is None or self.name.search(name) is not None


@dataclass
class RuleSet:
    rules: list[Rule]
    buckets: dict[str, str]
    verdict: dict[str, float]
    sources: list[str]

    def classify(self, type_name: str | None, name: str) -> Rule | None:
        for r in self.rules:
            if r.matches(type_name, name):
                return r
        return None


def _parse_rules(doc: dict, origin: str) -> tuple[list[Rule], dict, dict]:
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise UsageError(f"{origin}: not a heaplens rules file (needs a \"rules\" list)")
    out = []
    for i, r in enumerate(doc["rules"]):
        if not isinstance(r, dict) or "bucket" not in r:
            raise UsageError(f"{origin}: rule {i} needs at least a \"bucket\"")
        try:
            pat = re.compile(r["name"]) if r.get("name") else None
        except re.error as exc:
            raise UsageError(f"{origin}: rule {r.get('id', i)}: bad regular expression: {exc}") from None
        types = r.get("types")
        out.append(Rule(id=str(r.get("id", f"rule-{i}")), bucket=str(r["bucket"]),
                        label=str(r.get("label", r.get("id", r["bucket"]))),
                        types=frozenset(types) if types else None, name=pat))
    return out, dict(doc.get("buckets", {})), dict(doc.get("verdict", {}))


def load_rules(extra: list[str | Path] | None = None) -> RuleSet:
    """The built-in rules, preceded by the rules of each file in ``extra``."""
    text = resources.files(__package__).joinpath("rules.json").read_text()
    base_rules, buckets, verdict = _parse_rules(json.loads(text), "rules.json")
    rules: list[Rule] = []
    sources = []
    for path in extra or []:
        if not Path(path).exists():
            raise UsageError(f"{path}: no such rules file")
        # a FIFO or device is refused, not waited on; deep nesting is one line, not a RecursionError
        doc = parse_json(read_text(path, "rules file"), f"rules file {path}", unique_keys=False)
        r, b, v = _parse_rules(doc, str(path))
        rules.extend(r)
        buckets.update(b)
        verdict.update(v)
        sources.append(str(path))
    return RuleSet(rules + base_rules, buckets, verdict, sources + ["built-in"])


@dataclass
class BucketGrowth:
    bucket: str
    size: int = 0
    count: int = 0
    labels: dict[str, list[int]] = field(default_factory=dict)  # label → [size, count]
    examples: list = field(default_factory=list)  # top DeltaRows

    def add(self, rule_label: str, row) -> None:
        self.size += row.size_delta
        self.count += row.count_delta
        s = self.labels.setdefault(rule_label, [0, 0])
        s[0] += row.size_delta
        s[1] += row.count_delta
        if len(self.examples) < 5:
            self.examples.append(row)


@dataclass
class Diagnosis:
    verdict: str  # module-graph retention | runtime leak | external memory | no significant growth | ambiguous
    bucket: str | None
    confidence: float
    summary: str
    evidence: list[str]
    buckets: dict[str, BucketGrowth]
    growth: int  # bytes of self size that grew (families with positive growth)
    before_total: int
    confirmed: bool | None = None  # retainers agree (True), disagree (False), not checked (None)
    retainers: list = field(default_factory=list)  # heaplens.compare.ids.IdRow with .retainers

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict,
            "bucket": self.bucket,
            "confidence": round(self.confidence, 3),
            "summary": self.summary,
            "evidence": self.evidence,
            "growth": self.growth,
            "confirmed_by_retainers": self.confirmed,
            "buckets": {
                k: {"size_delta": b.size, "count_delta": b.count,
                    "families": [{"label": lab, "size_delta": v[0], "count_delta": v[1]}
                                 for lab, v in sorted(b.labels.items(), key=lambda kv: -kv[1][0])],
                    "examples": [{"type": r.type, "name": r.name, "size_delta": r.size_delta,
                                  "count_delta": r.count_delta} for r in b.examples]}
                for k, b in self.buckets.items()
            },
            "retainers": [
                {"class": r.name, "new_count": r.new_count, "new_retained": r.new_retained,
                 "chains": r.retainers.to_json() if r.retainers else None}
                for r in self.retainers
            ],
        }


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def classify_growth(rows, before_total: int, rules: RuleSet) -> Diagnosis:
    """``rows``: the families that grew (DeltaRows, any order)."""
    buckets: dict[str, BucketGrowth] = {}
    total = 0
    for row in rows:
        if row.size_delta <= 0:
            continue
        rule = rules.classify(row.type, row.name)
        bucket = rule.bucket if rule else "unclassified"
        label = rule.label if rule else "unclassified"
        buckets.setdefault(bucket, BucketGrowth(bucket)).add(label, row)
        total += row.size_delta
    v = rules.verdict
    min_growth = max(v.get("min_growth_kb", 1024) * 1024, v.get("min_growth_fraction", 0.02) * before_total)
    ranked = sorted((b for b in buckets.values() if b.bucket in VERDICTS), key=lambda b: -b.size)
    evidence = [f"self size of growing families: +{_mib(total)} "
                f"({100 * total / before_total:.1f} % of the earlier heap)" if before_total else
                f"self size of growing families: +{_mib(total)}"]
    for b in sorted(buckets.values(), key=lambda b: -b.size):
        parts = ", ".join(f"{lab} +{_mib(s)}" for lab, (s, _c) in sorted(b.labels.items(), key=lambda kv: -kv[1][0])[:4])
        evidence.append(f"{b.bucket}: +{_mib(b.size)} ({100 * b.size / total:.0f} %) — {parts}" if total else b.bucket)
    if total < min_growth:
        return Diagnosis("no significant growth", None, 0.9, f"only +{_mib(total)} grew (threshold {_mib(min_growth)})",
                         evidence, buckets, total, before_total)
    decisive = sum(b.size for b in ranked)
    if not ranked or decisive == 0:
        return Diagnosis("ambiguous", None, 0.3, "the growth is in strings, plain objects and arrays only: "
                         "look at the retainers", evidence, buckets, total, before_total)
    lead = ranked[0]
    second = ranked[1].size if len(ranked) > 1 else 0
    share = lead.size / total
    decisive_share = lead.size / decisive
    if (share >= v.get("dominant_share", 0.55) or decisive_share >= 0.8) and lead.size >= v.get("lead_ratio", 2.0) * second:
        confidence = min(0.95, 0.5 + 0.5 * decisive_share * min(1.0, share / v.get("dominant_share", 0.55)))
        name = VERDICTS[lead.bucket]
        top = max(lead.labels.items(), key=lambda kv: kv[1][0])[0]
        return Diagnosis(name, lead.bucket, confidence,
                         f"{name}: {100 * share:.0f} % of the growth ({_mib(lead.size)}) is {lead.bucket} — mostly {top}",
                         evidence, buckets, total, before_total)
    return Diagnosis("ambiguous", None, 0.4,
                     f"no cause dominates: {lead.bucket} {_mib(lead.size)} vs {ranked[1].bucket if len(ranked) > 1 else '—'} "
                     f"{_mib(second)}; look at the retainers", evidence, buckets, total, before_total)


GENERIC_NAMES = frozenset({"exports", "default", "module", "namespace", "code", "context", "shared", "map",
                           "prototype", "constructor", "__proto__", "elements", "table", "properties"})
_NAMED_HOP = re.compile(r"^(?P<name>.+) \((context|property|shortcut)\)$")
_INDEXED_HOP = re.compile(r"^(\d+|\[\d*\]) \((element|internal|hidden)\)$|^table \(internal\)$")


def _below_loader(path_text: str) -> list[str]:
    """The hops of a path below its last module-loader structure (all of them if there is none)."""
    parts = path_text.split(" → ")
    last = max((i for i, p in enumerate(parts) if LOADER_PATTERN.search(p)), default=-1)
    return parts[last + 1:]


def _through_loader(path_text: str) -> bool:
    """True when the module loader itself keeps the object: below the last module-loader structure
    on the path, no user-named variable or property holds a collection (a named hop followed by an
    indexed one) that the object sits in."""
    parts = path_text.split(" → ")
    last = max((i for i, p in enumerate(parts) if LOADER_PATTERN.search(p)), default=-1)
    if last < 0:
        return False
    tail = parts[last + 1:]
    for i, p in enumerate(tail):
        m = _NAMED_HOP.match(p)
        if m and m.group("name") not in GENERIC_NAMES and any(_INDEXED_HOP.match(q) for q in tail[i + 1:]):
            return False
    return True


def held_by_loader(path_text: str, script: str | None, class_name: str) -> bool:
    """The module loader (or the test runner's own code) keeps the object, not user code: below the
    loader no user variable holds it in a collection, or the holding code is the runner's, or the
    object is module code (functions, contexts) reached through the loader."""
    return (_through_loader(path_text) or tool_script(script)
            or (code_class(class_name) and LOADER_PATTERN.search(path_text) is not None))


def confirm_with_retainers(d: Diagnosis, before, after, rows: int = 4) -> None:
    """Diff the pair by object id, aggregate the retaining chains of the new objects of the top
    classes, and say whether they agree with the verdict (same process only)."""
    res = id_diff(before, after, top=12, min_kb=0, keep_graph=True)
    d.evidence.append(f"id diff: {res.new_total:,} objects allocated after the earlier snapshot survive in the later "
                      f"one ({_mib(res.new_size_total)}), {res.freed_total:,} freed ({_mib(res.freed_size_total)})")
    try:
        # the classes to explain: the largest new ones that are not plain containers/strings
        interesting = [r for r in res.rows if r.new_count >= 10 and not r.name.startswith("(")
                       and r.name not in ("Object", "Array")]
        res.rows = (interesting or res.rows)[:rows]
        add_retainers(res, rows=rows, chains=2)
        for r in res.rows:
            for c in (r.retainers.chains if r.retainers else []):
                c.variable = name_chain(res.graph, c.example, c.script)
                if c.variable:  # "through Map `sessionCache`" says more than "through Function `get x`"
                    c.holder = f"{c.variable[1]} `{c.variable[0]}`"
                    c.script = c.variable[2] or c.script
    finally:
        res.close()
    loader = user = 0
    user_retained: list[tuple[int, str]] = []  # (retained size of the new objects, class) held by user code
    for r in res.rows:
        agg: Aggregation | None = r.retainers
        if not agg:
            continue
        row_loader = row_user = 0
        for c in agg.chains:
            text = c.example.text()
            via_loader = held_by_loader(text, c.script, r.name)
            if via_loader:
                row_loader += c.count
            else:
                row_user += c.count
            near = " → ".join(_below_loader(text))
            kind = next((k for k, pat in USER_HOLDER_HINTS if pat.search(near)), "variable")
            d.evidence.append(f"retainers: {agg.sentence(c)}; "
                              f"{'through module-loader machinery' if via_loader else f'through a user {kind}'}")
        loader += row_loader
        user += row_user
        if row_user > row_loader:
            user_retained.append((r.new_retained, r.name))
    d.retainers = res.rows
    if loader + user == 0:
        return
    # DevTools' view: what the new objects of one user-held class retain (their strings, arrays and
    # elements included) — the self-size buckets count those as neutral.
    if user_retained and d.growth:
        size, name = max(user_retained)
        share = size / d.growth
        # retained size vs. self-size growth: above 100 % when the new objects replaced freed ones
        of = (f"{100 * share:.0f} % of the growth" if share <= 1 else
              f"more than the heap's self-size growth of {_mib(d.growth)}: they replaced freed objects")
        d.evidence.append(f"retained size: the new `{name}` objects retain {_mib(size)} ({of}), held by user code")
        if d.verdict in ("ambiguous", VERDICTS["runtime"]) and share >= RETAINED_SHARE:
            d.verdict, d.bucket = VERDICTS["runtime"], "runtime"
            d.confidence = max(d.confidence, min(0.9, 0.5 + 0.5 * min(share, 1.0)))
            d.summary = f"runtime leak: new `{name}` objects held by user code retain {_mib(size)} ({of})"
    if d.bucket == "runtime":
        d.confirmed = user >= loader
    elif d.bucket == "module-graph":
        d.confirmed = loader >= user
    if d.confirmed is True:
        d.confidence = min(0.99, d.confidence + 0.1)
    elif d.confirmed is False:
        d.confidence = max(0.2, d.confidence - 0.3)
        d.evidence.append("the retainers do not agree with the verdict: check them before fixing")
