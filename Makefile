# heaplens — every target sets itself up from a fresh clone (Python >= 3.10, Node >= 20).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: setup demo demo-snapshots test bench bench-quick bench-graph bench-runner clean check-node

$(STAMP): pyproject.toml src/heaplens/_kernels.c
	@$(PYTHON) -c 'import sys; sys.exit("heaplens needs Python >= 3.10") if sys.version_info < (3, 10) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) check-node

check-node:
	@node -e 'const [maj] = process.versions.node.split(".").map(Number); if (maj < 20) { console.error("heaplens needs Node >= 20, found " + process.version); process.exit(1) }'

demo: setup
	$(BIN)/python examples/demo/demo.py

demo-snapshots: setup
	$(BIN)/python examples/demo/snapshots_demo.py

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/bench_reader.py

bench-quick: setup
	$(BIN)/python bench/bench_reader.py --quick

bench-graph: setup
	$(BIN)/python bench/bench_reader.py --quick --reps 1 --peer-reps 1 >/dev/null  # generates the snapshots once
	npm ci --no-audit --no-fund --prefix bench >/dev/null
	$(BIN)/python bench/bench_graph.py bench/.cache/snap-160000.heapsnapshot --repeat 5

bench-runner: setup
	$(BIN)/python bench/bench_runner.py

clean:
	rm -rf $(VENV) .heaplens build *.egg-info src/*.egg-info src/heaplens/*.so bench/.cache bench/node_modules \
		tests/runner/fixtures/*/node_modules \
		examples/scenarios/node_modules examples/scenarios/module-graph/generated examples/demo/suite/node_modules examples/demo/suite/src/generated
