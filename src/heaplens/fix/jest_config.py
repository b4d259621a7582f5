"""Jest's own fixes written into the suite's own Jest config: ``workerIdleMemoryLimit`` (with a value derived from
the measured per-file retained growth) and ``maxWorkers``.

``plan_settings(root, {"workerIdleMemoryLimit": "410MB"})`` reads the config Jest reads — ``jest.config.{js,ts,mjs,
cjs,mts,cts,json}``, else ``package.json#jest`` (or ``config=``) — as text with :mod:`heaplens.fix.jsparse` and
returns a :class:`heaplens.fix.vitest_config.Edit` (the same shape as the Vitest config edit): the new text, its
unified diff, ``apply()`` (atomic; refuses when the file changed since) — or ``refused_reason`` and a ``patch`` for a
person when the config is too dynamic to edit safely (a config computed by a call, an imported object, a function
with several returns). Only the properties set are touched: an existing one's value is replaced, a new one is added
after the object's last property in the object's own style (one per line or inline, trailing comma or not, the
file's quotes); every other byte stays. No config at all: a new ``jest.config.js``.

``idle_memory_limit(files)`` derives the limit from a run's GC-settled per-file figures of one worker (Jest compares
``workerIdleMemoryLimit`` with a worker's heap after each test file, without a forced GC):

- ``W`` the worker's GC-settled heap after its first file (a clean worker's working set) and ``G`` the garbage a
  file end leaves before a GC (a later file's unsettled start minus the settled end before it);
- ``g`` the median retained growth per file of its later files (GC-settled, from one file end to the next);
- the limit is ``W + G + k·g`` with ``k = ceil((W + G) / g)``: a worker is recycled once what earlier files left
  behind is as large as a clean worker's whole heap, i.e. every ``k`` files, so a worker never holds more than about
  twice a clean one whatever the suite's length. No retained growth (``g ≤ 0``): no limit is proposed.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from ..runner.jest import find_config as jest_config_file
from .jsparse import Call, Function, JSParseError, Node, ObjectLit, Parser, Wrapped
from .vitest_config import Edit, line_indent

IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
MB = 1000 * 1000  # Jest's "MB" (jest-config stringToBytes: decimal units; "MiB" binary)


def find_config(root: Path) -> Path | None:
    """The config Jest reads: a ``jest.config.*`` file, else ``package.json`` when it has a ``jest`` key."""
    cfg = jest_config_file(root)
    if cfg is not None:
        return cfg
    pj = root / "package.json"
    try:
        if isinstance(json.loads(pj.read_text()).get("jest"), dict):
            return pj
    except (OSError, ValueError, AttributeError):
        pass
    return None


class _Refused(Exception):
    pass


def _unwrap(p: Parser, node: Node | None) -> Node | None:
    while isinstance(node, Wrapped) and node.inner is not None:
        node = node.inner
    if node is not None and node.kind == "ident":
        name = node.text(p.src)
        decl, why = p.declaration(name)
        if decl is None:
            raise _Refused(why)
        return _unwrap(p, decl)
    if isinstance(node, Function):
        bodies = [node.body] if node.body is not None else node.returns
        if len(bodies) != 1:
            raise _Refused("the config is a function with more than one return")
        return _unwrap(p, bodies[0])
    return node


def _target(path: Path, src: str) -> tuple[Parser, ObjectLit, bool]:
    """The object literal holding the global options, and whether the file is JSON."""
    p = Parser(src)
    json_file = path.suffix == ".json"
    if json_file:
        node = _unwrap(p, p.expr(0))
        if path.name == "package.json":
            if not isinstance(node, ObjectLit) or node.get("jest") is None:
                raise _Refused("package.json has no `jest` object")
            node = node.get("jest").value
    else:
        node, how = p.default_export()
        if node is None:
            raise _Refused(how)
        node = _unwrap(p, node)
    if isinstance(node, Call):
        raise _Refused(f"the config is computed by `{node.callee}(…)`: heaplens cannot see what it returns")
    if not isinstance(node, ObjectLit):
        raise _Refused("the exported config is not an object literal heaplens can edit")
    return p, node, json_file


def _render(value, json_file: bool, quote: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = json.dumps(str(value))
    if json_file or quote == '"':
        return text
    return "'" + text[1:-1].replace("\\\"", "\"").replace("'", "\\'") + "'"


def _quote_of(p: Parser) -> str:
    for t in p.toks:
        if t.kind == "str" and t.text[:1] in ("'", '"'):
            return t.text[0]
    return "'"


def _set(src: str, path: Path, key: str, value) -> str:
    p, obj, json_file = _target(path, src)
    rendered = _render(value, json_file, _quote_of(p))
    prop = obj.get(key)
    if prop is not None:
        if prop.kind != "prop" or prop.value is None:
            raise _Refused(f"`{key}` is set by a {prop.kind} heaplens cannot rewrite")
        return src[:prop.value.start] + rendered + src[prop.value.end:]
    name = json.dumps(key) if json_file or not IDENT.match(key) else key
    entry = f"{name}: {rendered}"
    inner = src[obj.start + 1:obj.end - 1]
    if not obj.props:
        if "\n" in inner or json_file:
            indent = line_indent(src, obj.start)
            return src[:obj.start + 1] + f"\n{indent}  {entry}\n{indent}" + src[obj.end - 1:]
        return src[:obj.start + 1] + f" {entry} " + src[obj.end - 1:]
    last = obj.props[-1]  # after a trailing spread too: the new key still wins (it comes later)
    multiline = "\n" in src[obj.props[0].start:obj.end]
    if multiline:
        indent = line_indent(src, last.start)
        if last.comma is not None:  # a trailing comma: keep the style (after a comment ending the line)
            at = _line_end(src, last.comma + 1)
            return src[:at] + f"\n{indent}{entry}," + src[at:]
        at = _line_end(src, last.end)
        return src[:last.end] + "," + src[last.end:at] + f"\n{indent}{entry}" + src[at:]
    if last.comma is not None:
        return src[:last.comma + 1] + f" {entry}," + src[last.comma + 1:]
    return src[:last.end] + f", {entry}" + src[last.end:]


def _line_end(src: str, pos: int) -> int:
    """``pos``, or the end of its line when only blanks and a ``//`` comment follow it there."""
    nl = src.find("\n", pos)
    nl = len(src) if nl < 0 else nl
    rest = src[pos:nl].strip()
    return nl if not rest or rest.startswith("//") else pos


