"""Isolation written into the suite's own Vitest config: the hotspot files run in a project of their own with
``isolate: true`` and the project that ran them no longer does.

``plan_isolation(config_path, files, ...)`` reads ``vitest.config.*`` / ``vite.config.*`` (or a
``vitest.workspace.*`` file of older Vitest) as text with :mod:`heaplens.fix.jsparse`, and returns an
:class:`Edit`: the new text, its unified diff, and ``apply()`` (atomic; ``dry_run`` writes nothing) — or,
when the config is too dynamic to edit safely, ``refused_reason`` and a ``patch`` for a person. Only the
nodes the change needs are touched (the ``test`` object, a project entry, the ``vitest/config`` import);
every other byte of the file stays as it was, comments and formatting included.

What the edit is, by the config's shape (Vitest concatenates array options such as ``include`` and
``exclude`` when a project extends a config, which decides most of this):

- **No projects** (``test`` options or none): ``test.projects`` gets two projects that both
  ``extends: true`` (they inherit every root ``test`` option, plugins and resolve settings): the shared one
  (named after the root ``test.name``, else ``shared``) with the root ``include`` moved into it and the files
  added to its ``exclude``, and the isolated one (``isolated``) with ``include`` = the files and
  ``isolate: true``. A root ``include`` has to move: left at the root, it would be concatenated into the
  isolated project's and run every file there.
- **Inline projects** (``test.projects`` / ``test.workspace`` / a workspace file): for each project that runs a
  hotspot file (asked of Vitest with ``vitest list`` unless given), the files are added to its ``exclude``,
  and a copy of the project follows it, named ``<name>-isolated``, with ``include`` = its files and
  ``isolate: true`` — the copy keeps everything else of the project (environment, setup files, plugins).
- **Refused**, with the reason: the exported config, its ``test`` object or a project is computed (a call
  heaplens cannot see into, a conditional, a spread, an imported object, a variable modified after its
  declaration), ``mergeConfig`` with a config that may carry ``test`` options heaplens cannot read, a hotspot
  file in a project defined by a config file or a glob rather than inline, an isolated copy that would
  inherit a root ``include`` (it would run every file).

``isolate: true`` has no effect in the vm pools: a project copied from one with ``pool: 'vmThreads'`` or
``'vmForks'`` gets ``pool: 'forks'`` (said in ``notes``); ``pool=`` chooses the isolated project's pool
outright. On Vitest < 4 the isolated project also sets ``poolOptions.{forks,threads}.isolate`` where the
config uses ``poolOptions`` (there they win over ``isolate``). Where an ``exclude`` is added to a project
that had none, it starts with Vitest's defaults (``...configDefaults.exclude``, imported from
``vitest/config``): a project's own ``exclude`` replaces the defaults, and test files under
``node_modules`` would otherwise be collected.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..runner.suite import first_file, package_version, rel_to_root, runner_env
from ..runner.vitest import WORKSPACE_FILES, find_config, vitest_bin
from .atomic import unified_diff, write_text_atomic
from .jsparse import ArrayLit, Call, Function, JSParseError, Node, ObjectLit, Parser, Prop, Tok, string_value

VM_POOLS = ("vmThreads", "vmForks")
GLOB_SPECIAL = re.compile(r"([*?\[\]{}()!+@\\])")
IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
MAX_LINE = 100
INDENT = re.compile(r"[ \t]*")


# --------------------------------------------------------------------------------------------- the result

@dataclass
class Edit:
    """A planned change of one config file."""

    path: Path  # the file that is (or would be) written
    root: Path  # the suite root (diff labels are relative to it)
    files: list[str]  # the hotspot files, as the config names them
    original: str | None  # the file's text when planned; None for a new file
    text: str | None  # the new text; None when refused
    refused_reason: str | None = None
    patch: str = ""  # when refused: what a person would change, and where
    notes: list[str] = field(default_factory=list)  # what else the edit means (a pool changed, a filter to widen)
    isolated_projects: list[str] = field(default_factory=list)  # names of the new projects
    shared_projects: list[str] = field(default_factory=list)  # the projects that no longer run the files
    written: bool = False

    @property
    def refused(self) -> bool:
        return self.refused_reason is not None

    @property
    def diff(self) -> str:
        """The change as a unified diff ("" when refused or when nothing changes)."""
        if self.text is None:
            return ""
        try:
            label = self.path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            label = str(self.path)
        return unified_diff(self.original or "", self.text, label)

    def apply(self, dry_run: bool = False) -> bool:
        """Write the new text atomically (a temporary file in the same directory, fsync, rename). Returns
        whether the file was written: False with ``dry_run`` (nothing is written) or when nothing changes.
        Refuses (UsageError, nothing written) when the plan was refused or the file changed since it was
        planned."""
        if self.text is None:
            raise UsageError(f"{self.path}: not edited: {self.refused_reason}")
        if dry_run or self.text == self.original:
            return False
        try:
            current = self.path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            current = None
        if current != self.original:
            raise UsageError(f"{self.path} changed since the edit was planned (nothing written): plan it again")
        write_text_atomic(self.path, self.text)
        self.written = True
        return True


class Refused(Exception):
    """The config cannot be edited safely: the message says why."""


# --------------------------------------------------------------------------------------------- rendering

class Raw(str):
    """JavaScript source text to insert as it is (its continuation lines indented relative to the line it
    starts on)."""


class Comment(str):
    """A ``// …`` line inside a rendered array."""


@dataclass
class Commented:
    """A value whose property is preceded by comment lines (their text, ``//`` included)."""

    value: object
    comments: list[str]


@dataclass
class Style:
    unit: str = "  "
    quote: str = "'"
    nl: str = "\n"
    trailing: bool = True  # multi-line literals end with a comma after their last item

    @classmethod
    def of(cls, p: Parser) -> "Style":
        src = p.src
        nl = "\r\n" if "\r\n" in src else "\n"
        singles = sum(1 for t in p.toks if t.kind == "str" and t.text[0] == "'")
        doubles = sum(1 for t in p.toks if t.kind == "str" and t.text[0] == '"')
        quote = '"' if doubles > singles else "'"
        indents = [len(m.group(1)) for m in re.finditer(r"\n( +)\S", src)]
        tabs = len(re.findall(r"\n\t+\S", src))
        if tabs > len(indents):
            unit = "\t"
        else:
            steps = sorted({i for i in indents if i > 0})
            unit = " " * (steps[0] if steps and steps[0] <= 8 else 2)
        # trailing commas: how multi-line object/array literals end in this file
        with_comma = without = 0
        for i, t in enumerate(p.toks):
            if t.kind == "punct" and t.text in ("}", "]") and t.nl_before and i > 0:
                prev = p.toks[i - 1]
                if prev.kind == "punct" and prev.text in ("{", "["):
                    continue
                if prev.kind == "punct" and prev.text == ",":
                    with_comma += 1
                else:
                    without += 1
        return cls(unit=unit, quote=quote, nl=nl, trailing=with_comma >= without)

    def string(self, s: str) -> str:
        body = s.replace("\\", "\\\\").replace(self.quote, "\\" + self.quote).replace("\n", "\\n")
        return self.quote + body + self.quote


