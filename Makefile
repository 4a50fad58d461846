# lightsplit: `make test` (format, lint, types, tests, docs) and `make demo`.
# Both create or reuse a local virtual environment in .venv and install the
# pinned versions of constraints.txt into it, torch first, so that a fresh
# install never pulls another torch build.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lightsplit-installed

.PHONY: test demo lint types unit docs bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint constraints.txt torch
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[dev,demo]'
	touch $(STAMP)

test: lint types unit docs

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

demo: $(STAMP)
	$(BIN)/lightsplit demo

bench: $(STAMP)
	$(BIN)/python benchmarks/split_loading.py
	$(BIN)/python benchmarks/caching.py
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/split_tools.py
	$(BIN)/python benchmarks/resume.py
	$(BIN)/python benchmarks/provenance.py
	$(BIN)/python benchmarks/node_cache.py

clean:
	rm -rf $(VENV) site .mypy_cache .ruff_cache .pytest_cache .coverage
