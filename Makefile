# One-command dev loop. `make run` and `make test` create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PIP_FLAGS := -q -c constraints.txt
CONFIG ?= .alma/config.yaml
# LoCoMo (snap-research/LoCoMo, CC BY-NC 4.0) is not shipped: point LOCOMO at data/locomo10.json.
LOCOMO ?= benchmarks/data/locomo10.json
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-deps test-fast lint format bench install clean screenshots

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

## make test: the whole suite, the real MiniLM model, browser and Azurite tests included.
## Installs Chromium (Debian packages) and Azurite (npm, into tools/) first when they are
## missing, or stops saying what to install (.ci/install-test-deps; ALMA_SKIP_TOOLS=1 skips).
test: $(VENV)/.installed-test test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

test-deps:
	bash .ci/install-test-deps

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
	@if [ -f "$(LOCOMO)" ]; then $(PY) benchmarks/locomo.py "$(LOCOMO)"; else \
	  echo "skipping benchmarks/locomo.py: $(LOCOMO) not found (get data/locomo10.json from https://github.com/snap-research/LoCoMo, CC BY-NC 4.0, and pass LOCOMO=path)"; fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