def render(value, indent: str, st: Style, flat: bool = False) -> str:
    """``value`` as JavaScript: dicts as multi-line objects, lists on one line when they fit (else one item a
    line), str as string literals, Raw as given. The first line is not indented (it follows ``key: ``).
    ``flat``: everything on one line (for one-line objects)."""
    if isinstance(value, Raw):
        return value.replace("\n", "\n" + indent)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return st.string(value)
    inner = indent + st.unit
    if flat and isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)}: {render(v, '', st, True)}" for k, v in value.items()) + " }"
    if flat and isinstance(value, list):
        return "[" + ", ".join(render(v, "", st, True) for v in value if not isinstance(v, Comment)) + "]"
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            lead = ""
            if isinstance(v, Commented):
                lead = "".join(f"{inner}{c}\n" for c in v.comments)
                v = v.value
            parts.append(f"{lead}{inner}{_key(k)}: {render(v, inner, st)}")
        body = ("," + "\n").join(parts) + ("," if st.trailing else "")
        return "{\n" + body + "\n" + indent + "}"
    if isinstance(value, list):
        items = [(v, render(v, inner, st)) for v in value if not isinstance(v, Comment)]
        one = "[" + ", ".join(r for _, r in items) + "]"
        if not any(isinstance(v, (Comment, dict)) for v in value) and "\n" not in one \
                and len(indent) + len(one) + 20 <= MAX_LINE:
            return one
        lines = []
        rendered = [v if isinstance(v, Comment) else render(v, inner, st) for v in value]
        last_item = max((i for i, v in enumerate(value) if not isinstance(v, Comment)), default=-1)
        for i, (v, r) in enumerate(zip(value, rendered)):
            if isinstance(v, Comment):
                lines.append(f"{inner}// {v}")
            else:
                lines.append(inner + r + ("," if i != last_item or st.trailing else ""))
        return "[\n" + "\n".join(lines) + "\n" + indent + "]"
    raise TypeError(f"cannot render {value!r}")


def _needs_lines(value) -> bool:
    if isinstance(value, (Comment, Commented)):
        return True
    if isinstance(value, dict):
        return len(value) > 1 or any(_needs_lines(v) or isinstance(v, dict) for v in value.values())
    if isinstance(value, list):
        return any(_needs_lines(v) or isinstance(v, dict) for v in value)
    return isinstance(value, Raw) and "\n" in value


def _key(k: str) -> str:
    return k if IDENT.match(k) else json.dumps(k)


def glob_escape(path: str) -> str:
    """A file path as a glob that matches only that file (Vitest's include/exclude are globs)."""
    return GLOB_SPECIAL.sub(r"\\\1", path)


# --------------------------------------------------------------------------------------------- text edits

class Edits:
    """Non-overlapping replacements of spans of one source text."""

    def __init__(self, src: str):
        self.src = src
        self.items: list[tuple[int, int, str]] = []

    def add(self, start: int, end: int, text: str) -> None:
        for s, e, _ in self.items:
            if start < e and s < end:
                raise Refused(f"internal: overlapping edits at {start}")
        self.items.append((start, end, text))

    def apply(self, lo: int = 0, hi: int | None = None) -> str:
        hi = len(self.src) if hi is None else hi
        out, pos = [], lo
        for s, e, t in sorted((x for x in self.items if lo <= x[0] and x[1] <= hi), key=lambda x: (x[0], x[1])):
            out.append(self.src[pos:s])
            out.append(t)
            pos = e
        out.append(self.src[pos:hi])
        return "".join(out)


def line_start(src: str, pos: int) -> int:
    return src.rfind("\n", 0, pos) + 1


def line_indent(src: str, pos: int) -> str:
    return INDENT.match(src, line_start(src, pos)).group(0)


def first_on_line(src: str, pos: int) -> bool:
    """Only whitespace (or block comments) before ``pos`` on its line."""
    return re.sub(r"/\*.*?\*/", "", src[line_start(src, pos):pos]).strip() == ""


def end_of_line_after(p: Parser, pos: int) -> int | None:
    """The position of the line break after ``pos`` when only a comment follows on that line; None when
    another token does (the caller then inserts right at ``pos``)."""
    src = p.src
    nl = src.find("\n", pos)
    if nl < 0:
        nl = len(src)
    if nl > 0 and src[nl - 1] == "\r":
        nl -= 1
    rest = src[pos:nl]
    stripped = rest.strip()
    if not stripped or stripped.startswith("//"):
        return nl
    if stripped.startswith("/*") and stripped.endswith("*/") and "*/" not in stripped[2:-2]:
        return nl
    return None


def reindent_relative(text: str, old_indent: str) -> str:
    """Continuation lines of ``text`` with ``old_indent`` removed (so that render() can put them anywhere)."""
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        out.append(line[len(old_indent):] if line.startswith(old_indent) else line.lstrip(" \t"))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------- reading

@dataclass
class Entry:
    """One element of a projects/workspace array."""

    index: int
    kind: str  # "inline", "file" (a string: glob, directory or config file), "dynamic"
    elem: object
    obj: ObjectLit | None = None
    scope: tuple[int, int] | None = None
    name: str | None = None
    text: str = ""


