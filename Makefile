# The front door: `make run`, `make test`, `make docs`, `make bench`. Each installs what it
# needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# axe-core, which the console's browser tests inject into the page (npm, from the lock file).
AXE := tests/console/node_modules/axe-core/axe.min.js

.PHONY: run test lint format bench docs add-user clean

# The first install takes about three minutes (Piper, PyAV, the cloud SDKs ...): pip shows
# each package as it goes, so the first `make run` is not silent.
$(STAMP): requirements.txt requirements-dev.txt
	@echo "installing dependencies into $(VENV) (first run: about 3 minutes) ..."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar on -r requirements-dev.txt
	touch $(STAMP)
	@echo "dependencies installed"

$(AXE): tests/console/package.json tests/console/package-lock.json
	cd tests/console && npm ci --no-audit --no-fund
	touch $(AXE)

# The first run writes .env with a random SECRET_KEY and admin password (printed once).
run: $(STAMP)
	$(PY) -m scripts.first_run
	$(PY) -m scripts.run

# Lint, format check, then every test (the docs site is built with --strict among them, and
# the README's and docs' examples are run against a live service).
test: $(STAMP) $(AXE)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@# pytest exits 5 when it collected no tests: that is a broken suite, not a pass.
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Runs every benchmark, writes bench/results/latest.json and docs/performance.md from it.
bench: $(STAMP)
	$(PY) -m bench

# The documentation site, live-reloading, on http://127.0.0.1:8001.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve

add-user: $(STAMP)
	$(PY) -m api.cli add-user $(NAME)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site
