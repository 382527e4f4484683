# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# durable-rules builds from source: it needs gcc and Python 3.11 or 3.12 (not 3.13).
PYTHON ?= $(shell for p in python3.11 python3.12 python3; do $$p -c 'import sys; sys.exit(not (3,11) <= sys.version_info[:2] <= (3,12))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# Worker processes for `make run` (one per core to scale; `make run WORKERS=2`). app.serve gives each
# worker its own SO_REUSEPORT socket and keeps TCP_NODELAY, which `uvicorn --workers` loses.
WORKERS ?= 1

.PHONY: run test check lint schemas digest verified lock wheelhouse screenshot bench attack profile clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is required (durable-rules does not import on 3.13)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python -m app.serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile

# Everything: lint, then every test of every tier (CI runs this; about 2 minutes on 2 cores).
test: lint wheelhouse
	$(VENV)/bin/pytest

# The fast tier while working: lint, then every test except the slow, server and browser tiers
# (markers in pyproject.toml; about 30 s). Run `make test` before pushing.
check: lint
	$(VENV)/bin/pytest -m "not slow and not server and not browser"

# Regenerate the exported JSON Schema files after changing a model in schemas/.
schemas: $(STAMP)
	$(VENV)/bin/python -m schemas.export

# The rulebook's version, date and content digest, as rules/CHANGELOG.md records them: run it after a
# rulebook change (and a version bump) and copy the two lines into the changelog's new entry.
digest: $(STAMP)
	@$(VENV)/bin/python -m app.rulebook

# After a rulebook change, where the source documents are: every check of `livermets check-rules`, then
# rules/quotes-verified.json records that this rulebook's quotes were verified (a server without the
# documents, such as the Docker image, starts on that record; a test keeps it current).
verified: $(STAMP)
	$(VENV)/bin/python -m app.cli check-rules --record

# The runtime dependencies the image installs, resolved from pyproject.toml's pins with the sha256 of
# every file: run after changing a dependency (a test checks the lock keeps pyproject's pins).
lock: $(STAMP)
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
	  --output-file requirements.lock pyproject.toml

# Wheels of the locked dependencies (downloads hash-checked, durable-rules compiled) for the test that
# installs and serves the app offline as the image does (tests/test_image_layout.py).
WHEELHOUSE := build/wheelhouse
$(WHEELHOUSE)/.stamp: requirements.lock $(STAMP)
	$(VENV)/bin/pip wheel --quiet --require-hashes --no-deps -r requirements.lock -w $(WHEELHOUSE)
	touch $@

wheelhouse: $(WHEELHOUSE)/.stamp

# Refresh the README's pictures of the two pages from the browser tests that take them (needs Chromium).
screenshot: $(STAMP)
	LIVERMETS_REQUIRE_BROWSER=1 $(VENV)/bin/pytest tests/test_page_browser.py -k colorectal_case
	cp test-artifacts/page-result.png docs/screenshot-page.png
	LIVERMETS_REQUIRE_BROWSER=1 $(VENV)/bin/pytest tests/test_exercise_page_browser.py -k practice_round
	cp test-artifacts/exercise-page.png docs/screenshot-exercises.png

# Throughput, latency, memory and start-up against a real server (about 2.5 minutes; prints a
# table). Needs wrk: installed here with apt-get when run as root, otherwise say how.
bench: $(STAMP) wrk
	$(VENV)/bin/python -m bench

# The availability attacks at full scale against python -m app.serve --workers 2 (about 1 minute):
# memory under 30 non-reading batch clients, CPU after they disconnect, /healthz under what-if load.
attack: $(STAMP)
	$(VENV)/bin/python -m bench.attack

# Where the time of POST /v1/explain goes under load (py-spy samples the server).
profile: $(STAMP) wrk
	@test -x $(VENV)/bin/py-spy || $(VENV)/bin/pip install --quiet 'py-spy==0.4.3'
	$(VENV)/bin/python -m bench.profile

.PHONY: wrk
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	  else echo "make bench needs wrk: sudo apt-get install wrk (Debian/Ubuntu) or brew install wrk"; exit 1; fi; }

clean:
	rm -rf $(VENV) *.egg-info build