class Reader:
    """Finds the config object, its ``test`` object and the project entries of one file."""

    def __init__(self, path: Path, src: str, version: tuple[int, int] | None, depth: int = 0):
        self.path = path
        self.src = src
        self.version = version
        self.depth = depth
        try:
            self.p = Parser(src)
        except JSParseError as exc:
            raise Refused(f"{path.name} cannot be read: {exc}") from None
        self.blind: list[str] = []  # mergeConfig inputs that may carry test options heaplens cannot see

    def snippet(self, node: Node, n: int = 40) -> str:
        t = " ".join(node.text(self.src).split())
        return t if len(t) <= n else t[: n - 1] + "…"

    def uses(self, name: str) -> int:
        """How often ``name`` is used as a value (not as a property name or a member)."""
        n = 0
        for i, t in enumerate(self.p.toks):
            if t.kind == "id" and t.text == name and not self.p.p(i - 1, ".", "?."):
                if self.p.p(i + 1, ":") and self.p.p(i - 1, "{", ","):
                    continue  # a property key
                if self.p.kw(i - 1, "const", "let", "var"):
                    continue
                n += 1
        return n

    def resolve(self, node: Node, scope, what: str) -> tuple[Node, tuple[int, int] | None]:
        """Through parentheses, `as`/`satisfies`, `await` and `const` declarations."""
        for _ in range(20):
            if node.kind in ("wrapped", "paren"):
                inner = getattr(node, "inner", None)
                if inner is None:
                    raise Refused(f"{what} is computed (`{self.snippet(node)}`)")
                node = inner
                continue
            if node.kind == "ident" and "." not in node.text(self.src):
                name = node.text(self.src)
                init, why = (None, "")
                if scope is not None:
                    init, why = self.p.declaration(name, scope)
                if init is None:
                    init, why2 = self.p.declaration(name, None)
                    why = why2 if init is None else why
                    scope = None
                if init is None:
                    raise Refused(f"{what} is `{name}`: {why}")
                if self.uses(name) > 1:
                    raise Refused(f"{what} is `{name}`, which is used in more than one place: editing it would "
                                  "change them all")
                node = init
                continue
            return node, scope
        raise Refused(f"{what} could not be followed")

    def config(self) -> tuple[ObjectLit, tuple[int, int] | None]:
        node, how = self.p.default_export()
        if node is None:
            raise Refused(f"{self.path.name}: {how}")
        return self.config_from(node, None, "the exported config")

    def config_from(self, node: Node, scope, what: str) -> tuple[ObjectLit, tuple[int, int] | None]:
        node, scope = self.resolve(node, scope, what)
        if isinstance(node, ObjectLit):
            return node, scope
        if isinstance(node, Call):
            fn = self.callee_name(node.callee)
            if fn in ("defineConfig", "defineProject"):
                if len(node.args) != 1 or node.spread_args:
                    raise Refused(f"`{node.callee}(…)` has {len(node.args)} arguments; heaplens expects one")
                return self.config_from(node.args[0], scope, what)
            if fn == "mergeConfig":
                return self.merge(node, scope)
            raise Refused(f"{what} is the result of `{self.snippet(node)}`, which heaplens cannot see into")
        if isinstance(node, Function):
            if node.body is not None:
                return self.config_from(node.body, scope, "the config function's result")
            if len(node.returns) != 1:
                raise Refused(f"the config function returns in {len(node.returns)} places; heaplens edits one "
                              "returned object")
            return self.config_from(node.returns[0], node.block, "the config function's result")
        raise Refused(f"{what} is computed (`{self.snippet(node)}`)")

    def callee_name(self, callee: str) -> str:
        """What a called function is: `defineConfig` also when imported under another name
        (`import { defineConfig as dc } from 'vitest/config'`)."""
        last = callee.split(".")[-1]
        if "." not in callee:
            for imp in self.p.imports():
                imported = imp.names.get(callee)
                if imported and imported not in ("default", "*"):
                    return imported
        return last

    def merge(self, call: Call, scope) -> tuple[ObjectLit, tuple[int, int] | None]:
        seen: list[tuple[ObjectLit, tuple | None]] = []
        blind: list[tuple[Node, str]] = []
        for a in call.args:
            try:
                seen.append(self.config_from(a, scope, "a mergeConfig argument"))
            except Refused as exc:
                blind.append((a, str(exc)))
        with_test = [o for o in seen if o[0].get("test") is not None]
        if len(with_test) > 1:
            raise Refused("mergeConfig(…) merges test options from several objects; heaplens edits one")
        target = with_test[0] if with_test else (seen[-1] if seen else None)
        if target is None:
            raise Refused("the config is mergeConfig(…) of configs heaplens cannot read")
        for a, why in blind:
            state = self.peek_test(a, scope)
            if state is not None:
                self.blind.append(f"`{self.snippet(a)}` ({state})")
        return target

    def peek_test(self, node: Node, scope) -> str | None:
        """None when ``node`` (a mergeConfig input heaplens does not edit) surely has no ``test`` options —
        it is imported from a local config file whose exported object has no ``test`` — else why not."""
        if node.kind != "ident":
            return "computed"
        name = node.text(self.src)
        imp = next((i for i in self.p.imports() if name in i.names), None)
        if imp is None:
            return "not an imported config"
        target = resolve_module(self.path.parent, imp.spec)
        if target is None:
            return f"imported from '{imp.spec}', which heaplens cannot read"
        if self.depth >= 3:
            return f"imported from '{imp.spec}' (too deep)"
        try:
            other = Reader(target, target.read_text(encoding="utf-8"), self.version, self.depth + 1)
            obj, _ = other.config()
        except (Refused, OSError) as exc:
            return f"imported from '{imp.spec}': {exc}"
        if obj.get("test") is not None or obj.spreads() or other.blind:
            return f"imported from '{imp.spec}', which sets test options"
        return None

    def test_object(self, cfg: ObjectLit, scope) -> tuple[ObjectLit | None, Prop | None, tuple | None]:
        prop = cfg.get("test")
        for sp in cfg.spreads():
            if prop is None or sp.start > prop.start:
                raise Refused(f"the config object spreads `{self.src[sp.start:sp.end]}`, which may carry test "
                              "options heaplens cannot see")
        if prop is None:
            return None, None, scope
        if prop.kind == "method":
            raise Refused("`test` is a method")
        if prop.kind == "shorthand":
            init, why = self.p.declaration("test", scope) if scope else (None, "")
            if init is None:
                init, why = self.p.declaration("test", None)
            if init is None:
                raise Refused(f"the test options are `test`: {why}")
            node, scope = self.resolve(init, scope, "`test`")
        else:
            node, scope = self.resolve(prop.value, scope, "`test`")
        if not isinstance(node, ObjectLit):
            raise Refused(f"the test options are computed (`{self.snippet(node)}`)")
        for sp in node.spreads():
            raise Refused(f"the test options spread `{self.src[sp.start:sp.end]}`, which may set include, exclude "
                          "or projects heaplens cannot see")
        return node, prop, scope

    def entries(self, arr: ArrayLit, scope) -> list[Entry]:
        out: list[Entry] = []
        inline_index: int | None = 0
        for i, el in enumerate(arr.elems):
            if el.kind == "hole":
                continue
            text = self.src[el.start:el.end]
            if el.kind == "spread":
                out.append(Entry(i, "dynamic", el, text=text))
                inline_index = None
                continue
            node = el.value
            if node.kind == "string":
                out.append(Entry(i, "file", el, text=text))
                continue
            try:
                obj, sc = self.config_from(node, scope, "a project entry")
            except Refused:
                out.append(Entry(i, "dynamic", el, text=text))
                inline_index = None
                continue
            name = project_name(self.src, obj)
            if name is None and inline_index is not None:
                name = str(inline_index)
            out.append(Entry(i, "inline", el, obj=obj, scope=sc, name=name, text=text))
            if inline_index is not None:
                inline_index += 1
        return out


def project_name(src: str, obj: ObjectLit) -> str | None:
    t = obj.get("test")
    if t is None or not isinstance(t.value, ObjectLit):
        return None
    n = t.value.get("name")
    if n is None or n.value is None:
        return None
    if n.value.kind == "string":
        return string_value_of(src, n.value)
    if isinstance(n.value, ObjectLit):
        lab = n.value.get("label")
        if lab is not None and lab.value is not None and lab.value.kind == "string":
            return string_value_of(src, lab.value)
    return None


