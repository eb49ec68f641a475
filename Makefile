# One-command dev loop. `make run` and `make test` create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PIP_FLAGS := -q -c constraints.txt
CONFIG ?= .alma/config.yaml
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-fast lint format bench install clean screenshots

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install $(PIP_FLAGS) -e ".[test]"
	touch $@

install: $(VENV)/.installed

## make run: load sample_data/ into .alma/ if it is empty, then start the dashboard on 127.0.0.1
run: $(VENV)/.installed
	$(VENV)/bin/alma demo --config $(CONFIG)
	ALMA_CONFIG=$(CONFIG) $(VENV)/bin/streamlit run streamlit_app.py

## make test: the whole suite, the real MiniLM model, browser tests included
test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(VENV)/.installed-test
	$(PY) -m pytest -m "not slow and not e2e" $(PYTEST_ARGS)

## make screenshots: refresh docs/*.png from the browser tests
screenshots: $(VENV)/.installed-test
	ALMA_SCREENSHOT_DIR=$(CURDIR)/docs $(PY) -m pytest tests/e2e -q

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## make bench: benchmarks print figures and write JSON under benchmarks/results/ (docs/benchmarks.md)
## vs_alma_memory.py installs the original alma-memory into .venv-peer on its first run.
bench: $(VENV)/.installed-test
	$(PY) benchmarks/core.py
	$(PY) benchmarks/learning_mix.py
	$(PY) benchmarks/quality.py
	$(PY) benchmarks/vs_alma_memory.py
	$(PY) benchmarks/learning_curve.py
	$(PY) benchmarks/dashboard.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
