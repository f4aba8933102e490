# Every target works on a fresh machine: it makes .venv and installs what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install test lint typecheck bench demo clean rules-doc

$(BIN)/calctl: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m compileall -q src  # write bytecode once: with PYTHONDONTWRITEBYTECODE every run recompiles
	touch $@

install: $(BIN)/calctl

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy src

# docs/rules.md from the rule registry (tests/sql/test_rules_doc.py checks it is current)
rules-doc: install
	$(PY) -m calctl.sql.rules.docs > docs/rules.md

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

demo: install
	$(PY) examples/demo.py

clean:
	rm -rf $(VENV) .calctl .pytest_cache .mypy_cache .ruff_cache