def string_value_of(src: str, node: Node) -> str | None:
    text = node.text(src)
    return string_value(Tok("tmpl" if text.startswith("`") else "str", text, node.start, node.end))


def literal(src: str, node: Node | None):
    """True/False/a string for a literal value node; None otherwise."""
    if node is None:
        return None
    t = node.text(src)
    if t in ("true", "false"):
        return t == "true"
    if node.kind == "string":
        return string_value_of(src, node)
    return None


def resolve_module(base: Path, spec: str) -> Path | None:
    if not spec.startswith("."):
        return None
    p = (base / spec)
    cands = [p] + [p.with_name(p.name + ext) for ext in (".ts", ".mts", ".cts", ".js", ".mjs", ".cjs")] + \
        [p / f"index{ext}" for ext in (".ts", ".js", ".mjs")]
    # `./vite.config.js` written for a .ts file (TypeScript's ESM convention)
    if p.suffix in (".js", ".mjs", ".cjs"):
        cands.append(p.with_suffix({".js": ".ts", ".mjs": ".mts", ".cjs": ".cts"}[p.suffix]))
    return next((c for c in cands if c.is_file()), None)


# --------------------------------------------------------------------------------------------- planning

def parse_version(v) -> tuple[int, int] | None:
    if v is None:
        return None
    if isinstance(v, tuple):
        return v
    m = re.match(r"^\D*(\d+)(?:\.(\d+))?", str(v))
    return (int(m.group(1)), int(m.group(2) or 0)) if m else None


def installed_vitest(root: Path) -> tuple[int, int] | None:
    return parse_version(package_version("vitest", root))


def find_workspace(root: Path) -> Path | None:
    return first_file(root, WORKSPACE_FILES)


