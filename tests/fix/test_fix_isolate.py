"""`heaplens isolate`: entries added to both behavior schemas, the rest of the file byte for byte, and the
planner really giving the file a lane of its own."""

from __future__ import annotations

import json

from fix_helpers import hl, one_line_error, suite

from heaplens.fix.behavior import isolate

BEH = "test/fixtures/test-parallel.behavior.json"

OLD = """{
  "unit": {
    "isolated": [
      {
        "file": "src/infra/git-commit.test.ts",
        "reason": "Mutates process.cwd() and core loader seams"
      }
    ],
    "singletonIsolated": ["src/memory/index.test.ts", "src/secrets/runtime.test.ts"],
    "threadSingleton": ["src/tts/tts.test.ts"],
    "vmForkSingleton": []
  }
}
"""

NEW = """{
  "base": {
    "threadPinned": ["src/base/pinned.test.ts"]
  },
  "channels": {
    "isolated": [
      { "file": "extensions/telegram/src/bot.test.ts", "reason": "~819.9 MiB RSS growth" }
    ],
    "isolatedPrefixes": ["extensions/discord/src/monitor/"]
  },
  "unit": {
    "isolated": ["src/infra/git-commit.test.ts"]
  }
}
"""

FILES = ["src/a.test.ts", "src/b.test.ts", "src/memory/index.test.ts", "src/infra/git-commit.test.ts",
         "extensions/discord/src/monitor/x.test.ts", "extensions/telegram/src/bot.test.ts"]


def make(tmp_path, text):
    root = suite(tmp_path / "s", FILES)
    (root / "test/fixtures").mkdir(parents=True)
    (root / BEH).write_text(text)
    return root


def test_old_schema_isolated_kept_byte_for_byte(tmp_path):
    root = make(tmp_path, OLD)
    cp = hl("isolate", "src/a.test.ts", cwd=root)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == f"added src/a.test.ts to {BEH}: unit.isolated\n"
    # the list holds objects: the new entry is an object too, spread over lines like its neighbour
    assert (root / BEH).read_text() == OLD.replace(
        '''        "reason": "Mutates process.cwd() and core loader seams"
      }
''', '''        "reason": "Mutates process.cwd() and core loader seams"
      },
      {
        "file": "src/a.test.ts"
      }
''')
    assert not [p for p in (root / "test/fixtures").iterdir() if p.name != "test-parallel.behavior.json"]


def test_old_schema_singleton_one_line_list(tmp_path):
    root = make(tmp_path, OLD)
    cp = hl("isolate", "src/a.test.ts", "src/b.test.ts", "--as", "singletonIsolated", cwd=root)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.splitlines() == [f"added src/a.test.ts to {BEH}: unit.singletonIsolated",
                                      f"added src/b.test.ts to {BEH}: unit.singletonIsolated"]
    assert (root / BEH).read_text() == OLD.replace(
        '"src/secrets/runtime.test.ts"]', '"src/secrets/runtime.test.ts", "src/a.test.ts", "src/b.test.ts"]')


def test_reason_into_an_empty_list_and_a_new_surface(tmp_path):
    root = make(tmp_path, OLD.replace('"singletonIsolated": ["src/memory/index.test.ts", "src/secrets/runtime.test.ts"],\n'
                                      '    "threadSingleton": ["src/tts/tts.test.ts"],\n    "vmForkSingleton": []\n',
                                      '"singletonIsolated": []\n'))
    before = (root / BEH).read_text()
    cp = hl("isolate", "src/a.test.ts", "--as", "singletonIsolated", "--reason", "retained 1 GiB", cwd=root)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == f'added src/a.test.ts to {BEH}: unit.singletonIsolated reason="retained 1 GiB"\n'
    assert (root / BEH).read_text() == before.replace('"singletonIsolated": []', '''"singletonIsolated": [
      {
        "file": "src/a.test.ts",
        "reason": "retained 1 GiB"
      }
    ]''')
    cp = hl("isolate", "src/b.test.ts", "--surface", "extensions", cwd=root)
    assert cp.returncode == 0, cp.stderr
    assert json.loads((root / BEH).read_text())["extensions"] == {"isolated": ["src/b.test.ts"]}
    assert (root / BEH).read_text().endswith('''  },
  "extensions": {
    "isolated": [
      "src/b.test.ts"
    ]
  }
}
''')


