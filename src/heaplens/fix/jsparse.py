"""A small, careful reader of JavaScript/TypeScript config files: enough to find and edit object and array
literals by their exact byte spans, nothing more.

The tokenizer knows what makes naive scanning wrong: strings with escapes, template literals with
``${…}`` holes that nest (templates inside holes inside templates), line and block comments, regular
expression literals (told apart from division by the token before them) with their character classes,
hashbangs, and brackets. Comments and whitespace are not tokens, but every token carries its byte span, so
an edit can splice new text between tokens and leave every other byte of the file as it was.

The parser reads *expressions* into a few node kinds — object literal, array literal, call, arrow/function
(with its returns), parenthesised expression, identifier, string — and treats everything else as an
opaque span. It also finds top-level ``export default`` / ``module.exports =`` and the ``const``/``let``
declarations of a scope, and ``import`` statements. TypeScript's ``as``/``satisfies``/``!``, type
annotations on declarations and parameters and generic calls (``defineConfig<T>(…)``) are skipped.

No dependency on Node or on the suite's node_modules: a config is read as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import HeaplensError


class JSParseError(HeaplensError):
    """The text is not JavaScript this reader can follow (an unterminated string, comment, template or regex,
    unbalanced brackets)."""

    def __init__(self, message: str, src: str, pos: int):
        line = src.count("\n", 0, pos) + 1
        col = pos - (src.rfind("\n", 0, pos) + 1) + 1
        self.line, self.col = line, col
        super().__init__(f"{message} at line {line}, column {col}")


# --------------------------------------------------------------------------------------------- tokenizer

@dataclass(frozen=True)
class Tok:
    kind: str  # "id", "str", "tmpl", "num", "regex", "punct", "priv" (#name), "eof"
    text: str
    start: int
    end: int
    nl_before: bool = False  # a line break between the previous token and this one

    def is_(self, *texts: str) -> bool:
        return self.kind in ("punct", "id") and self.text in texts


ID_START = re.compile(r"[A-Za-z_$\u0080-\U0010ffff]")
ID_PART = re.compile(r"[A-Za-z0-9_$\u0080-\U0010ffff\u200c\u200d]*")
NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)n?")
PUNCTS = sorted("""
>>>= ... === !== **= <<= >>= >>> &&= ||= ??= => == != <= >= && || ?? ?. ++ -- += -= *= /= %= &= |= ^= ** << >>
{ } ( ) [ ] ; , < > + - * / % & | ^ ! ~ ? : = . @ #
""".split(), key=len, reverse=True)
# after these keywords an expression starts, so `/` opens a regular expression
REGEX_AFTER_KEYWORDS = frozenset({
    "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else",
    "yield", "await", "extends",
})
LINE_TERMINATORS = "\n\r\u2028\u2029"


class Lexer:
    def __init__(self, src: str):
        self.src = src
        self.n = len(src)

    def error(self, message: str, pos: int) -> JSParseError:
        return JSParseError(message, self.src, pos)

    def skip_trivia(self, i: int) -> tuple[int, bool]:
        """Past whitespace and comments; (position, whether a line break was crossed)."""
        src, n, nl = self.src, self.n, False
        while i < n:
            c = src[i]
            if c in LINE_TERMINATORS:
                nl = True
                i += 1
            elif c.isspace() or c == "\ufeff":
                i += 1
            elif src.startswith("//", i):
                j = i + 2
                while j < n and src[j] not in LINE_TERMINATORS:
                    j += 1
                i = j
            elif src.startswith("/*", i):
                j = src.find("*/", i + 2)
                if j < 0:
                    raise self.error("unterminated comment", i)
                if any(t in src[i:j] for t in LINE_TERMINATORS):
                    nl = True
                i = j + 2
            else:
                break
        return i, nl

    def string(self, i: int) -> int:
        q, src, n = self.src[i], self.src, self.n
        j = i + 1
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
                continue
            if c == q:
                return j + 1
            if c in "\n\r":
                break
            j += 1
        raise self.error("unterminated string", i)

    def template(self, i: int) -> int:
        """``i`` at the opening backtick; returns the position after the closing one. Holes are read as
        tokens (so a `}` inside a string inside a hole does not end it), recursively."""
        src, n = self.src, self.n
        j = i + 1
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
            elif c == "`":
                return j + 1
            elif c == "$" and j + 1 < n and src[j + 1] == "{":
                j = self.hole(j + 2, j)
            else:
                j += 1
        raise self.error("unterminated template literal", i)

    def hole(self, i: int, opened_at: int) -> int:
        """Tokens of a template hole from ``i`` up to its closing brace; the position after it."""
        depth = 0
        prev: Tok | None = None
        while True:
            tok = self.next(i, prev)
            if tok.kind == "eof":
                raise self.error("unterminated template literal hole", opened_at)
            if tok.kind == "punct" and tok.text == "{":
                depth += 1
            elif tok.kind == "punct" and tok.text == "}":
                if depth == 0:
                    return tok.end
                depth -= 1
            prev, i = tok, tok.end

    def regex(self, i: int) -> int:
        src, n = self.src, self.n
        j, in_class = i + 1, False
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
                continue
            if c in LINE_TERMINATORS:
                break
            if in_class:
                if c == "]":
                    in_class = False
            elif c == "[":
                in_class = True
            elif c == "/":
                j += 1
                m = ID_PART.match(src, j)  # flags
                return m.end() if m else j
            j += 1
        raise self.error("unterminated regular expression", i)

    @staticmethod
    def regex_allowed(prev: Tok | None) -> bool:
        if prev is None:
            return True
        if prev.kind in ("str", "tmpl", "num", "regex", "priv"):
            return False
        if prev.kind == "id":
            return prev.text in REGEX_AFTER_KEYWORDS
        return prev.text not in (")", "]", "}", "++", "--")

    def next(self, i: int, prev: Tok | None) -> Tok:
        i, nl = self.skip_trivia(i)
        src = self.src
        if i >= self.n:
            return Tok("eof", "", self.n, self.n, nl)
        c = src[i]
        if c in "'\"":
            j = self.string(i)
            return Tok("str", src[i:j], i, j, nl)
        if c == "`":
            j = self.template(i)
            return Tok("tmpl", src[i:j], i, j, nl)
        if c == "/" and self.regex_allowed(prev):
            j = self.regex(i)
            return Tok("regex", src[i:j], i, j, nl)
        if c.isdigit() or (c == "." and i + 1 < self.n and src[i + 1].isdigit()):
            m = NUMBER.match(src, i)
            j = m.end() if m and m.end() > i else i + 1
            return Tok("num", src[i:j], i, j, nl)
        if c == "#" and i + 1 < self.n and ID_START.match(src, i + 1):
            j = ID_PART.match(src, i + 2).end()
            return Tok("priv", src[i:j], i, j, nl)
        if ID_START.match(c) or c == "\\":
            j = ID_PART.match(src, i + 1).end()
            while j < self.n and src[j] == "\\":  # unicode escapes in identifiers
                j = ID_PART.match(src, j + 6).end()
            return Tok("id", src[i:j], i, j, nl)
        for p in PUNCTS:
            if src.startswith(p, i):
                if p == "?." and i + 2 < self.n and src[i + 2].isdigit():
                    continue  # `a?.5:b` is a conditional
                return Tok("punct", p, i, i + len(p), nl)
        raise self.error(f"unexpected character {c!r}", i)


def tokenize(src: str) -> list[Tok]:
    """All tokens of ``src`` (a final ``eof`` token included). Raises JSParseError, also on unbalanced
    brackets."""
    lx = Lexer(src)
    i = 0
    if src.startswith("#!"):
        i = src.find("\n")
        i = len(src) if i < 0 else i
    toks: list[Tok] = []
    prev = None
    stack: list[Tok] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    while True:
        t = lx.next(i, prev)
        toks.append(t)
        if t.kind == "eof":
            break
        if t.kind == "punct":
            if t.text in "([{":
                stack.append(t)
            elif t.text in ")]}":
                if not stack or stack[-1].text != pairs[t.text]:
                    raise JSParseError(f"unbalanced {t.text!r}", src, t.start)
                stack.pop()
        prev, i = t, t.end
    if stack:
        raise JSParseError(f"unclosed {stack[-1].text!r}", src, stack[-1].start)
    return toks


def string_value(tok: Tok) -> str | None:
    """The value of a string literal token (or of a template without holes); None for anything else."""
    if tok.kind == "tmpl" and "${" not in tok.text:
        body = tok.text[1:-1]
    elif tok.kind == "str":
        body = tok.text[1:-1]
    else:
        return None
    out, i = [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1] if i + 1 < len(body) else ""
        if e in simple:
            out.append(simple[e])
            i += 2
        elif e == "x":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        elif e == "u" and body[i + 2:i + 3] == "{":
            j = body.index("}", i)
            out.append(chr(int(body[i + 3:j], 16)))
            i = j + 1
        elif e == "u":
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif e in "\r\n":
            i += 2 if body[i + 1:i + 3] == "\r\n" else 2
        else:
            out.append(e)
            i += 2
    return "".join(out)


# --------------------------------------------------------------------------------------------- nodes

@dataclass
class Node:
    kind: str  # "object", "array", "call", "function", "paren", "ident", "string", "wrapped", "opaque"
    start: int  # byte span in the source (first token's start, last token's end)
    end: int
    first: int  # token indices (inclusive, exclusive)
    last: int

    def text(self, src: str) -> str:
        return src[self.start:self.end]


@dataclass
class Prop:
    kind: str  # "prop" (key: value), "shorthand" (key), "spread" (...expr), "method", "computed"
    key: str | None
    start: int  # span of the whole property (key through value)
    end: int
    value: Node | None = None
    key_start: int = 0
    comma: int | None = None  # position of the comma after it, if any


@dataclass
class ObjectLit(Node):
    props: list[Prop] = field(default_factory=list)

    def get(self, key: str) -> Prop | None:
        """The property that decides ``key`` (the last one of that name, as in JS)."""
        found = None
        for p in self.props:
            if p.key == key and p.kind in ("prop", "shorthand", "method"):
                found = p
        return found

    def spreads(self) -> list[Prop]:
        return [p for p in self.props if p.kind in ("spread", "computed")]


@dataclass
class Elem:
    kind: str  # "expr", "spread", "hole"
    start: int
    end: int
    value: Node | None = None
    comma: int | None = None


@dataclass
class ArrayLit(Node):
    elems: list[Elem] = field(default_factory=list)


@dataclass
class Call(Node):
    callee: str = ""  # the callee's source text, e.g. "defineConfig" or "vitest.defineConfig"
    args: list[Node] = field(default_factory=list)
    spread_args: bool = False


@dataclass
class Function(Node):
    body: Node | None = None  # an expression body
    returns: list[Node] = field(default_factory=list)  # block body: the expressions of its own `return`s
    block: tuple[int, int] | None = None  # token indices of the block's braces


@dataclass
class Import:
    first: int  # token indices of `import` and of the statement's last token
    last: int
    spec: str  # the module specifier
    spec_tok: int | None = None
    names: dict[str, str] = field(default_factory=dict)  # local name -> imported name ("default", "*", or the export)
    default: str | None = None
    namespace: str | None = None
    braces: tuple[int, int] | None = None  # token indices of `{` `}` of the named imports
    type_only: bool = False


@dataclass
class Wrapped(Node):
    inner: Node | None = None  # `(x)`, `x as T`, `x satisfies T`, `x!`, `await x`


# --------------------------------------------------------------------------------------------- parser

STOP = frozenset({",", ")", "]", "}", ";"})
CONTROL = frozenset({"if", "for", "while", "switch", "catch", "with"})


class Parser:
    def __init__(self, src: str):
        self.src = src
        self.toks = tokenize(src)
        self.match = self._matching()
        self._top: list[int] | None = None  # top_level(), once: the tokens never change
        self._imports: list[Import] | None = None  # imports(), once

    def _matching(self) -> dict[int, int]:
        m: dict[int, int] = {}
        stack: list[int] = []
        for i, t in enumerate(self.toks):
            if t.kind == "punct" and t.text in "([{":
                stack.append(i)
            elif t.kind == "punct" and t.text in ")]}":
                j = stack.pop()
                m[i], m[j] = j, i
        return m

    def tok(self, i: int) -> Tok:
        return self.toks[min(i, len(self.toks) - 1)]

    def p(self, i: int, *texts: str) -> bool:
        t = self.tok(i)
        return t.kind == "punct" and t.text in texts

    def kw(self, i: int, *texts: str) -> bool:
        t = self.tok(i)
        return t.kind == "id" and t.text in texts

    def span(self, first: int, last: int) -> tuple[int, int]:
        return self.toks[first].start, self.toks[last - 1].end

    # ------------------------------------------------------------------ expressions
    def skip_expr(self, i: int, stmt: bool = False) -> int:
        """Index of the first token after the expression at ``i``: the next `,` `)` `]` `}` `;` at this
        nesting level; with ``stmt`` (an expression that ends a statement) also a line break where JavaScript
        inserts a semicolon (ASI)."""
        first = i
        while True:
            t = self.tok(i)
            if t.kind == "eof":
                return i
            if stmt and i > first and t.nl_before and self._asi(i):
                return i
            if t.kind == "punct":
                if t.text in STOP:
                    return i
                if t.text in "([{":
                    i = self.match[i] + 1
                    continue
            i += 1

    def skip_type(self, i: int) -> int:
        """Past a TypeScript type (after `:` `as` `satisfies`), up to a stop token, `=`, or `=>` at depth 0
        (angle brackets counted)."""
        angle = 0
        while True:
            t = self.tok(i)
            if t.kind == "eof":
                return i
            if t.kind == "punct":
                if t.text in "([{":
                    i = self.match[i] + 1
                    continue
                if t.text == "<":
                    angle += 1
                elif t.text == ">" and angle:
                    angle -= 1
                elif t.text == ">>" and angle:
                    angle = max(0, angle - 2)
                elif angle == 0 and (t.text in STOP or t.text in ("=", "=>")):
                    return i
            i += 1

    def _asi(self, i: int) -> bool:
        """Whether a line break before token ``i`` ends the statement (the next line cannot continue it)."""
        prev, nxt = self.tok(i - 1), self.tok(i)
        if prev.kind == "punct" and prev.text not in (")", "]", "}", "++", "--"):
            return False  # an operator at the end of the line continues on the next
        if nxt.kind == "id":
            return nxt.text not in ("as", "satisfies", "instanceof", "in", "of")
        if nxt.kind in ("str", "num", "regex", "priv"):
            return True
        if nxt.kind == "punct":
            return nxt.text in ("{", "++", "--", "!", "~", "@", "#")
        return False

    def expr(self, i: int, stmt: bool = False) -> Node:
        """The expression starting at token ``i`` (up to the next stop token at this level; with ``stmt``,
        also where a line break ends the statement)."""
        end = self.skip_expr(i, stmt)
        node = self._primary(i, end)
        if node is not None and node.last == end:
            return node
        if node is not None:
            j = node.last
            t = self.tok(j)
            if t.kind == "id" and t.text in ("as", "satisfies"):
                k = self.skip_type(j + 1)
                if k == end:
                    s, e = self.span(i, end)
                    return Wrapped("wrapped", s, e, i, end, inner=node)
        s, e = self.span(i, end) if end > i else (self.tok(i).start, self.tok(i).start)
        return Node("opaque", s, e, i, end)

    def _primary(self, i: int, end: int) -> Node | None:
        t = self.tok(i)
        if i >= end:
            return None
        if t.kind == "id" and t.text == "await":
            inner = self._primary(i + 1, end)
            if inner is None:
                return None
            s, e = self.span(i, inner.last)
            return self._postfix(Wrapped("wrapped", s, e, i, inner.last, inner=inner), end)
        if t.kind == "id" and t.text == "async" and not self.p(i + 1, "=>", ".", "("):
            return self._function(i + 1, end, start=i)
        if t.kind == "id" and t.text == "async" and self.p(i + 1, "("):
            close = self.match[i + 1]
            if self._arrow_after_params(close + 1) is not None:
                return self._function(i + 1, end, start=i)
        if t.kind == "id" and t.text == "function":
            return self._function(i, end)
        if t.kind == "punct" and t.text == "{":
            return self._postfix(self._object(i), end)
        if t.kind == "punct" and t.text == "[":
            return self._postfix(self._array(i), end)
        if t.kind == "punct" and t.text == "(":
            close = self.match[i]
            if self._arrow_after_params(close + 1) is not None:
                return self._function(i, end)
            inner = self.expr(i + 1)
            s, e = self.span(i, close + 1)
            node = Wrapped("paren", s, e, i, close + 1, inner=inner if inner.last == close else None)
            return self._postfix(node, end)
        if t.kind == "id" and self.p(i + 1, "=>"):
            return self._function(i, end)
        if t.kind in ("str",) or (t.kind == "tmpl" and "${" not in t.text):
            return self._postfix(Node("string", t.start, t.end, i, i + 1), end)
        if t.kind == "id":
            return self._postfix(Node("ident", t.start, t.end, i, i + 1), end)
        return None

    def _arrow_after_params(self, j: int) -> int | None:
        """After a parameter list's `)`: the index of `=>` (past a return type annotation), or None."""
        if self.p(j, "=>"):
            return j
        if self.p(j, ":"):
            k = self.skip_type(j + 1)
            if self.p(k, "=>"):
                return k
        return None

    def _postfix(self, node: Node, end: int) -> Node:
        """Member access, calls (with generic arguments), non-null `!` after a primary."""
        i = node.last
        callee_first = node.first
        while i < end:
            if self.p(i, ".", "?.") and self.tok(i + 1).kind in ("id", "priv"):
                i += 2
                node = Node("ident" if node.kind == "ident" else "opaque", self.tok(callee_first).start,
                            self.tok(i - 1).end, callee_first, i)
                continue
            if self.p(i, "!") and not self.p(i + 1, "="):
                i += 1
                node = Wrapped("wrapped", node.start, self.tok(i - 1).end, callee_first, i, inner=node)
                continue
            if self.p(i, "<"):
                k = self._generic_args(i)
                if k is not None and self.p(k, "("):
                    i = k
                    continue
                return node
            if self.p(i, "("):
                close = self.match[i]
                args, spread = self._args(i)
                s, e = self.span(callee_first, close + 1)
                callee = self.src[self.tok(callee_first).start:self._callee_end(callee_first, i)]
                node = Call("call", s, e, callee_first, close + 1, callee=callee, args=args, spread_args=spread)
                i = close + 1
                continue
            if self.p(i, "["):
                i = self.match[i] + 1
                node = Node("opaque", self.tok(callee_first).start, self.tok(i - 1).end, callee_first, i)
                continue
            break
        return node

    def _callee_end(self, first: int, paren: int) -> int:
        j = paren - 1
        if self.p(j, ">"):  # generic arguments: the callee ends before `<`
            depth = 0
            while j > first:
                if self.p(j, ">"):
                    depth += 1
                elif self.p(j, "<"):
                    depth -= 1
                    if depth == 0:
                        return self.tok(j - 1).end
                j -= 1
        return self.tok(paren - 1).end

    def _generic_args(self, i: int) -> int | None:
        depth = 0
        j = i
        while True:
            t = self.tok(j)
            if t.kind == "eof":
                return None
            if t.kind == "punct":
                if t.text == "<":
                    depth += 1
                elif t.text == ">":
                    depth -= 1
                    if depth == 0:
                        return j + 1
                elif t.text == ">>":
                    depth -= 2
                    if depth <= 0:
                        return j + 1 if depth == 0 else None
                elif t.text in "([{":
                    j = self.match[j]
                elif t.text in (";", ")", "]", "}") or t.text in ("=>", "&&", "||"):
                    return None
            j += 1

    def _args(self, open_: int) -> tuple[list[Node], bool]:
        close = self.match[open_]
        args: list[Node] = []
        spread = False
        i = open_ + 1
        while i < close:
            if self.p(i, "..."):
                spread = True
                i += 1
            node = self.expr(i)
            args.append(node)
            i = node.last
            if self.p(i, ","):
                i += 1
        return args, spread

    def _function(self, i: int, end: int, start: int | None = None) -> Node:
        """An arrow function (`x =>`, `(…) =>`, `async …`) or a `function` expression starting at ``i``."""
        first = i if start is None else start
        if self.kw(i, "function"):
            j = i + 1
            if self.p(j, "*"):
                j += 1
            if self.tok(j).kind == "id":
                j += 1
            if self.p(j, "<"):
                j = self._generic_args(j) or j
            if not self.p(j, "("):
                return Node("opaque", self.tok(first).start, self.tok(end - 1).end, first, end)
            j = self.match[j] + 1
            if self.p(j, ":"):
                j = self._skip_return_type(j + 1)
            arrow = None
        else:
            if self.p(i, "("):
                close = self.match[i]
                arrow = self._arrow_after_params(close + 1)
            elif self.tok(i).kind == "id" and self.p(i + 1, "=>"):
                arrow = i + 1
            else:
                arrow = None
            if arrow is None:
                return Node("opaque", self.tok(first).start, self.tok(end - 1).end, first, end)
            j = arrow + 1
        if self.p(j, "{"):
            close = self.match[j]
            s, e = self.span(first, close + 1)
            fn = Function("function", s, e, first, close + 1, block=(j, close))
            fn.returns = self.returns_of_block(j, close)
            return fn
        if arrow is None:
            return Node("opaque", self.tok(first).start, self.tok(end - 1).end, first, end)
        body = self.expr(j)
        s, e = self.span(first, body.last)
        return Function("function", s, e, first, body.last, body=body)

    def _skip_return_type(self, j: int) -> int:
        """After `function f(): ` — the type up to the body's `{` (object types in braces are skipped whole
        when another `{` follows)."""
        while not self.p(j, "{") or (self.p(self.match[j] + 1, "{", "|", "&", "[")):
            t = self.tok(j)
            if t.kind == "eof":
                return j
            if t.kind == "punct" and t.text in "([{":
                j = self.match[j] + 1
            else:
                j += 1
        return j

    def returns_of_block(self, open_: int, close: int) -> list[Node]:
        """The expressions of the `return` statements that belong to this function body (not to functions
        nested in it)."""
        out: list[Node] = []
        i = open_ + 1
        while i < close:
            t = self.tok(i)
            if t.kind == "punct" and t.text == "{" and self._is_function_body(i):
                i = self.match[i] + 1
                continue
            if t.kind == "punct" and t.text == "=>" and not self.p(i + 1, "{"):
                # an expression-bodied arrow: its body is an expression, skip it
                i = self.skip_expr(i + 1, stmt=True)
                continue
            if t.kind == "id" and t.text == "return" and not self._is_member(i):
                if self.p(i + 1, ";", "}") or self.tok(i + 1).nl_before:
                    out.append(Node("opaque", t.end, t.end, i + 1, i + 1))
                else:
                    out.append(self.expr(i + 1, stmt=True))
            i += 1
        return out

    def _is_member(self, i: int) -> bool:
        return self.p(i - 1, ".", "?.") or self.p(i + 1, ":")

    def _is_function_body(self, brace: int) -> bool:
        prev = brace - 1
        if self.p(prev, "=>"):
            return True
        if self.p(prev, ":"):  # a return type annotation before the body: `(): T {` is rare; assume a type
            return False
        if self.p(prev, ")"):
            open_ = self.match[prev]
            before = self.tok(open_ - 1)
            if before.kind == "id" and before.text in CONTROL:
                return False
            return before.kind in ("id", "priv") or (before.kind == "punct" and before.text in ("*", ">", "]"))
        # `class X {`, `get x() {` handled above; `static {` blocks are rare in configs
        return self.kw(prev, "class") or (self.tok(prev).kind == "id" and self.kw(prev - 1, "class", "extends"))

    # ------------------------------------------------------------------ literals
    def _object(self, open_: int) -> ObjectLit:
        close = self.match[open_]
        s, e = self.span(open_, close + 1)
        obj = ObjectLit("object", s, e, open_, close + 1)
        i = open_ + 1
        while i < close:
            start_tok = i
            if self.p(i, "..."):
                val = self.expr(i + 1)
                prop = Prop("spread", None, self.tok(i).start, val.end, value=val, key_start=self.tok(i).start)
                i = val.last
            else:
                # modifiers of methods/accessors
                j = i
                while self.kw(j, "async", "get", "set", "static") and not self.p(j + 1, ":", ",", "(", "}", "="):
                    j += 1
                if self.p(j, "*"):
                    j += 1
                key_tok = self.tok(j)
                computed = False
                if key_tok.kind == "punct" and key_tok.text == "[":
                    computed = True
                    key = None
                    k = self.match[j] + 1
                elif key_tok.kind in ("id", "num"):
                    key = key_tok.text
                    k = j + 1
                elif key_tok.kind == "str":
                    key = string_value(key_tok)
                    k = j + 1
                else:
                    raise JSParseError("cannot read this object property", self.src, key_tok.start)
                if self.p(k, "?"):  # TS optional marker in object types is not valid in literals; be lenient
                    k += 1
                if self.p(k, ":"):
                    val = self.expr(k + 1)
                    prop = Prop("computed" if computed else "prop", key, self.tok(start_tok).start, val.end,
                                value=val, key_start=key_tok.start)
                    i = val.last
                elif self.p(k, "(", "<"):
                    # method shorthand: params then body
                    m = k
                    if self.p(m, "<"):
                        m = self._generic_args(m) or m
                    m = self.match[m] + 1
                    if self.p(m, ":"):
                        m = self._skip_return_type(m + 1)
                    if not self.p(m, "{"):
                        raise JSParseError("cannot read this method", self.src, key_tok.start)
                    body_close = self.match[m]
                    prop = Prop("computed" if computed else "method", key, self.tok(start_tok).start,
                                self.tok(body_close).end, key_start=key_tok.start)
                    i = body_close + 1
                elif self.p(k, ",", "}") or self.p(k, "="):
                    if self.p(k, "="):  # `{ a = 1 }` only in patterns
                        k = self.skip_expr(k + 1)
                    prop = Prop("shorthand", key, self.tok(start_tok).start, self.tok(k - 1).end,
                                key_start=key_tok.start)
                    i = k
                else:
                    raise JSParseError("cannot read this object property", self.src, self.tok(k).start)
            if self.p(i, ","):
                prop.comma = self.tok(i).start
                i += 1
            elif i != close:
                raise JSParseError("expected `,` or `}` in an object literal", self.src, self.tok(i).start)
            obj.props.append(prop)
        return obj

    def _array(self, open_: int) -> ArrayLit:
        close = self.match[open_]
        s, e = self.span(open_, close + 1)
        arr = ArrayLit("array", s, e, open_, close + 1)
        i = open_ + 1
        while i < close:
            if self.p(i, ","):
                arr.elems.append(Elem("hole", self.tok(i).start, self.tok(i).start, comma=self.tok(i).start))
                i += 1
                continue
            if self.p(i, "..."):
                val = self.expr(i + 1)
                el = Elem("spread", self.tok(i).start, val.end, value=val)
            else:
                val = self.expr(i)
                el = Elem("expr", val.start, val.end, value=val)
            i = val.last
            if self.p(i, ","):
                el.comma = self.tok(i).start
                i += 1
            elif i != close:
                raise JSParseError("expected `,` or `]` in an array literal", self.src, self.tok(i).start)
            arr.elems.append(el)
        return arr

    # ------------------------------------------------------------------ statements
    def top_level(self) -> list[int]:
        """Indices of the tokens at nesting depth 0 (outside every bracket)."""
        if self._top is not None:
            return self._top
        out, i, n = [], 0, len(self.toks)
        while i < n:
            out.append(i)
            t = self.toks[i]
            if t.kind == "punct" and t.text in "([{":
                i = self.match[i] + 1
            else:
                i += 1
        self._top = out
        return out

    def level_tokens(self, open_: int, close: int) -> list[int]:
        """Indices of the tokens directly inside the brackets ``open_``..``close``."""
        out, i = [], open_ + 1
        while i < close:
            out.append(i)
            if self.p(i, "(", "[", "{"):
                i = self.match[i] + 1
            else:
                i += 1
        return out

    def default_export(self) -> tuple[Node | None, str]:
        """The default export's expression and how it is exported (`export default`, `module.exports`,
        `exports.default`); (None, reason) when there is none or it is not an expression."""
        found: list[tuple[Node, str]] = []
        for i in self.top_level():
            if self.kw(i, "export") and self.kw(i + 1, "default"):
                j = i + 2
                if self.kw(j, "function", "async", "class") and not self.p(j + 1, "("):
                    if self.kw(j, "class"):
                        return None, "the default export is a class"
                    found.append((self._function(j, self.skip_expr(j, stmt=True)), "export default"))
                    continue
                found.append((self.expr(j, stmt=True), "export default"))
            elif self.kw(i, "module") and self.p(i + 1, ".") and self.kw(i + 2, "exports") and self.p(i + 3, "=") \
                    and not self.p(i - 1, "."):
                found.append((self.expr(i + 4, stmt=True), "module.exports ="))
            elif self.kw(i, "export") and self.p(i + 1, "{"):
                close = self.match[i + 1]
                inner = " ".join(self.tok(k).text for k in range(i + 2, close))
                if re.search(r"\bas default\b|^default\b", inner):
                    return None, "the default export is re-exported by name (`export { … as default }`)"
        if not found:
            return None, "the file has no `export default` (nor `module.exports =`)"
        if len(found) > 1:
            return None, "the file assigns its export more than once"
        return found[0][0], found[0][1]

    def declaration(self, name: str, scope: tuple[int, int] | None = None) -> tuple[Node | None, str]:
        """The initializer of ``const|let|var NAME = …`` in the given scope (token range of a block's
        braces; None: the file's top level). (None, why) when it is not declared there (imported, a
        parameter, destructured) or is reassigned or mutated anywhere after its declaration."""
        if scope is None:
            for imp in self.imports():
                if name in imp.names:
                    return None, f"`{name}` is imported from '{imp.spec}'"
        idx = self.top_level() if scope is None else self.level_tokens(*scope)
        init: Node | None = None
        kind = "const"
        for i in idx:
            if self.kw(i, "const", "let", "var") and self.tok(i + 1).kind == "id" and self.tok(i + 1).text == name:
                j = i + 2
                if self.p(j, "!"):
                    j += 1
                if self.p(j, ":"):
                    j = self.skip_type(j + 1)
                if self.p(j, "="):
                    init, kind = self.expr(j + 1, stmt=True), self.tok(i).text
        if init is None:
            return None, f"`{name}` is not declared as `const {name} = …` where heaplens can see it"
        for i, t in enumerate(self.toks):
            if t.kind != "id" or t.text != name or i < init.last or self.p(i - 1, ".", "?."):
                continue
            if self.p(i + 1, "=", "+=", "||=", "&&=", "??="):
                return None, f"`{name}` is reassigned after its declaration (line {self.line(t.start)})"
            j = i + 1
            while (self.p(j, ".", "?.") and self.tok(j + 1).kind == "id") or self.p(j, "["):
                j = self.match[j] + 1 if self.p(j, "[") else j + 2
            if j > i + 1 and (self.p(j, "=", "+=", "-=", "||=", "&&=", "??=", "++", "--") or (
                    self.p(j, "(") and self.tok(j - 1).text in ("push", "splice", "unshift", "pop", "shift"))):
                return None, f"`{name}` is modified after its declaration (line {self.line(t.start)})"
            if self.p(i - 1, "(") and self.tok(i - 2).text in ("assign", "defineProperty", "merge"):
                return None, f"`{name}` is modified by {self.tok(i - 2).text}() (line {self.line(t.start)})"
        return init, kind

    def imports(self) -> list["Import"]:
        """The file's top-level `import … from '…'` statements (side-effect imports too)."""
        if self._imports is not None:
            return self._imports
        out: list[Import] = []
        idx = self.top_level()
        for n, i in enumerate(idx):
            if not self.kw(i, "import") or self.p(i + 1, "(", ".") or self.p(i - 1, "."):
                continue
            imp = Import(first=i, last=i, spec="")
            k = i + 1
            if self.kw(k, "type") and not self.p(k + 1, ",") and not self.kw(k + 1, "from"):
                imp.type_only = True
                k += 1
            m = k
            while True:
                t = self.tok(m)
                if t.kind == "eof" or self.p(m, ";"):
                    break
                if t.kind == "str":
                    imp.spec = string_value(t) or ""
                    imp.spec_tok = m
                    last = m
                    if self.kw(m + 1, "with", "assert") and self.p(m + 2, "{"):
                        last = self.match[m + 2]
                    if self.p(last + 1, ";"):
                        last += 1
                    imp.last = last
                    break
                if self.p(m, "{"):
                    close = self.match[m]
                    imp.braces = (m, close)
                    j = m + 1
                    while j < close:
                        if self.kw(j, "type") and self.tok(j + 1).kind in ("id", "str") and not self.p(j + 1, ","):
                            j += 1
                        imported = string_value(self.tok(j)) if self.tok(j).kind == "str" else self.tok(j).text
                        local = imported
                        if self.kw(j + 1, "as"):
                            local = self.tok(j + 2).text
                            j += 2
                        imp.names[local] = imported or ""
                        j += 1
                        if self.p(j, ","):
                            j += 1
                    m = close + 1
                    continue
                if self.p(m, "*") and self.kw(m + 1, "as"):
                    imp.namespace = self.tok(m + 2).text
                    imp.names[imp.namespace] = "*"
                    m += 3
                    continue
                if t.kind == "id" and t.text != "from":
                    imp.default = t.text
                    imp.names[t.text] = "default"
                m += 1
            if imp.spec_tok is not None:
                out.append(imp)
        self._imports = out
        return out

    def line(self, pos: int) -> int:
        return self.src.count("\n", 0, pos) + 1
