"""The composite action (action.yml at the repository root), run step by step as GitHub's runner would: its
inputs and `${{ … }}` expressions substituted, each `run:` step executed by `bash --noprofile --norc -eo pipefail`
with the runner's environment files ($GITHUB_OUTPUT, $GITHUB_PATH, $GITHUB_STEP_SUMMARY), in a workspace holding a
copy of a real Vitest suite. The install step really installs heaplens from a copy of this checkout (pip, as
tests/test_install.py). The upload steps (`uses: actions/upload-artifact`) are the only ones skipped — they need
GitHub — but what they would upload is checked: the run directory, without heap snapshots."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import copy_suite, plant_leak

REPO = Path(__file__).parents[2]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _copy_checkout(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True)
    if files.returncode != 0:
        pytest.skip("not a git checkout")
    for rel in files.stdout.splitlines():
        src = REPO / rel
        if src.is_file() and not rel.startswith("tests/"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


class Runner:
    """Just enough of GitHub's runner for one composite action: expressions, env files, PATH additions."""

    def __init__(self, action_dir: Path, workspace: Path, temp: Path):
        self.action_dir = action_dir
        self.action = yaml.safe_load((action_dir / "action.yml").read_text())
        self.workspace = workspace
        self.temp = temp
        self.paths: list[str] = []  # $GITHUB_PATH additions, newest first
        self.summary = temp / "step-summary.md"
        self.log: list[tuple[str, subprocess.CompletedProcess | None]] = []

    def expand(self, text: str, ctx: dict) -> str:
        def value(m):
            expr = m.group(1)
            if expr in ctx:
                return str(ctx[expr])
            m2 = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            if m2:
                return ctx["steps"].get(m2.group(1), {}).get(m2.group(2), "")
            raise AssertionError(f"an expression this test runner does not know: {expr}")
        return EXPR.sub(value, str(text))

    def run(self, with_: dict, *, skip_install: bool = False) -> dict:
        inputs = {k: str(v.get("default", "")) for k, v in self.action["inputs"].items()}
        unknown = set(with_) - set(inputs)
        assert not unknown, f"not inputs of the action: {unknown}"
        inputs.update({k: str(v) for k, v in with_.items()})
        ctx = {f"inputs.{k}": v for k, v in inputs.items()}
        ctx.update({"github.action_path": str(self.action_dir), "runner.temp": str(self.temp), "steps": {}})
        base = {k: v for k, v in os.environ.items() if not k.startswith(("HEAPLENS_", "GITHUB_", "RUNNER_",
                                                                         "OPENCLAW_TEST_"))}
        base.update(GITHUB_ACTIONS="true", CI="true", GITHUB_WORKSPACE=str(self.workspace), RUNNER_TEMP=str(self.temp),
                    GITHUB_ACTION_PATH=str(self.action_dir), GITHUB_STEP_SUMMARY=str(self.summary),
                    GITHUB_SERVER_URL="https://github.com", GITHUB_REPOSITORY="acme/shop", GITHUB_RUN_ID="7",
                    HEAPLENS_PROGRESS="0")
        result = {"steps": [], "failed": None, "uploads": []}
        for i, step in enumerate(self.action["runs"]["steps"]):
            name = step.get("name", f"step {i}")
            if "uses" in step:
                # skipped: uploading needs GitHub. Its condition and what it would upload are evaluated.
                assert step["uses"].startswith("actions/upload-artifact@")
                cond = step["if"]
                run_dir = ctx["steps"].get("run", {}).get("run-dir", "")
                snapshots = inputs["upload-snapshots"] == "true"
                wanted = bool(run_dir) and (("inputs.upload-snapshots != 'true'" in cond) != snapshots)
                assert "always()" in cond  # a failing check still uploads its report
                if wanted:
                    result["uploads"].append({k: self.expand(v, ctx) for k, v in step["with"].items()})
                self.log.append((name, None))
                continue
            if skip_install and step["name"] == "Install heaplens":
                continue
            script = step["run"]
            assert "${{" not in script, f"{name}: an expression spliced into a script (inputs must come via env)"
            assert step["shell"] == "bash"
            env = dict(base)
            env.update({k: self.expand(v, ctx) for k, v in (step.get("env") or {}).items()})
            out_file = self.temp / f"output-{i}"
            path_file = self.temp / f"path-{i}"
            out_file.write_text("")
            path_file.write_text("")
            env.update(GITHUB_OUTPUT=str(out_file), GITHUB_PATH=str(path_file))
            env["PATH"] = os.pathsep.join([*self.paths, base.get("PATH", "")])
            cwd = self.workspace / self.expand(step.get("working-directory", "."), ctx)
            script_file = self.temp / f"step-{i}.sh"
            script_file.write_text(script)
            cp = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)], cwd=cwd,
                                env=env, capture_output=True, text=True, timeout=1200)
            self.log.append((name, cp))
            result["steps"].append({"name": name, "code": cp.returncode, "stdout": cp.stdout, "stderr": cp.stderr})
            outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
            if step.get("id"):
                ctx["steps"][step["id"]] = outputs
            self.paths = [p for p in path_file.read_text().splitlines() if p][::-1] + self.paths
            if cp.returncode != 0:
                result["failed"] = name
                # later steps run only with always(): the upload steps (evaluated above), nothing else
                for later in self.action["runs"]["steps"][i + 1:]:
                    assert "uses" in later or "always()" in str(later.get("if", "")), later
                    if "uses" in later and "always()" in later.get("if", ""):
                        run_dir = ctx["steps"].get("run", {}).get("run-dir", "")
                        snapshots = inputs["upload-snapshots"] == "true"
                        if run_dir and (("inputs.upload-snapshots != 'true'" in later["if"]) != snapshots):
                            result["uploads"].append({k: self.expand(v, ctx) for k, v in later["with"].items()})
                break
        result["outputs"] = {k: self.expand(v["value"], ctx) for k, v in self.action["outputs"].items()}
        return result