def test_new_schema_with_reason(tmp_path):
    root = make(tmp_path, NEW)
    cp = hl("isolate", "src/a.test.ts", "--reason", "+300 MiB in unit-fast", cwd=root)
    assert cp.returncode == 0, cp.stderr
    # unit.isolated holds strings, but a reason needs an object: on one line with padded braces, like
    # channels' object (the manifest's only one)
    assert (root / BEH).read_text() == NEW.replace(
        '"isolated": ["src/infra/git-commit.test.ts"]',
        '"isolated": ["src/infra/git-commit.test.ts", { "file": "src/a.test.ts", "reason": "+300 MiB in unit-fast" }]')
    cp = hl("isolate", "extensions/telegram/src/bot.test.ts", "--surface", "channels", cwd=root)
    assert cp.stdout == f"already listed: extensions/telegram/src/bot.test.ts (channels.isolated in {BEH})\n"


def test_new_schema_refuses_singleton_and_reports_prefixes(tmp_path):
    root = make(tmp_path, NEW)
    err = one_line_error(hl("isolate", "src/a.test.ts", "--as", "singletonIsolated", cwd=root))
    assert "uses the new schema" in err and "use --as isolated" in err
    assert (root / BEH).read_text() == NEW
    cp = hl("isolate", "extensions/discord/src/monitor/x.test.ts", cwd=root)
    assert cp.returncode == 0
    assert cp.stdout == ("already listed: extensions/discord/src/monitor/x.test.ts "
                         f"(channels.isolatedPrefixes (extensions/discord/src/monitor/) in {BEH})\n")
    assert (root / BEH).read_text() == NEW


def test_duplicates_are_reported_not_added(tmp_path):
    root = make(tmp_path, OLD)
    cp = hl("isolate", "src/memory/index.test.ts", "./src/infra/git-commit.test.ts", cwd=root)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.splitlines() == [
        f"already listed: src/memory/index.test.ts (unit.singletonIsolated in {BEH})",
        f"already listed: src/infra/git-commit.test.ts (unit.isolated in {BEH})",
    ]
    assert (root / BEH).read_text() == OLD
    # the same file twice on one command line, and given from a sub-directory: added once
    cp = hl("isolate", "a.test.ts", "../src/a.test.ts", cwd=root / "src")
    assert cp.stdout == f"added src/a.test.ts to {root / BEH}: unit.isolated\n"
    assert json.loads((root / BEH).read_text())["unit"]["isolated"][-1] == {"file": "src/a.test.ts"}


def test_missing_file_refused_nothing_written(tmp_path):
    root = make(tmp_path, OLD)
    err = one_line_error(hl("isolate", "src/a.test.ts", "src/nope.test.ts", cwd=root))
    assert err == "heaplens: error: no such test file: src/nope.test.ts (nothing written)"
    assert (root / BEH).read_text() == OLD
    # nor is a missing manifest created
    other = suite(tmp_path / "t", ["src/a.test.ts"])
    one_line_error(hl("isolate", "src/nope.test.ts", cwd=other))
    assert not (other / "test").exists()
    # a manifest that is not JSON is not overwritten
    (root / BEH).write_text("{ nope")
    err = one_line_error(hl("isolate", "src/a.test.ts", cwd=root))
    assert "not valid JSON" in err
    assert (root / BEH).read_text() == "{ nope"
    (root / BEH).write_bytes(b'{"unit": {"isolated": ["\xff"]}}')
    assert "is not UTF-8 text" in one_line_error(hl("isolate", "src/a.test.ts", cwd=root))


def test_api_paths_relative_to_the_root_from_anywhere(tmp_path, monkeypatch):
    root = make(tmp_path, OLD)
    elsewhere = suite(tmp_path / "elsewhere", ["src/a.test.ts"])  # the same relative path, another suite
    monkeypatch.chdir(elsewhere)
    assert isolate(root, ["src/a.test.ts"]).added == ["src/a.test.ts"]
    err = one_line_error(hl("isolate", elsewhere / "src/a.test.ts", "--root", root, cwd=elsewhere))
    assert err == f"heaplens: error: {elsewhere / 'src/a.test.ts'} is outside the suite root {root} (nothing written)"


