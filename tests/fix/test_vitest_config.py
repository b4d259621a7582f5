"""`plan_isolation`: the edit of a Vitest config that runs hotspot files in a project of their own with
isolate: true — the shapes it edits, what it keeps byte for byte, the shapes it refuses and why, and how it is
written. These tests read configs as text (no Node); tests/fix/test_vitest_config_real.py runs the edited
configs with real Vitest 3, 4 and 5."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from heaplens.errors import UsageError
from heaplens.fix.jsparse import Parser
from heaplens.fix.vitest_config import plan_isolation

HOT = ["test/hot.test.ts", "test/other/hot2.test.ts"]


def suite(tmp_path: Path, name: str, text: str, files=HOT + ["test/a.test.ts"], extra: dict | None = None) -> Path:
    (tmp_path / "package.json").write_text('{"type": "module"}\n')
    for f in files:
        p = tmp_path / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")
    for n, t in (extra or {}).items():
        (tmp_path / n).write_text(t)
    cfg = tmp_path / name
    cfg.write_bytes(text.encode())
    return cfg


def removed_lines(before: str, after: str) -> list[str]:
    return [l[2:] for l in difflib.ndiff(before.splitlines(), after.splitlines()) if l.startswith("- ")]


def plan(cfg: Path, files=HOT, **kw):
    kw.setdefault("vitest_version", "4.1.12")
    return plan_isolation(cfg, files, root=cfg.parent, **kw)


DEFINE = """/// <reference types="vitest" />
import { defineConfig } from 'vitest/config'