@pytest.fixture(scope="module")
def gh(ci_suite, tmp_path_factory):
    """The action's checkout, a workspace and a runner temp dir; heaplens installed by the action's own step."""
    tmp = tmp_path_factory.mktemp("action")
    action = _copy_checkout(tmp / "action")
    workspace = tmp / "workspace"
    workspace.mkdir()
    temp = tmp / "runner-temp"
    temp.mkdir()
    runner = Runner(action, workspace, temp)
    install = runner.action["runs"]["steps"][0]
    assert install["name"] == "Install heaplens"
    # the install step alone (the first run of the action below repeats nothing else)
    runner.action = dict(runner.action, runs={"using": "composite", "steps": [install]})
    res = runner.run({})
    assert res["failed"] is None, res["steps"][0]["stdout"][-2000:] + res["steps"][0]["stderr"][-3000:]
    assert re.search(r"^heaplens \d+\.\d+", res["steps"][0]["stdout"], re.M), res["steps"][0]["stdout"]
    runner.action = yaml.safe_load((action / "action.yml").read_text())
    return runner


def test_the_action_is_a_composite_action():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"command", "paths", "baseline", "args"} <= set(action["inputs"])
    steps = action["runs"]["steps"]
    assert [s.get("uses", "").split("@")[0] for s in steps if "uses" in s] == ["actions/upload-artifact"] * 2
    assert "github.action_path" in steps[0]["env"]["HEAPLENS_SOURCE"]


