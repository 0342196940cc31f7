# Parley: `make run` serves the demo, `make test` runs every check. Both set themselves up.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000
export FLASK_APP := wsgi

REQ_STAMP := $(VENV)/.req-$(shell cat requirements.txt | md5sum | cut -c1-12)
FRONTENDS := $(wildcard widget/package.json agent_console/package.json examples/js/package.json)

.PHONY: run test setup frontends lint typecheck pytest migrate demo clean bench

setup: $(REQ_STAMP) frontends

$(REQ_STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.req-*
	@touch $@

frontends:
	@for pkg in $(FRONTENDS); do \
	  dir=$$(dirname $$pkg); \
	  if [ ! -d $$dir/node_modules ] || [ $$dir/package-lock.json -nt $$dir/node_modules ]; then \
	    (cd $$dir && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	    touch $$dir/node_modules; \
	  fi; \
	  (cd $$dir && npm run --silent --if-present build) || exit 1; \
	done

migrate: setup
	$(FLASK) db upgrade

demo: migrate
	PORT=$(PORT) $(FLASK) parley demo

run: demo
	PORT=$(PORT) $(PY) wsgi.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check app tests wsgi.py worker.py examples bench


typecheck: setup
	$(VENV)/bin/mypy

pytest: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance widget/node_modules agent_console/node_modules widget/dist agent_console/dist