def plan_settings(root: str | Path, settings: dict, *, config: str | Path | None = None,
                  reason: str | None = None) -> Edit:
    """An :class:`Edit` of the suite's Jest config that sets each of ``settings`` (global options)."""
    root = Path(root)
    path = Path(config) if config else find_config(root)
    if path is not None and not path.is_absolute():
        path = root / path
    keys = list(settings)
    if path is None:
        path = root / "jest.config.js"
        lines = [f"// {reason}" if reason else "// written by heaplens", "module.exports = {"]
        lines += [f"  {k}: {_render(v, False, chr(39))}," for k, v in settings.items()]
        return Edit(path=path, root=root, files=keys, original=None, text="\n".join(lines) + "\n};\n",
                    notes=["the suite had no Jest config: a new jest.config.js (Jest's defaults plus these options)"])
    original = path.read_bytes().decode("utf-8")
    text = original
    try:
        for k, v in settings.items():
            text = _set(text, path, k, v)
    except (_Refused, JSParseError) as exc:
        patch = "\n".join(f"  {k}: {_render(v, path.suffix == '.json', chr(39))}," for k, v in settings.items())
        return Edit(path=path, root=root, files=keys, original=original, text=None, refused_reason=str(exc),
                    patch=f"add to the options Jest reads from {path.name}:\n{patch}\n")
    return Edit(path=path, root=root, files=keys, original=original, text=text)


# --------------------------------------------------------------------------------------------- the value

@dataclass
class IdleLimit:
    limit: int  # bytes
    text: str  # as written into the config ("410MB")
    clean: int  # W + G
    per_file: int  # g
    every: int  # k: files between recycles
    why: str
    in_band: bool = False  # the measured worker was the Jest process itself