class Planner:
    def __init__(self, path: Path, src: str, files: list[str], version, project_of, pool, reason, root: Path):
        self.path = path
        self.src = src
        self.files = files
        self.version = version
        self.project_of = project_of
        self.pool = pool
        self.reason = reason
        self.root = root
        self.r = Reader(path, src, version)
        self.p = self.r.p
        self.st = Style.of(self.p)
        self.ed = Edits(src)
        self.notes: list[str] = []
        self.isolated: list[str] = []
        self.shared: list[str] = []
        self._cd_name: str | None = None

    @property
    def major(self) -> int | None:
        return self.version[0] if self.version else None

    def comment(self) -> Comment:
        why = self.reason or "they keep their module graphs in a shared worker (heaplens)"
        return Comment(f"isolated: {why}")

    # -------------------------------------------------------------- small edit helpers
    def config_defaults(self) -> str:
        """The expression for Vitest's default exclude list, adding the import it needs (once)."""
        if self._cd_name is not None:
            return self._cd_name
        imps = [i for i in self.p.imports() if i.spec == "vitest/config" and not i.type_only]
        for imp in imps:
            for local, imported in imp.names.items():
                if imported == "configDefaults":
                    self._cd_name = local
                    return local
        for imp in imps:
            if imp.namespace:
                self._cd_name = f"{imp.namespace}.configDefaults"
                return self._cd_name
        for imp in imps:
            if imp.braces is not None:
                o, c = imp.braces
                inner = [k for k in range(o + 1, c)]
                if not inner:
                    self.ed.add(self.p.tok(o).end, self.p.tok(c).start, " configDefaults ")
                else:
                    last = self.p.tok(c - 1)
                    if last.kind == "punct" and last.text == ",":
                        self.ed.add(last.end, last.end, " configDefaults,")
                    else:
                        self.ed.add(last.end, last.end, ", configDefaults")
                self._cd_name = "configDefaults"
                return self._cd_name
        req = self._require_pattern("vitest/config")
        if req is not None:
            o, c = req
            last = self.p.tok(c - 1)
            if any(self.p.tok(k).text == "configDefaults" for k in range(o + 1, c)):
                self._cd_name = "configDefaults"
                return self._cd_name
            if last.kind == "punct" and last.text == ",":
                self.ed.add(last.end, last.end, " configDefaults,")
            else:
                self.ed.add(last.end, last.end, ", configDefaults")
            self._cd_name = "configDefaults"
            return self._cd_name
        if "configDefaults" in {t.text for t in self.p.toks if t.kind == "id"}:
            raise Refused("the config uses a `configDefaults` that is not Vitest's")
        nl = self.st.nl
        all_imps = self.p.imports()
        esm = bool(all_imps) or any(self.p.kw(i, "export") for i in self.p.top_level())
        q = self.st.quote
        if esm:
            line = f"import {{ configDefaults }} from {q}vitest/config{q}"
            semi = ";" if self._uses_semicolons() else ""
            if all_imps:
                at = self.p.tok(all_imps[-1].last).end
                self.ed.add(at, at, nl + line + semi)
            else:
                at = self._prologue_end()
                self.ed.add(at, at, line + semi + nl)
        else:
            semi = ";" if self._uses_semicolons() else ""
            at = self._prologue_end()
            self.ed.add(at, at, f"const {{ configDefaults }} = require({q}vitest/config{q}){semi}{nl}")
        self._cd_name = "configDefaults"
        return self._cd_name

    def _require_pattern(self, spec: str) -> tuple[int, int] | None:
        """Token indices of the braces of a top-level ``const { … } = require('spec')``."""
        for i in self.p.top_level():
            if self.p.kw(i, "const", "let", "var") and self.p.p(i + 1, "{"):
                close = self.p.match[i + 1]
                if self.p.p(close + 1, "=") and self.p.kw(close + 2, "require") and self.p.p(close + 3, "("):
                    t = self.p.tok(close + 4)
                    if t.kind == "str" and string_value(t) == spec:
                        return i + 1, close
        return None

    def _uses_semicolons(self) -> bool:
        ends = [t for t in self.p.toks if t.kind == "punct" and t.text == ";"]
        return len(ends) > 0

    def _prologue_end(self) -> int:
        """Where a new first statement goes: after a hashbang, leading comments and 'use strict'."""
        first = self.p.toks[0]
        at = line_start(self.src, first.start)
        if first.kind == "str" and string_value(first) == "use strict":
            nl = self.src.find("\n", first.end)
            at = len(self.src) if nl < 0 else nl + 1
        return at

    def insert_prop(self, ed: Edits, obj: ObjectLit, key: str, value, comment: str | None = None,
                    removed: Prop | None = None) -> None:
        """Add ``key: value`` as the object's last property, in the object's own layout (``removed``: a
        property taken out by another edit, not to anchor on)."""
        src, st = self.src, self.st
        multi = "\n" in src[obj.start:obj.end]
        props = [pr for pr in obj.props if pr is not removed]
        if not props:
            indent = line_indent(src, obj.start)
            inner = indent + st.unit
            one = f"{_key(key)}: {render(value, inner, st)}"
            if multi or "\n" in one:
                text = "{" + st.nl + inner + self._nl(one) + ("," if st.trailing else "") + st.nl + indent + "}"
            else:
                text = "{ " + one + " }"
            ed.add(obj.start, obj.end, text)
            return
        last = props[-1]
        if multi and first_on_line(src, last.start):
            indent = line_indent(src, last.start)
            text = f"{_key(key)}: {render(value, indent, st)}"
            anchor = (last.comma + 1) if last.comma is not None else last.end
            eol = end_of_line_after(self.p, anchor)
            trailing = last.comma is not None
            if last.comma is None:
                ed.add(last.end, last.end, ",")
            lead = (st.nl + indent + "// " + comment) if comment else ""
            at = eol if eol is not None else anchor
            ed.add(at, at, lead + st.nl + indent + self._nl(text) + ("," if trailing else ""))
            return
        # a one-line object (or an odd layout) stays on one line; one that would need comments or nested objects
        # spread over lines is laid out again, one property a line (its own properties' text kept)
        one = f"{_key(key)}: {render(value, '', st, flat=True)}"
        if not _needs_lines(value) and (comment is None):
            if last.comma is None:
                ed.add(last.end, last.end, ", " + one)
            else:
                ed.add(last.comma + 1, last.comma + 1, " " + one + ",")
            return
        self.relayout(ed, obj, [], [(key, value, comment)])

    def relayout(self, ed: Edits, obj: ObjectLit, drop: list[Prop], add: list[tuple[str, object, str | None]]) -> None:
        """Replace the object with a multi-line layout: its properties (minus ``drop``) verbatim with their
        comments (the lines right above, the one ending their line), then ``add``."""
        src, st = self.src, self.st
        indent = line_indent(src, obj.start)
        inner = indent + st.unit
        parts: list[tuple[str, str | None]] = []  # (text, the comment after its comma)
        for pr in obj.props:
            if pr in drop:
                continue
            above, tail = self.prop_comments(obj, pr)
            lead = "".join(inner + c + st.nl for c in above)
            parts.append((lead + inner + self._nl(reindent_relative(src[pr.start:pr.end], line_indent(src, pr.start))
                                                  .replace("\n", "\n" + inner)), tail))
        for key, value, comment in add:
            lead = (inner + "// " + comment + st.nl) if comment else ""
            parts.append((lead + inner + self._nl(f"{_key(key)}: {render(value, inner, st)}"), None))
        lines = []
        for i, (text, tail) in enumerate(parts):
            comma = "," if i < len(parts) - 1 or st.trailing else ""
            lines.append(text + comma + (" " + tail if tail else ""))
        text = "{" + st.nl + st.nl.join(lines) + st.nl + indent + "}"
        ed.add(obj.start, obj.end, text)

    def prop_comments(self, obj: ObjectLit, pr: Prop) -> tuple[list[str], str | None]:
        """The ``//`` lines right above a property that starts its line, and the comment that ends its line
        (after its comma) when no other property follows on that line."""
        src = self.src
        above = self._comment_lines_above(obj, pr)[1] if first_on_line(src, pr.start) else []
        end = (pr.comma + 1) if pr.comma is not None else pr.end
        eol = end_of_line_after(self.p, end)
        tail = src[end:eol].strip() if eol is not None else ""
        return above, (tail or None)

    def _comment_lines_above(self, obj: ObjectLit, pr: Prop) -> tuple[int, list[str]]:
        """The ``//`` lines right above a property that starts its line (inside ``obj``), and where the first
        of them starts (the property's line start when there are none)."""
        src = self.src
        s = line_start(src, pr.start)
        above: list[str] = []
        while s > 0:
            prev_start = line_start(src, s - 1)
            line = src[prev_start:s].strip()
            if not (line.startswith("//") and prev_start > obj.start):
                break
            above.insert(0, line)
            s = prev_start
        return s, above

    def _nl(self, text: str) -> str:
        return text.replace("\n", self.st.nl) if self.st.nl != "\n" else text

    def set_prop(self, ed: Edits, obj: ObjectLit, key: str, value) -> None:
        pr = obj.get(key)
        if pr is not None and pr.kind == "prop" and pr.value is not None:
            ed.add(pr.value.start, pr.value.end, self._nl(render(value, line_indent(self.src, pr.start), self.st)))
        elif pr is not None:
            raise Refused(f"`{key}` of a project is not a plain property")
        else:
            self.insert_prop(ed, obj, key, value)

    def append_items(self, ed: Edits, arr: ArrayLit, items: list) -> None:
        src, st = self.src, self.st
        elems = [e for e in arr.elems if e.kind != "hole"]
        if not elems:
            ed.add(arr.start, arr.end, self._nl(render(items, line_indent(src, arr.start), st)))
            return
        last = elems[-1]
        multi = "\n" in src[arr.start:arr.end]
        if multi and first_on_line(src, last.start):
            indent = line_indent(src, last.start)
            anchor = (last.comma + 1) if last.comma is not None else last.end
            eol = end_of_line_after(self.p, anchor)
            trailing = last.comma is not None
            if last.comma is None:
                ed.add(last.end, last.end, ",")
            lines = [indent + render(v, indent, st) for v in items]
            text = ("," + st.nl).join(lines) + ("," if trailing else "")
            at = eol if eol is not None else anchor
            ed.add(at, at, st.nl + text)
            return
        added = ", ".join(render(v, "", st) for v in items)
        width = len(line_indent(src, arr.start)) + (arr.end - arr.start) + len(added) + 20
        if width <= MAX_LINE + 20:
            if last.comma is None:
                ed.add(last.end, last.end, ", " + added)
            else:
                ed.add(last.comma + 1, last.comma + 1, " " + added + ",")
            return
        # too long for one line: one element a line, the existing ones verbatim
        indent = line_indent(src, arr.start)
        inner = indent + st.unit
        parts = [inner + src[e.start:e.end] for e in elems] + [inner + render(v, inner, st) for v in items]
        ed.add(arr.start, arr.end, "[" + st.nl + ("," + st.nl).join(parts) + ("," if st.trailing else "")
               + st.nl + indent + "]")

    def remove_prop(self, ed: Edits, obj: ObjectLit, pr: Prop) -> list[str]:
        """Take a property out of a multi-line object (its whole lines when it has them to itself, with the
        comment lines right above it). Returns those comments and the one that ended its line, which go
        wherever the property goes."""
        src = self.src
        end = (pr.comma + 1) if pr.comma is not None else pr.end
        eol = end_of_line_after(self.p, end)
        if first_on_line(src, pr.start) and eol is not None:
            s, comments = self._comment_lines_above(obj, pr)  # they belong to the property
            tail = src[end:eol].strip()
            if tail:
                comments.append(tail)
            e = eol
            if src.startswith("\r\n", e):
                e += 2
            elif src.startswith("\n", e):
                e += 1
            ed.add(s, e, "")
            return comments
        if pr.comma is None:
            # the last property: take the comma before it instead
            idx = obj.props.index(pr)
            if idx > 0 and obj.props[idx - 1].comma is not None:
                ed.add(obj.props[idx - 1].comma, pr.end, "")
                return []
        e = end
        while e < len(src) and src[e] in " \t":
            e += 1
        ed.add(pr.start, e, "")
        return []

    # -------------------------------------------------------------- the plan
    def run(self) -> str:
        if self.path.name.startswith("vitest.workspace."):
            return self.workspace_file()
        cfg, scope = self.r.config()
        if self.r.blind:
            raise Refused("mergeConfig(…) also merges " + ", ".join(self.r.blind) + "; its test options (include, "
                          "projects) would combine with the edited ones in ways heaplens cannot check")
        for key in ("root",):
            pr = cfg.get(key)
            if pr is not None and literal(self.src, pr.value) is None:
                raise Refused(f"the config's `{key}` is computed; the files' paths could not be written relative to it")
        test, test_prop, tscope = self.r.test_object(cfg, scope)
        if test is not None:
            for key in ("dir", "root"):
                if test.get(key) is not None:
                    raise Refused(f"`test.{key}` is set; heaplens writes include/exclude relative to the config's root "
                                  "and does not rewrite them for it")
            for key in ("projects", "workspace"):
                pr = test.get(key)
                if pr is None:
                    continue
                if pr.kind != "prop":
                    raise Refused(f"`test.{key}` is not a plain property")
                node, sc = self.r.resolve(pr.value, tscope, f"test.{key}")
                if isinstance(node, ArrayLit):
                    return self.inline_projects(node, sc, root_test=test)
                if node.kind == "string":
                    target = (self.path.parent / (string_value_of(self.src, node) or "")).resolve()
                    raise _Redirect(target)
                raise Refused(f"test.{key} is computed (`{self.r.snippet(node)}`)")
        ws = find_workspace(self.path.parent)
        if ws is not None and (self.major is None or self.major < 4):
            raise _Redirect(ws)
        return self.no_projects(cfg, test, test_prop)

    def projects_key(self) -> str:
        if self.version is None or self.version >= (3, 2):
            return "projects"
        if self.version >= (3, 0):
            return "workspace"
        raise Refused(f"Vitest {self.version[0]}.{self.version[1]} defines projects only in a vitest.workspace "
                      "file; there is none")

    def isolated_test(self, name: str, base_pool: str | None, extra_pool_options: bool) -> dict:
        t: dict = {"name": name, "include": list(map(glob_escape, self.files)), "isolate": True}
        return self._pool_fields(t, base_pool, extra_pool_options)

    def _pool_fields(self, t: dict, base_pool: str | None, extra_pool_options: bool) -> dict:
        if self.pool:
            t["pool"] = self.pool
        elif base_pool in VM_POOLS:
            t["pool"] = "forks"
            self.notes.append(f"`isolate` has no effect in the {base_pool} pool: the isolated project runs with "
                              "pool 'forks'")
        if extra_pool_options:
            t["poolOptions"] = {"forks": {"isolate": True}, "threads": {"isolate": True}}
        return t

    def needs_pool_options(self) -> bool:
        return (self.major is not None and self.major < 4) and ("poolOptions" in self.src or self.major < 3)

    def no_projects(self, cfg: ObjectLit, test: ObjectLit | None, test_prop: Prop | None) -> str:
        src = self.src
        key = self.projects_key()
        root_name = None
        base_pool = None
        include = exclude = None
        if test is not None:
            np = test.get("name")
            if np is not None:
                root_name = literal(src, np.value) if np.value is not None and np.value.kind == "string" else None
                if root_name is None:
                    raise Refused("`test.name` is computed")
            pp = test.get("pool")
            base_pool = literal(src, pp.value) if pp is not None else None
            include = test.get("include")
            exclude = test.get("exclude")
            for pr in (include, exclude):
                if pr is not None and pr.kind != "prop":
                    raise Refused(f"`test.{pr.key}` is not a plain property")
        shared_name = root_name or "shared"
        iso_name = f"{root_name}-isolated" if root_name else "isolated"
        files = list(map(glob_escape, self.files))
        shared_test: dict = {}
        if root_name is None:
            shared_test["name"] = shared_name
        if include is not None:
            shared_test["include"] = Raw(reindent_relative(include.value.text(src), line_indent(src, include.start)))
        if exclude is None:
            shared_test["exclude"] = [Raw(f"...{self.config_defaults()}.exclude"), *files]
        else:
            shared_test["exclude"] = files
        projects = [
            {"extends": True, "test": shared_test},
            self.comment(),
            {"extends": True, "test": self.isolated_test(iso_name, base_pool, self.needs_pool_options())},
        ]
        self.isolated.append(iso_name)
        self.shared.append(shared_name)
        if root_name:
            self.notes.append(f"a `--project {root_name}` filter no longer selects the isolated files; "
                              f"`--project '{root_name}*'` selects both projects")
        relayout = test is not None and ("\n" not in src[test.start:test.end] or not test.props
                                         or not first_on_line(src, test.props[-1].start)
                                         or (include is not None and len(test.props) == 1))
        if relayout and include is not None:
            above, tail = self.prop_comments(test, include)  # they go with the include, into the shared project
            if above or tail:
                shared_test["include"] = Commented(shared_test["include"], above + ([tail] if tail else []))
        if test is None:
            self.insert_prop(self.ed, cfg, "test", {key: projects})
        elif relayout:
            self.relayout(self.ed, test, [include] if include is not None else [], [(key, projects, None)])
        else:
            if include is not None:
                comments = self.remove_prop(self.ed, test, include)
                if comments:
                    shared_test["include"] = Commented(shared_test["include"], comments)
            self.insert_prop(self.ed, test, key, projects, removed=include)
        return self.ed.apply()

    def inline_projects(self, arr: ArrayLit, scope, root_test: ObjectLit | None, workspace: bool = False) -> str:
        entries = self.r.entries(arr, scope)
        mapping = self.project_of
        if mapping is None:
            mapping = list_projects(self.root, self.config_for_listing())
        by_name = {e.name: e for e in entries if e.kind == "inline" and e.name is not None}
        groups: dict[int, list[str]] = {}
        for f in self.files:
            names = mapping.get(f)
            if not names:
                raise Refused(f"Vitest lists no project that runs {f}")
            for nm in names:
                e = by_name.get(nm)
                if e is None:
                    files_ = [x.text for x in entries if x.kind == "file"]
                    dyn = [x.text for x in entries if x.kind == "dynamic"]
                    where = []
                    if files_:
                        where.append("config files/globs " + ", ".join(files_))
                    if dyn:
                        where.append("computed entries " + ", ".join(f"`{d}`" for d in dyn))
                    raise Refused(f"{f} runs in project '{nm}', which is not an inline project of "
                                  f"{self.path.name}" + (f" (it comes from {'; '.join(where)})" if where else "")
                                  + "; heaplens edits inline projects only")
                groups.setdefault(e.index, []).append(f)
        taken = {e.name for e in entries if e.name}
        for idx, fs in groups.items():
            e = next(x for x in entries if x.index == idx)
            self.isolate_entry(e, fs, root_test, taken, workspace)
        return self.ed.apply()

    def config_for_listing(self) -> Path:
        return self.path

    def inherits_root(self, obj: ObjectLit, workspace: bool) -> bool | str:
        pr = obj.get("extends")
        if pr is None:
            if workspace:
                return False
            return self.major is None or self.major >= 5
        v = literal(self.src, pr.value)
        if v is None:
            raise Refused("a project's `extends` is computed")
        if isinstance(v, str):
            return "file:" + v
        return v

    def isolate_entry(self, e: Entry, files: list[str], root_test: ObjectLit | None, taken: set, workspace: bool) -> None:
        src = self.src
        obj = e.obj
        for sp in obj.spreads():
            raise Refused(f"project '{e.name}' spreads `{src[sp.start:sp.end]}`, which heaplens cannot see")
        tp = obj.get("test")
        if tp is not None and (tp.kind != "prop" or not isinstance(tp.value, ObjectLit)):
            raise Refused(f"the test options of project '{e.name}' are computed")
        ptest = tp.value if tp is not None else None
        if ptest is not None:
            for sp in ptest.spreads():
                raise Refused(f"project '{e.name}' spreads `{src[sp.start:sp.end]}` in its test options")
        inherits = self.inherits_root(obj, workspace)
        root_include = root_test is not None and root_test.get("include") is not None
        if inherits is True and root_include:
            raise Refused(f"project '{e.name}' extends the root config, whose `test.include` Vitest would "
                          "concatenate into an isolated copy's include (it would run every file)")
        if isinstance(inherits, str):
            state = self._extended_file_include(inherits[5:])
            if state:
                raise Refused(f"project '{e.name}' extends {inherits[5:]}: {state}")
        esc = list(map(glob_escape, files))
        # 1. the project no longer runs the files
        ex = ptest.get("exclude") if ptest is not None else None
        if ex is not None:
            if ex.kind != "prop":
                raise Refused(f"`exclude` of project '{e.name}' is not a plain property")
            if isinstance(ex.value, ArrayLit):
                self.append_items(self.ed, ex.value, esc)
            else:
                self.ed.add(ex.value.start, ex.value.end, f"[...{ex.value.text(src)}, "
                            + ", ".join(self.st.string(x) for x in esc) + "]")
        else:
            root_exclude = root_test is not None and root_test.get("exclude") is not None
            value = esc if (inherits is True and root_exclude) else [Raw(f"...{self.config_defaults()}.exclude"), *esc]
            if ptest is None:
                self.insert_prop(self.ed, obj, "test", {"exclude": value})
            else:
                self.insert_prop(self.ed, ptest, "exclude", value)
        # 2. a copy of the project runs them, isolated
        base = e.name if e.name and not e.name.isdigit() else None
        name = f"{base}-isolated" if base else "isolated"
        k = 2
        while name in taken:
            name = (f"{base}-isolated-{k}" if base else f"isolated-{k}")
            k += 1
        taken.add(name)
        cp = Edits(src)
        base_pool = None
        if ptest is not None and ptest.get("pool") is not None:
            base_pool = literal(src, ptest.get("pool").value)
        elif inherits is True and root_test is not None and root_test.get("pool") is not None:
            base_pool = literal(src, root_test.get("pool").value)
        fields = self._pool_fields({"name": name, "include": esc, "isolate": True}, base_pool, False)
        if ptest is None:
            self.insert_prop(cp, obj, "test", fields)
        else:
            for key, value in fields.items():
                self.set_prop(cp, ptest, key, value)
            if self.needs_pool_options():
                self._isolate_pool_options(cp, ptest)
        copy = cp.apply(obj.start, obj.end)
        self._insert_after(e, copy)
        self.isolated.append(name)
        if e.name:
            self.shared.append(e.name)

    def _isolate_pool_options(self, ed: Edits, ptest: ObjectLit) -> None:
        po = ptest.get("poolOptions")
        if po is None:
            self.insert_prop(ed, ptest, "poolOptions", {"forks": {"isolate": True}, "threads": {"isolate": True}})
            return
        if not isinstance(po.value, ObjectLit):
            raise Refused("a project's `poolOptions` is computed")
        for pool in ("forks", "threads"):
            sub = po.value.get(pool)
            if sub is None:
                self.insert_prop(ed, po.value, pool, {"isolate": True})
            elif isinstance(sub.value, ObjectLit):
                self.set_prop(ed, sub.value, "isolate", True)
            else:
                raise Refused(f"a project's `poolOptions.{pool}` is computed")

    def _extended_file_include(self, rel: str) -> str | None:
        target = resolve_module(self.path.parent, rel if rel.startswith(".") else "./" + rel)
        if target is None:
            return "heaplens cannot read that file"
        try:
            other = Reader(target, target.read_text(encoding="utf-8"), self.version, 1)
            obj, sc = other.config()
            t, _, _ = other.test_object(obj, sc)
        except (Refused, OSError) as exc:
            return str(exc)
        if t is not None and t.get("include") is not None:
            return ("its `test.include` would be concatenated into an isolated copy's include (it would run every "
                    "file)")
        return None

    def _insert_after(self, e: Entry, copy: str) -> None:
        src, st = self.src, self.st
        el = e.elem
        comment = self.comment()
        if first_on_line(src, el.start):
            indent = line_indent(src, el.start)
            anchor = (el.comma + 1) if el.comma is not None else el.end
            eol = end_of_line_after(self.p, anchor)
            if el.comma is None:
                self.ed.add(el.end, el.end, ",")
            trailing = el.comma is not None or st.trailing
            at = eol if eol is not None else anchor
            self.ed.add(at, at, st.nl + indent + "// " + comment + st.nl + indent + copy + ("," if trailing else ""))
        else:
            if el.comma is None:
                self.ed.add(el.end, el.end, ", " + copy)
            else:
                self.ed.add(el.comma + 1, el.comma + 1, " " + copy + ",")

    def workspace_file(self) -> str:
        if self.path.suffix == ".json":
            raise Refused(f"{self.path.name} lists projects by path only; heaplens edits inline projects")
        node, how = self.p.default_export()
        if node is None:
            raise Refused(f"{self.path.name}: {how}")
        node, sc = self.r.resolve(node, None, "the workspace")
        if isinstance(node, Call) and self.r.callee_name(node.callee) == "defineWorkspace" and len(node.args) == 1:
            node, sc = self.r.resolve(node.args[0], sc, "the workspace")
        if not isinstance(node, ArrayLit):
            raise Refused(f"the workspace is computed (`{self.r.snippet(node)}`)")
        return self.inline_projects(node, sc, root_test=None, workspace=True)


