"""The JS/TS reader behind the Vitest config edit: tokens that naive scanning gets wrong, the node kinds the
edit relies on, and clear errors for text it cannot follow."""

from __future__ import annotations

from pathlib import Path

import pytest

from heaplens.fix.jsparse import ArrayLit, Call, Function, JSParseError, ObjectLit, Parser, string_value, tokenize


def kinds(src: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(src) if t.kind != "eof"]


def test_strings_with_escapes_and_brackets_inside():
    toks = kinds(r"""a = 'it\'s { not } a [brace' + "say \"}\"" ; b""")
    assert ("str", r"'it\'s { not } a [brace'") in toks
    assert ("str", r'"say \"}\""') in toks
    assert toks[-1] == ("id", "b")


def test_template_literals_nest_through_holes():
    src = "const t = `a ${ `b ${ { c: '}' }.c } ` } d ${x}`; after"
    toks = kinds(src)
    tmpl = [t for k, t in toks if k == "tmpl"]
    assert tmpl == ["`a ${ `b ${ { c: '}' }.c } ` } d ${x}`"]
    assert toks[-1] == ("id", "after")


def test_comments_hide_brackets_and_quotes():
    src = "x = { // a } and a ' quote\n  /* ] ` */ y: 1 }"
    p = Parser(src)
    assert p.toks[2].text == "{" and p.match[2] == len(p.toks) - 2


@pytest.mark.parametrize("src,expected", [
    ("a = b / c / d", []),  # division
    ("a = /x}]/g.test(s)", ["/x}]/g"]),
    ("return /[/]/.source", ["/[/]/"]),  # a slash inside a character class
    ("f(x) / 2", []),
    ("x = y ? /a/ : /b\\//", ["/a/", "/b\\//"]),
    ("arr[0] / 2 / arr[1]", []),
    ("if (x) /re/.exec(s)", []),  # after `)` it reads as division: the documented limit
])
def test_regex_or_division_by_the_token_before(src, expected):
    assert [t for k, t in kinds(src) if k == "regex"] == expected


@pytest.mark.parametrize("src,message,line,col", [
    ("const a = 'x\nconst b = 1", "unterminated string", 1, 11),
    ("const a = `x ${ y", "unterminated template literal hole", 1, 14),
    ("a\n/* open", "unterminated comment", 2, 1),
    ("const r = /abc\n", "unterminated regular expression", 1, 11),
    ("f(a, [b)", "unbalanced ')'", 1, 8),
    ("x = {\n y: (1\n}", "unbalanced '}'", 3, 1),
    ("x = [1, 2", "unclosed '['", 1, 5),
])
def test_errors_say_what_and_where(src, message, line, col):
    with pytest.raises(JSParseError) as exc:
        tokenize(src)
    assert str(exc.value) == f"{message} at line {line}, column {col}"


def test_string_values():
    toks = tokenize(r"""'a\'b' "c\n\u0041\x42" `plain` `hole ${x}`""")
    assert [string_value(t) for t in toks[:4]] == ["a'b", "c\nAB", "plain", None]


def test_default_export_forms():
    src = """import { defineConfig } from 'vitest/config'
export default defineConfig<UserConfig>(async ({ mode }: ConfigEnv): Promise<UserConfig> => {
  const env = loadEnv(mode, process.cwd())
  function helper() { if (x) { return 2 } return 1 }
  const plugin = { name: 'x', transform(code) { return code.replace(/\\}/g, '') }, get y() { return 1 } }
  const arrow = () => ({ a: 1 })
  if (env.X) { console.log(1) }
  return {
    plugins: [react(), plugin],
    test: { include: ['src/**/*.test.ts'], isolate: false } as any,
  }
})
function later() {}
"""
    p = Parser(src)
    node, how = p.default_export()
    assert how == "export default" and isinstance(node, Call) and node.callee == "defineConfig"
    fn = node.args[0]
    assert isinstance(fn, Function) and len(fn.returns) == 1  # not the nested functions' returns
    obj = fn.returns[0]
    assert isinstance(obj, ObjectLit) and [p.key for p in obj.props] == ["plugins", "test"]
    test = obj.get("test").value
    assert test.kind == "wrapped" and isinstance(test.inner, ObjectLit)
    assert [pr.key for pr in test.inner.props] == ["include", "isolate"]
    assert isinstance(test.inner.get("include").value, ArrayLit)
    init, _ = p.declaration("env", fn.block)
    assert init.text(src) == "loadEnv(mode, process.cwd())"  # ends at the line break (ASI)


def test_module_exports_and_plain_objects():
    p = Parser("'use strict'\nconst { defineConfig } = require('vitest/config')\nmodule.exports = { test: {} }\n")
    node, how = p.default_export()
    assert how == "module.exports =" and isinstance(node, ObjectLit)
    p = Parser("export default {\n  test: { isolate: false },\n}\n")
    node, _ = p.default_export()
    assert isinstance(node, ObjectLit) and node.get("test") is not None


def test_no_default_export_is_said():
    node, why = Parser("export const config = {}\n").default_export()
    assert node is None and "no `export default`" in why
    node, why = Parser("const c = {}\nexport { c as default }\n").default_export()
    assert node is None and "re-exported" in why


def test_declarations_imports_and_mutations():
    src = """import base, { a as b } from './base.mjs'
import * as ns from "vitest/config"
const c = { test: {} }
c.test.isolate = true
const d = { test: {} }
export default d
"""
    p = Parser(src)
    imps = {i.spec: i for i in p.imports()}
    assert imps["./base.mjs"].names == {"base": "default", "b": "a"}
    assert imps["vitest/config"].namespace == "ns"
    assert p.declaration("c") == (None, "`c` is modified after its declaration (line 4)")
    assert p.declaration("base")[1] == "`base` is imported from './base.mjs'"
    init, kind = p.declaration("d")
    assert isinstance(init, ObjectLit) and kind == "const"
    assert p.declaration("nope")[0] is None


def test_real_code_reads_without_error():
    """Every JavaScript file of Vitest, Vite, picomatch and postcss as installed from npm (bundles full of regular
    expressions, templates and division): a wrong regex/division call or string end shows up as an unbalanced
    bracket or an unterminated literal somewhere in ~5 MB."""
    from helpers import npm_ci

    nm = npm_ci(Path(__file__).parent.parent / "runner" / "fixtures" / "v4") / "node_modules"
    files = [f for pkg in ("vitest/dist", "vite/dist", "picomatch", "postcss/lib") for f in (nm / pkg).rglob("*")
             if f.suffix in (".js", ".mjs", ".cjs") and f.is_file()]
    assert len(files) > 50
    for f in files:
        Parser(f.read_text(encoding="utf-8"))
