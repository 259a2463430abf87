# make run: set up and serve on :8000.  make test: every check.  (See README.md.)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest migrate db clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

db:
	deploy/local-mariadb.sh ensure

migrate: $(STAMP) db
	$(BIN)/blogsvc migrate

run: migrate
	$(BIN)/blogsvc serve --host $${BLOGSVC_HOST:-127.0.0.1} --port $${BLOGSVC_PORT:-8000}

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) db
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