class _Redirect(Exception):
    def __init__(self, target: Path):
        self.target = target


# --------------------------------------------------------------------------------------------- Vitest's view

def list_projects(root: Path, config: Path | None = None, timeout: float = 600) -> dict[str, list[str]]:
    """{test file (relative to ``root``): [names of the projects that run it]} as the suite's own Vitest
    lists them (``vitest list --filesOnly --json``)."""
    script = vitest_bin(root)
    if script is None:
        raise Refused("Vitest is not installed for this suite, so heaplens cannot ask it which project runs each "
                      "file (install the suite's dependencies, or pass the projects)")
    with tempfile.TemporaryDirectory(prefix="heaplens-projects-") as tmp:
        out = Path(tmp) / "list.json"
        argv = ["node", str(script), "list", "--filesOnly", f"--json={out}", "--root", str(root)]
        if config is not None and not config.name.startswith("vitest.workspace."):
            argv += ["--config", str(config)]
        cp = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=runner_env(), timeout=timeout)
        if not out.is_file():
            tail = " | ".join((cp.stderr or cp.stdout).strip().splitlines()[-3:])
            raise Refused(f"`vitest list` failed (exit {cp.returncode}): {tail}")
        data = json.loads(out.read_text() or "[]")
    mapping: dict[str, list[str]] = {}
    for entry in data:
        if not isinstance(entry, dict) or not entry.get("file"):
            continue
        names = mapping.setdefault(rel_to_root(root, entry["file"]), [])
        nm = str(entry.get("projectName") or "")
        if nm not in names:
            names.append(nm)
    return mapping


