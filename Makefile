# The front door: `make run`, `make test`, `make bench`. Each installs what it needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench add-user clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The first run writes .env with a random SECRET_KEY and admin password (printed once).
run: $(STAMP)
	$(PY) -m scripts.first_run
	$(PY) -m scripts.run

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@# pytest exits 5 when it collected no tests: that is a broken suite, not a pass.
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench

add-user: $(STAMP)
	$(PY) -m api.cli add-user $(NAME)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
