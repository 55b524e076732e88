# The two commands a newcomer needs: `make run` (the whole system) and `make test` (every check).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test setup lint lock clean-engine

run: setup
	$(PY) -m stack run

test: setup lint
	$(PY) -m engine build
	cd engine && mvn -B -ntp -DfailIfNoTests=true test  # the engine's own Java unit tests (engine/src/test)
	$(VENV)/bin/pytest

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: setup
	node_modules/.bin/bpmnlint bpmn/*.bpmn
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Re-pin Python dependencies after editing pyproject.toml (hashes, no index URLs).
lock:
	$(VENV)/bin/pip install --quiet uv==0.13.9
	$(VENV)/bin/uv pip compile pyproject.toml --group dev --generate-hashes --no-emit-index-url \
		--python-version 3.11 -o requirements.lock

clean-engine:
	rm -rf var/engine engine/target