# --------------------------------------------------------------------------------------------- the entry point

def plan_isolation(config_path: str | Path | None, files: list[str], *, root: str | Path | None = None,
                   vitest_version: str | tuple[int, int] | None = None,
                   project_of: dict[str, list[str]] | None = None, pool: str | None = None,
                   reason: str | None = None) -> Edit:
    """Plan the edit that runs ``files`` in a project of their own with ``isolate: true``.

    ``config_path``: the Vitest config (``vitest.config.*``, ``vite.config.*`` or ``vitest.workspace.*``);
    None: the one Vitest would load from ``root`` (a new ``vitest.config.mjs`` when there is none).
    ``files``: test files, relative to ``root`` (default: the config's directory) or absolute; they must exist.
    ``vitest_version``: the suite's Vitest (default: the installed one; unknown → the newest behaviour).
    ``project_of``: {file: [project names]} as ``vitest list`` gives them; asked of Vitest when the config has
    projects and this is not given. ``pool``: the isolated project's pool (default: the project's own, 'forks'
    instead of a vm pool). ``reason``: the comment above the isolated project.
    """
    base = Path(root).resolve() if root is not None else (Path(config_path).resolve().parent if config_path
                                                          else Path.cwd())
    rel: list[str] = []
    for f in files:
        p = Path(f)
        p = p if p.is_absolute() else base / p
        if not p.is_file():
            raise UsageError(f"no such test file: {f} (nothing planned)")
        try:
            r = p.resolve().relative_to(base).as_posix()
        except ValueError:
            raise UsageError(f"{f} is outside the suite root {base}") from None
        if r not in rel:
            rel.append(r)
    if not rel:
        raise UsageError("no test files to isolate")
    version = parse_version(vitest_version) or installed_vitest(base)
    if pool is not None and pool not in ("forks", "threads", "vmForks", "vmThreads"):
        raise UsageError(f"unknown pool {pool!r} (forks, threads, vmForks, vmThreads)")
    path = Path(config_path).resolve() if config_path else find_config(base)
    if path is None:
        return _new_config(base, rel, version, pool, reason)
    seen: set[Path] = set()
    while True:
        seen.add(path)
        try:
            original = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {exc}") from None
        edit = Edit(path=path, root=base, files=rel, original=original, text=None)
        try:
            planner = Planner(path, original, rel, version, project_of, pool, reason, base)
            new = planner.run()
            try:
                Parser(new)
            except JSParseError as exc:  # never write a config that does not read back
                raise Refused(f"internal: the edited config would not parse ({exc})") from None
            edit.text = new
            edit.notes = planner.notes
            edit.isolated_projects = planner.isolated
            edit.shared_projects = planner.shared
            return edit
        except _Redirect as rd:
            if rd.target in seen or not rd.target.is_file():
                edit.refused_reason = f"the projects are defined in {rd.target}, which heaplens cannot read"
                edit.patch = person_patch(edit, version, reason)
                return edit
            path = rd.target
        except Refused as exc:
            edit.refused_reason = str(exc)
            edit.patch = person_patch(edit, version, reason)
            return edit