def idle_memory_limit(files: list[dict]) -> IdleLimit | None:
    """``workerIdleMemoryLimit`` for one worker's files (run-record file dicts, in the order it ran them)."""
    files = sorted(files, key=lambda f: f.get("index") or 0)
    settled = [f for f in files if (f.get("settled_end") or {}).get("heap_used")]
    if len(settled) < 2:
        return None
    w = int(settled[0]["settled_end"]["heap_used"])
    garbage = []
    for prev, cur in zip(files, files[1:]):
        end = (prev.get("settled_end") or {}).get("heap_used")
        if end and cur.get("heap_used_start"):
            garbage.append(max(0, int(cur["heap_used_start"]) - int(end)))
    g_work = int(statistics.median(garbage)) if garbage else 0
    growth = [int(f["heap_growth"]) / max(1, int(f.get("settled_files") or 1)) for f in settled[1:]
              if f.get("heap_growth") is not None]
    if not growth:
        return None
    g = statistics.median(growth)
    if g <= 0:
        return None
    clean = w + g_work
    k = max(1, math.ceil(clean / g))
    limit = clean + int(k * g)
    text = f"{math.ceil(limit / MB)}MB"
    why = (f"a clean worker holds {clean / MB:.0f} MB after a file (GC-settled {w / MB:.0f} MB + {g_work / MB:.0f} MB "
           f"of garbage at a file end) and each file leaves {g / MB:.1f} MB more: Jest recycles a worker once what "
           f"earlier files left is as large as a clean worker, about every {k} file(s)")
    return IdleLimit(limit=limit, text=text, clean=clean, per_file=int(g), every=k, why=why,
                     in_band=any(f.get("pool") == "inBand" for f in files))


@dataclass
class JestConfigFix:
    settings: dict
    limit: IdleLimit
    worker: str
    edit: Edit

    def to_json(self) -> dict:
        """The report's ``fixes.jest_config`` (``applied`` is set by the one who writes it)."""
        return {"settings": self.settings, "why": self.limit.why, "every": self.limit.every, "worker": self.worker,
                "path": str(self.edit.path), "diff": self.edit.diff, "refused_reason": self.edit.refused_reason,
                "patch": self.edit.patch, "applied": False}

    def lines(self) -> list[str]:
        out = [f"Jest: workerIdleMemoryLimit {self.limit.text} — {self.limit.why} (worker {self.worker}); "
               f"a quick check of each file's heap: `jest --logHeapUsage`"]
        if self.limit.in_band:
            out.append("with workerIdleMemoryLimit set Jest runs the files in worker processes even with one worker "
                       "(this run was in band): a change of how the suite runs")
        if self.edit.refused:
            out.append(f"not written ({self.edit.refused_reason}); {self.edit.patch.strip()}")
        return out


def config_fix(rec, config: str | Path | None = None) -> JestConfigFix | None:
    """The ``workerIdleMemoryLimit`` edit for a Jest run: from the worker that ran the most files of each lane
    (its GC-settled per-file growth), the largest limit over the lanes; None when no worker's files leave
    retained growth (or the run is not Jest's)."""
    if not getattr(rec.versions, "jest", None):
        return None
    best: tuple[IdleLimit, str] | None = None
    for lane_name, lane in rec.lanes.items():
        by_worker: dict[str, list[dict]] = {}
        for f in lane.files:
            by_worker.setdefault(str(f.worker or f.pid), []).append(asdict(f))
        if not by_worker:
            continue
        key, files = max(by_worker.items(), key=lambda kv: len(kv[1]))
        lim = idle_memory_limit(files)
        if lim is not None and (best is None or lim.limit > best[0].limit):
            best = (lim, f"{lane_name}/{key}")
    if best is None:
        return None
    lim, worker = best
    settings = {"workerIdleMemoryLimit": lim.text}
    edit = plan_settings(rec.root, settings, config=config,
                         reason=f"heaplens: recycle a Jest worker every ~{lim.every} file(s)")
    return JestConfigFix(settings, lim, worker, edit)