// shared workers on purpose
export default defineConfig({
  plugins: [], // none yet
  test: {
    // the files Vitest collects
    include: ['test/**/*.test.ts'], // every test file
    isolate: false,
    /* keep */ testTimeout: 20_000,
  },
})
"""


def test_define_config_gets_two_projects_and_keeps_every_other_byte(tmp_path):
    cfg = suite(tmp_path, "vitest.config.ts", DEFINE)
    e = plan(cfg)
    assert not e.refused and e.isolated_projects == ["isolated"] and e.shared_projects == ["shared"]
    # only the import line and the moved include (with its comments) leave their places
    assert removed_lines(DEFINE, e.text) == [
        "import { defineConfig } from 'vitest/config'",
        "    // the files Vitest collects",
        "    include: ['test/**/*.test.ts'], // every test file",
    ]
    assert "import { defineConfig, configDefaults } from 'vitest/config'" in e.text
    expected = """    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          // the files Vitest collects
          // every test file
          include: ['test/**/*.test.ts'],
          exclude: [
            ...configDefaults.exclude,
            'test/hot.test.ts',
            'test/other/hot2.test.ts',
          ],
        },
      },
      // isolated: they keep their module graphs in a shared worker (heaplens)
      {
        extends: true,
        test: {
          name: 'isolated',
          include: ['test/hot.test.ts', 'test/other/hot2.test.ts'],
          isolate: true,
        },
      },
    ],
  },
})
"""
    assert e.text.endswith(expected), e.text
    Parser(e.text)  # reads back


def test_one_line_test_object_is_laid_out_again(tmp_path):
    text = "import { defineConfig } from 'vitest/config';\n\nexport default defineConfig({\n  test: { include: ['test/**/*.test.ts'], globals: true },\n});\n"
    e = plan(suite(tmp_path, "vitest.config.js", text))
    assert removed_lines(text, e.text) == [
        "import { defineConfig } from 'vitest/config';", "  test: { include: ['test/**/*.test.ts'], globals: true },"]
    assert "  test: {\n    globals: true,\n    projects: [\n" in e.text
    assert "include: ['test/**/*.test.ts']," in e.text


@pytest.mark.parametrize("text", [
    # the function form, expression body
    "import { defineConfig } from 'vitest/config'\nexport default defineConfig(() => ({\n  test: {\n    isolate: false,\n  },\n}))\n",
    # the function form, a block with declarations, nested functions and one return
    "import { defineConfig } from 'vitest/config'\nexport default defineConfig(async ({ mode }) => {\n"
    "  const f = () => { return 1 }\n  function g() { return 2 }\n  return {\n    test: {\n      isolate: false,\n    },\n  }\n})\n",
    # a const, with a TS annotation, exported by name
    "import { defineConfig, type UserConfig } from 'vitest/config'\nconst config: UserConfig = defineConfig({\n  test: {\n    isolate: false,\n  },\n})\nexport default config\n",
    # `satisfies` and `as const`
    "import type { UserConfig } from 'vitest/config'\nexport default {\n  test: {\n    isolate: false,\n  },\n} satisfies UserConfig\n",
    # defineConfig under another name, `vitest.defineConfig`
    "import { defineConfig as dc } from 'vitest/config'\nexport default dc({\n  test: {\n    isolate: false,\n  },\n})\n",
    "import * as vitest from 'vitest/config'\nexport default vitest.defineConfig({\n  test: {\n    isolate: false,\n  },\n})\n",
    # test options in a const of their own (used once)
    "import { defineConfig } from 'vitest/config'\nconst test = {\n  isolate: false,\n}\nexport default defineConfig({ test })\n",
])
def test_config_shapes_that_are_edited(tmp_path, text):
    e = plan(suite(tmp_path, "vitest.config.ts", text))
    assert not e.refused, e.refused_reason
    assert "name: 'isolated'" in e.text and "isolate: true" in e.text
    shared = e.text[e.text.index("name: 'shared'"):e.text.index("name: 'isolated'")]
    assert "configDefaults.exclude," in shared and "'test/hot.test.ts'" in shared
    Parser(e.text)


def test_a_config_with_no_test_options_gets_them(tmp_path):
    text = "import { defineConfig } from 'vite'\n\nexport default defineConfig({\n  plugins: [],\n})\n"
    e = plan(suite(tmp_path, "vite.config.ts", text))
    assert not e.refused
    assert removed_lines(text, e.text) == []  # only additions: a new import line and `test`
    assert e.text.startswith("import { defineConfig } from 'vite'\nimport { configDefaults } from 'vitest/config'\n")
    assert "  plugins: [],\n  test: {\n    projects: [\n" in e.text


def test_commonjs_config_extends_its_require(tmp_path):
    text = "const { defineConfig } = require('vitest/config');\n\nmodule.exports = defineConfig({\n  test: {\n    isolate: false,\n  },\n});\n"
    e = plan(suite(tmp_path, "vitest.config.cjs", text))
    assert e.text.startswith("const { defineConfig, configDefaults } = require('vitest/config');\n")
    text = "module.exports = {\n  test: {\n    isolate: false,\n  },\n};\n"
    e = plan(suite(tmp_path, "vitest.config.cjs", text))
    assert e.text.startswith("const { configDefaults } = require('vitest/config');\nmodule.exports = {\n")


def test_merge_config_with_a_local_vite_config(tmp_path):
    vite = "import { defineConfig } from 'vite'\nexport default defineConfig({ resolve: { alias: {} } })\n"
    text = ("import { defineConfig, mergeConfig } from 'vitest/config'\nimport viteConfig from './vite.config'\n\n"
            "export default mergeConfig(viteConfig, defineConfig({\n  test: {\n    isolate: false,\n  },\n}))\n")
    e = plan(suite(tmp_path, "vitest.config.ts", text, extra={"vite.config.ts": vite}))
    assert not e.refused, e.refused_reason
    assert "name: 'isolated'" in e.text


def test_root_name_is_kept_for_the_shared_project(tmp_path):
    text = "export default {\n  test: {\n    name: 'unit',\n    exclude: ['**/fixtures/**'],\n  },\n}\n"
    e = plan(suite(tmp_path, "vitest.config.js", text))
    assert e.isolated_projects == ["unit-isolated"] and e.shared_projects == ["unit"]
    # the root exclude is concatenated into the projects by `extends: true`: only the files are added
    assert "exclude: ['test/hot.test.ts', 'test/other/hot2.test.ts']" in e.text
    assert "configDefaults" not in e.text
    assert any("--project 'unit*'" in n for n in e.notes)


PROJECTS = """import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      'packages/*',
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          environment: 'node',
        },
      },
      { test: { name: 'unit-isolated', include: ['other/**/*.test.ts'], pool: 'vmThreads' } },
    ],
  },
})
"""


def test_inline_projects_get_an_exclude_and_an_isolated_copy(tmp_path):
    cfg = suite(tmp_path, "vitest.config.mts", PROJECTS)
    e = plan(cfg, project_of={f: ["unit"] for f in HOT})
    assert not e.refused, e.refused_reason
    assert e.isolated_projects == ["unit-isolated-2"]  # `unit-isolated` is taken
    assert removed_lines(PROJECTS, e.text) == ["import { defineConfig } from 'vitest/config'"]
    assert """          environment: 'node',
          exclude: [
            ...configDefaults.exclude,
            'test/hot.test.ts',
            'test/other/hot2.test.ts',
          ],
        },
      },
      // isolated: they keep their module graphs in a shared worker (heaplens)
      {
        extends: true,
        test: {
          name: 'unit-isolated-2',
          include: ['test/hot.test.ts', 'test/other/hot2.test.ts'],
          environment: 'node',
          isolate: true,
        },
      },
      { test: { name: 'unit-isolated'""" in e.text


def test_a_project_in_a_vm_pool_gets_forks_for_its_copy(tmp_path):
    cfg = suite(tmp_path, "vitest.config.mts", PROJECTS)
    e = plan(cfg, project_of={"test/hot.test.ts": ["unit-isolated"]}, files=["test/hot.test.ts"])
    assert "{ test: { name: 'unit-isolated', include: ['other/**/*.test.ts'], pool: 'vmThreads', exclude: [...configDefaults.exclude, 'test/hot.test.ts'] } }" in e.text
    assert "{ test: { name: 'unit-isolated-isolated', include: ['test/hot.test.ts'], pool: 'forks', isolate: true } }" in e.text
    assert any("vmThreads" in n for n in e.notes)


def test_a_file_in_a_file_project_is_refused_with_a_patch(tmp_path):
    cfg = suite(tmp_path, "vitest.config.mts", PROJECTS)
    e = plan(cfg, project_of={"test/hot.test.ts": ["lib"], "test/other/hot2.test.ts": ["unit"]})
    assert e.refused and e.text is None and e.diff == ""
    assert e.refused_reason == ("test/hot.test.ts runs in project 'lib', which is not an inline project of "
                                "vitest.config.mts (it comes from config files/globs 'packages/*'); heaplens "
                                "edits inline projects only")
    assert "include: ['test/hot.test.ts', 'test/other/hot2.test.ts']" in e.patch
    assert "isolate: true" in e.patch and "...configDefaults.exclude" in e.patch
    with pytest.raises(UsageError):
        e.apply()
    assert cfg.read_text() == PROJECTS


@pytest.mark.parametrize("text,reason", [
    ("import shared from './shared.mjs'\nexport default { test: { ...shared, isolate: false } }\n",
     "the test options spread `...shared`, which may set include, exclude or projects heaplens cannot see"),
    ("import base from './base.mjs'\nexport default base\n", "the exported config is `base`: `base` is imported from './base.mjs'"),
    ("export default process.env.CI ? { test: {} } : { test: { isolate: false } }\n",
     "the exported config is computed (`process.env.CI ? { test: {} } : { test:…`)"),
    ("const config = { test: {} }\nconfig.test.isolate = false\nexport default config\n",
     "the exported config is `config`: `config` is modified after its declaration (line 2)"),
    ("export default defineConfig(({ mode }) => {\n  if (mode === 'ci') return { test: {} }\n  return { test: { isolate: false } }\n})\n",
     "the config function returns in 2 places; heaplens edits one returned object"),
    ("import { makeConfig } from '@org/vitest-config'\nexport default makeConfig({ strict: true })\n",
     "the exported config is the result of `makeConfig({ strict: true })`, which heaplens cannot see into"),
    ("import base from '@org/vitest-config'\nexport default mergeConfig(base, { test: { isolate: false } })\n",
     "mergeConfig(…) also merges `base` (imported from '@org/vitest-config', which heaplens cannot read); its test "
     "options (include, projects) would combine with the edited ones in ways heaplens cannot check"),
    ("const shared = { isolate: false }\nexport default { test: shared, other: shared }\n",
     "`test` is `shared`, which is used in more than one place: editing it would change them all"),
    ("export const config = { test: {} }\n", "vitest.config.mjs: the file has no `export default` (nor `module.exports =`)"),
    ("export default { test: { include: ['a.ts'], projects: [{ extends: true, test: { name: 'u' } }] } }\n",
     "project 'u' extends the root config, whose `test.include` Vitest would concatenate into an isolated copy's "
     "include (it would run every file)"),
    ("export default { test: { include: ['it's'] } }\n", "vitest.config.mjs cannot be read: unterminated string at line 1, column 41"),
    ("export default { test: { ...(process.env.CI ? {} : { isolate: false }) } }\n",
     "the test options spread `...(process.env.CI ? {} : { isolate: false })`, which may set include, exclude or "
     "projects heaplens cannot see"),
])
def test_too_dynamic_configs_are_refused_with_the_reason(tmp_path, text, reason):
    cfg = suite(tmp_path, "vitest.config.mjs", text)
    e = plan(cfg, project_of={f: ["u"] for f in HOT})
    assert e.refused_reason == reason
    assert e.text is None and e.diff == "" and e.patch.startswith(f"heaplens did not edit vitest.config.mjs: {reason}.")
    assert cfg.read_text() == text


def test_crlf_and_tabs_are_kept(tmp_path):
    text = "export default {\r\n\ttest: {\r\n\t\tisolate: false,\r\n\t},\r\n}\r\n"
    e = plan(suite(tmp_path, "vitest.config.mjs", text))
    assert "\n" not in e.text.replace("\r\n", "")  # every line break is CRLF
    assert "\r\n\t\tprojects: [\r\n\t\t\t{\r\n\t\t\t\textends: true," in e.text
    assert removed_lines(text, e.text) == []


def test_glob_characters_in_file_names_are_escaped(tmp_path):
    cfg = suite(tmp_path, "vitest.config.mjs", "export default {\n  test: {},\n}\n", files=["test/[id].test.ts"])
    e = plan(cfg, files=["test/[id].test.ts"])
    assert "include: ['test/\\\\[id\\\\].test.ts']" in e.text


def test_vitest_3_0_uses_workspace_and_3_2_poolOptions(tmp_path):
    text = "export default {\n  test: {\n    poolOptions: { forks: { isolate: false } },\n  },\n}\n"
    cfg = suite(tmp_path, "vitest.config.mjs", text)
    e = plan(cfg, vitest_version="3.0.9")
    assert "    workspace: [\n" in e.text and "projects" not in e.text
    e = plan(cfg, vitest_version="3.2.4")
    assert "    projects: [\n" in e.text
    # poolOptions.forks.isolate wins over isolate on Vitest 3: the isolated project sets both
    assert "poolOptions: {\n            forks: {\n              isolate: true,\n            }," in e.text
    e = plan(cfg, vitest_version="4.1.0")
    assert e.text.count("poolOptions") == 1  # only the suite's own


def test_pool_option(tmp_path):
    cfg = suite(tmp_path, "vitest.config.mjs", "export default {\n  test: {},\n}\n")
    assert "pool: 'threads'" in plan(cfg, pool="threads").text
    with pytest.raises(UsageError):
        plan(cfg, pool="workers")


def test_no_config_at_all_creates_one(tmp_path):
    (tmp_path / "package.json").write_text("{}\n")
    for f in HOT:
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("")
    e = plan_isolation(None, HOT, root=tmp_path, vitest_version="4.1.0")
    assert e.path == tmp_path / "vitest.config.mjs" and e.original is None
    assert e.diff.startswith("--- /dev/null\n+++ b/vitest.config.mjs\n")
    assert e.apply() and (tmp_path / "vitest.config.mjs").read_text() == e.text
    Parser(e.text)


def test_dry_run_writes_nothing_apply_writes_and_a_changed_file_is_not_overwritten(tmp_path):
    cfg = suite(tmp_path, "vitest.config.ts", DEFINE)
    os.chmod(cfg, 0o640)
    before = cfg.stat()
    e = plan(cfg)
    assert e.diff.startswith("--- a/vitest.config.ts\n+++ b/vitest.config.ts\n")
    assert e.apply(dry_run=True) is False and not e.written
    assert cfg.read_text() == DEFINE and cfg.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["package.json", "test", "vitest.config.ts"]
    stale = plan(cfg)  # planned against the same text
    assert e.apply() is True and e.written and cfg.read_text() == e.text
    assert cfg.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["package.json", "test", "vitest.config.ts"]
    with pytest.raises(UsageError, match="changed since the edit was planned"):
        stale.apply()
    assert cfg.read_text() == e.text


def test_bad_files_are_usage_errors(tmp_path):
    cfg = suite(tmp_path, "vitest.config.ts", DEFINE)
    with pytest.raises(UsageError, match="no such test file: test/nope.test.ts"):
        plan(cfg, files=["test/nope.test.ts"])
    with pytest.raises(UsageError, match="no test files"):
        plan(cfg, files=[])


TWO_ON_A_LINE = """import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // the files Vitest collects
    include: ['test/**/*.test.ts'], // every test file
    // one worker, as CI
    isolate: false, maxWorkers: 1, // two on a line
  },
})
"""


def test_a_relaid_test_object_keeps_every_comment(tmp_path):
    # two properties on the last line: the test object is laid out again, one property a line — its comments
    # stay with their properties, and the include's go with it into the shared project
    e = plan(suite(tmp_path, "vitest.config.ts", TWO_ON_A_LINE))
    assert not e.refused, e.refused_reason
    assert "    // one worker, as CI\n    isolate: false,\n    maxWorkers: 1, // two on a line\n" in e.text, e.text
    assert ("          name: 'shared',\n          // the files Vitest collects\n          // every test file\n"
            "          include: ['test/**/*.test.ts'],\n") in e.text, e.text
    for line in TWO_ON_A_LINE.splitlines():
        if "//" in line:
            assert line[line.index("//"):] in e.text
    Parser(e.text)