def _new_config(root: Path, files: list[str], version, pool, reason) -> Edit:
    path = root / "vitest.config.mjs"
    st = Style()
    planner_files = list(map(glob_escape, files))
    iso: dict = {"name": "isolated", "include": planner_files, "isolate": True}
    if pool:
        iso["pool"] = pool
    key = "projects" if version is None or version >= (3, 2) else "workspace"
    why = reason or "they keep their module graphs in a shared worker (heaplens)"
    projects = [
        {"extends": True, "test": {"name": "shared", "exclude": [Raw("...configDefaults.exclude"), *planner_files]}},
        Comment(f"isolated: {why}"),
        {"extends": True, "test": iso},
    ]
    text = ("import { configDefaults, defineConfig } from 'vitest/config'\n\nexport default defineConfig("
            + render({"test": {key: projects}}, "", st) + ")\n")
    return Edit(path=path, root=root, files=files, original=None, text=text, isolated_projects=["isolated"],
                shared_projects=["shared"], notes=[f"created {path.name} (the suite had no Vitest config)"])


def person_patch(edit: Edit, version, reason) -> str:
    """What a person would change when heaplens cannot: the two project entries, and where they go."""
    st = Style()
    files = list(map(glob_escape, edit.files))
    key = "projects" if version is None or version >= (3, 2) else "workspace"
    iso = render({"extends": True, "test": {"name": "isolated", "include": files, "isolate": True}}, "  ", st)
    ex = render([Raw("...configDefaults.exclude"), *files], "  ", st)
    why = reason or "they keep their module graphs in a shared worker"
    return "\n".join([
        f"heaplens did not edit {edit.path.name}: {edit.refused_reason}.",
        f"To run these files in a project of their own with isolate: true ({why}), change the config by hand:",
        f"1. add this project to `test.{key}` (create the list if the config has none: then also add a project",
        "   `{ extends: true, test: { name: 'shared' } }` for the other files, and move a root `test.include`",
        "   into it — with `extends: true` Vitest concatenates `include` lists):",
        "",
        "  " + iso + ",",
        "",
        "2. and exclude the same files from the project that runs them now (`configDefaults` comes from",
        "   'vitest/config'; a project's own `exclude` replaces Vitest's defaults):",
        "",
        "  exclude: " + ex + ",",
        "",
        "Then check with `npx vitest list --filesOnly --json` that each file is listed once, in the new project.",
    ])