def test_manifest_created_with_old_schema(tmp_path):
    root = suite(tmp_path / "s", ["src/a.test.ts"])
    cp = hl("isolate", "src/a.test.ts", cwd=root)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == f"added src/a.test.ts to {BEH}: unit.isolated\ncreated {BEH}\n"
    assert (root / BEH).read_text() == '{\n  "unit": {\n    "isolated": [\n      "src/a.test.ts"\n    ]\n  }\n}\n'


def test_other_indentation_and_no_trailing_newline_kept(tmp_path):
    text = '{\n    "unit": {\n        "isolated": [\n            "src/b.test.ts"\n        ]\n    }\n}'
    root = make(tmp_path, text)
    assert hl("isolate", "src/a.test.ts", cwd=root).returncode == 0
    assert (root / BEH).read_text() == text.replace('"src/b.test.ts"', '"src/b.test.ts",\n            "src/a.test.ts"')


def test_crlf_kept(tmp_path):
    root = make(tmp_path, "")
    (root / BEH).write_bytes(OLD.replace("\n", "\r\n").encode())
    assert isolate(root, ["src/a.test.ts"]).written
    assert (root / BEH).read_bytes() == OLD.replace(
        '''        "reason": "Mutates process.cwd() and core loader seams"
      }
''', '''        "reason": "Mutates process.cwd() and core loader seams"
      },
      {
        "file": "src/a.test.ts"
      }
''').replace("\n", "\r\n").encode()


def test_python_api_diff_and_dry_run(tmp_path):
    root = make(tmp_path, OLD)
    r = isolate(root, [root / "src/a.test.ts", "src/memory/index.test.ts"], kind="singletonIsolated", dry_run=True)
    assert (r.added, r.already, r.written, r.created) == (["src/a.test.ts"],
                                                          [("src/memory/index.test.ts", "unit.singletonIsolated")],
                                                          False, False)
    assert r.path == root / BEH and r.where == "unit.singletonIsolated"
    assert r.diff == f"""--- a/{BEH}
+++ b/{BEH}
@@ -6,7 +6,7 @@
         "reason": "Mutates process.cwd() and core loader seams"
       }}
     ],
-    "singletonIsolated": ["src/memory/index.test.ts", "src/secrets/runtime.test.ts"],
+    "singletonIsolated": ["src/memory/index.test.ts", "src/secrets/runtime.test.ts", "src/a.test.ts"],
     "threadSingleton": ["src/tts/tts.test.ts"],
     "vmForkSingleton": []
   }}
"""
    assert (root / BEH).read_text() == OLD
    r2 = isolate(root, ["src/a.test.ts"], kind="singletonIsolated")
    assert r2.written and r2.diff == r.diff
    assert (root / BEH).read_text() == OLD.replace('"src/secrets/runtime.test.ts"]',
                                                   '"src/secrets/runtime.test.ts", "src/a.test.ts"]')


def test_plan_puts_the_isolated_file_in_its_own_lane(v4, tmp_path):
    beh = tmp_path / "behavior.json"
    r = isolate(v4, ["suite/basic/alloc50.test.js"], reason="grows its worker by 50 MiB", behavior_path=beh)
    assert r.added == ["suite/basic/alloc50.test.js"] and r.created
    cp = hl("plan", "suite/basic", "--format", "json", "--behavior", beh, cwd=v4)
    assert cp.returncode == 0, cp.stderr
    lanes = {l["name"]: l for l in json.loads(cp.stdout)["lanes"]}
    assert sorted(lanes) == ["unit-alloc50-isolated", "unit-fast"]
    iso = lanes["unit-alloc50-isolated"]
    # a lane of one file runs alone: nothing of the suite's config needs overriding
    assert (iso["kind"], iso["files"], iso["workers"], iso["isolate"], iso["deviations"]) == (
        "isolated", ["suite/basic/alloc50.test.js"], None, None, [])
    assert iso["reasons"]["suite/basic/alloc50.test.js"] == (
        'behavior unit.isolated (behavior.json) reason="grows its worker by 50 MiB"')
    assert lanes["unit-fast"]["files"] == [f"suite/basic/{n}.test.js" for n in ("f1", "f2", "f3", "small")]
