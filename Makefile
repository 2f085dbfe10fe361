PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test test-floors check bench reliability clean catalogs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/escalator sandbox

test: $(STAMP_TEST)
	$(BIN)/ruff check bot storage tests bench
	$(BIN)/ruff format --check bot storage tests bench
	$(BIN)/mypy --strict
	$(BIN)/lint-imports
	@echo "==> SQLite half: the suite on SQLite files"
	env -u ESCALATOR_TEST_DATABASE $(BIN)/pytest
	bash .ci/test-postgres.sh $(BIN)/pytest

check: test

# The suite on the lowest SQLAlchemy, aiosqlite, slack-bolt and slack-sdk pyproject.toml
# allows (.ci/floors.py), in a venv of its own; CI runs it after `make test`.
FLOORS_VENV := .venv-floors
test-floors:
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(PYTHON) .ci/floors.py > $(FLOORS_VENV)/floors.txt
	$(FLOORS_VENV)/bin/python -m pip install --quiet -e '.[test]' -c $(FLOORS_VENV)/floors.txt
	$(FLOORS_VENV)/bin/python -m pip list 2>/dev/null | grep -iE '^(slack.bolt|slack.sdk|sqlalchemy|aiosqlite) '
	@echo "==> the dependency floors, SQLite half"
	env -u ESCALATOR_TEST_DATABASE $(FLOORS_VENV)/bin/pytest
	bash .ci/test-postgres.sh $(FLOORS_VENV)/bin/pytest

# After changing what the bot says: add new texts to the .po files (then translate them);
# compiled .mo files are optional (the bot compiles a .po in memory when its .mo is missing).
catalogs: $(STAMP_RUN)
	$(BIN)/python -m bot.slack.catalogs update
	$(BIN)/python -m bot.slack.catalogs compile

bench: $(STAMP_TEST)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/ticket_commands.py
	$(BIN)/python bench/ratios.py
	$(BIN)/python bench/web_api.py
	$(BIN)/python bench/start.py
	$(BIN)/python bench/sla.py
	$(BIN)/python bench/review.py
	$(BIN)/python bench/kb.py
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python bench/timers.py

reliability: $(STAMP_TEST)
	env -u ESCALATOR_TEST_DATABASE ESCALATOR_LONG=1 $(BIN)/pytest -q -s -rxX tests/reliability
	ESCALATOR_LONG=1 bash .ci/test-postgres.sh $(BIN)/pytest -q -s -rxX tests/reliability

clean:
	rm -rf $(VENV) $(FLOORS_VENV) .mypy_cache .ruff_cache .pytest_cache