def test_check_fails_on_a_planted_leak_with_annotations_and_summary(gh, baseline):
    suite = copy_suite(gh.workspace / "shop")
    plant_leak(suite)
    shutil.copy2(baseline, suite / "heaplens-baseline.json")
    gh.summary.unlink(missing_ok=True)
    # every file end GC-settled, as the baseline's runs: the leaking file has a figure of its own
    res = gh.run({"command": "check", "working-directory": "shop", "check-args": "--max-growth '10%,1MiB'",
                  "args": "--gc-overhead off"}, skip_install=True)
    run = res["steps"][-1]
    assert res["failed"] == "Run heaplens" and run["code"] == 1, run["stdout"][-3000:] + run["stderr"][-3000:]
    assert res["outputs"]["exit-code"] == "1"
    run_dir = Path(res["outputs"]["run-dir"])
    assert (run_dir / "run.json").is_file() and (run_dir / "report.html").is_file()
    # annotations: on the leaking test file and the holder's line, paths relative to the workspace
    lines = (run["stdout"] + run["stderr"]).splitlines()
    assert any(line.startswith("::error file=shop/test/orders.test.js,title=heaplens check%3A memory regression::")
               for line in lines)
    assert any(line.startswith("::error file=shop/src/audit.js,line=2,") for line in lines)
    # the step summary: the check's Markdown (after Vitest's own: its reporter writes one in GitHub Actions)
    summary = gh.summary.read_text()
    assert "\n### heaplens check ❌ " in summary and "| `test/orders.test.js` | unit-fast | heap |" in summary
    assert "https://github.com/acme/shop/actions/runs/7" in summary
    # the upload (skipped here) takes the run directory without its heap snapshots, even though the step failed
    (upload,) = res["uploads"]
    assert upload["name"] == "heaplens-report"
    assert upload["path"].splitlines() == [str(run_dir), f"!{run_dir}/**/*.heapsnapshot"]
    assert list(run_dir.glob("heapsnap/*/*.heapsnapshot"))  # there were snapshots to leave out


def test_investigate_with_paths_annotates_the_findings(gh):
    suite = copy_suite(gh.workspace / "shop2")
    gh.summary.unlink(missing_ok=True)
    res = gh.run({"command": "investigate", "working-directory": "shop2",
                  "paths": "test/sessions.test.js test/text.test.js test/catalog.test.js", "args": "--workers 1",
                  "upload-snapshots": "true", "artifact-name": "heaplens-shop2"}, skip_install=True)
    run = res["steps"][-1]
    assert res["failed"] is None, run["stdout"][-3000:] + run["stderr"][-3000:]
    assert res["outputs"]["exit-code"] == "0"
    run_dir = Path(res["outputs"]["run-dir"])
    lines = run["stdout"].splitlines()
    # three files, one worker: the known leak is found and annotated on its holder's line and its test file
    assert any(line.startswith("::warning file=shop2/src/sessions.js,line=3,title=heaplens%3A runtime leak::"
                               "runtime leak held by `sessionCache`") for line in lines), run["stdout"][-3000:]
    assert any(line.startswith("::warning file=shop2/test/sessions.test.js,") for line in lines)
    assert "files=3" in run["stdout"]
    summary = gh.summary.read_text()
    assert "## heaplens report — run `" in summary and "sessionCache" in summary
    (upload,) = res["uploads"]
    assert upload == {"name": "heaplens-shop2", "path": str(run_dir), "if-no-files-found": "warn"}
    assert suite.is_dir()


def test_bad_command_and_missing_baseline(gh):
    copy_suite(gh.workspace / "shop3")
    res = gh.run({"command": "explode", "working-directory": "shop3"}, skip_install=True)
    assert res["failed"] == "Run heaplens" and res["steps"][-1]["code"] == 2
    assert "::error title=heaplens::command must be investigate or check" in res["steps"][-1]["stdout"]
    assert res["uploads"] == []  # nothing ran, nothing to upload
    res = gh.run({"command": "check", "working-directory": "shop3", "baseline": "nope.json"}, skip_install=True)
    assert res["steps"][-1]["code"] == 2 and "no baseline at nope.json" in res["steps"][-1]["stdout"]
