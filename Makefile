# make run: set up and serve on :8000.  make test: every check.  (See README.md.)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest migrate db nats clean lint-deploy image-test docs-check bench bench-quick fuzz restore-drill

# The install re-runs when the dependencies or the pinned docs assets change (hatch_build.py fetches those).
$(STAMP): pyproject.toml hatch_build.py blogsvc/docs_assets/packages.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

db:
	deploy/local-mariadb.sh ensure

# NATS with JetStream, for the relay's tests (tests/events): the one at BLOGSVC_NATS_URL, else a private one.
nats:
	deploy/local-nats.sh ensure

migrate: $(STAMP) db
	$(BIN)/blogsvc migrate

run: migrate
	BLOGSVC_LOG_FORMAT=$${BLOGSVC_LOG_FORMAT:-console} \
	    $(BIN)/blogsvc serve --host $${BLOGSVC_HOST:-127.0.0.1} --port $${BLOGSVC_PORT:-8000}

lint: $(STAMP) lint-deploy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy

# Twice: on the default driver, then on the optional asyncmy (blogsvc/drivers.py).
pytest: $(STAMP) db nats
	$(BIN)/pytest
	BLOGSVC_DB_DRIVER=asyncmy $(BIN)/pytest -q

test: lint typecheck fuzz restore-drill pytest

# schemathesis against a live server's /openapi.json (tests/fuzz/run.py): every phase, every check, with
# tokens on. FUZZ_EXAMPLES=100 for the thorough run. In `make test` it runs before pytest, so that the
# run ends on pytest's summary.
FUZZ_EXAMPLES ?= 10
fuzz: $(STAMP) db
	$(BIN)/python -m tests.fuzz.run --max-examples $(FUZZ_EXAMPLES)

# Backup and restore, drilled (docs/operations.md, "Backup and restore"): a database on the server of
# BLOGSVC_DATABASE_URL, backed up with mariadb-dump while writers write through the API, restored into a
# throwaway mariadbd, served, relayed and checked. 15-40 s; all it makes is removed, even on failure.
restore-drill: $(STAMP) db nats
	timeout 300 deploy/restore-drill.sh

# The Kubernetes manifests against the API's schemas (--strict: an unknown field fails), as written and
# as Kustomize renders deploy/k8s and its overlays (deploy/k8s-validate.sh; installs Debian's kubectl
# when there is none), and deploy/compose.yaml parses and keeps its start-up order (mariadb healthy,
# then migrate, then blogsvc).
lint-deploy: $(STAMP)
	VALIDATE=$(BIN)/kubernetes-validate deploy/k8s-validate.sh
	$(BIN)/python -c 'import sys, yaml; s = yaml.safe_load(open("deploy/compose.yaml"))["services"]; \
	    order = {"mariadb": {"condition": "service_healthy"}, "migrate": {"condition": "service_completed_successfully"}}; \
	    sys.exit(None if s["blogsvc"]["depends_on"] == order and "healthcheck" in s["mariadb"] else "deploy/compose.yaml: bad start-up order")'

# Build the image with podman, run it against the local MariaDB and smoke-test the API through it
# (deploy/image-smoke.sh says how). Needs podman; not part of `make test`.
image-test: db
	deploy/image-smoke.sh

# /docs and /redoc in Debian's headless Chromium with no host but 127.0.0.1 resolvable: every operation
# renders and the pages fetch nothing from elsewhere. Installs chromium if missing; not part of `make test`.
docs-check: $(STAMP) db
	$(BIN)/python deploy/check-docs-offline.py

# The whole suite against a throwaway 3-node MariaDB Galera cluster (deploy/galera.sh), plus the cluster
# tests (a node killed, a node cut off, under load). A few minutes; .ci/run runs it after `make test`.
.PHONY: test-galera
test-galera: $(STAMP) nats
	deploy/galera-test.sh

# blogsvc against the seed tutorial stack, side by side (bench/README.md). Not part of `make test`.
bench: $(STAMP)
	$(PYTHON) bench/run.py $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(PYTHON) bench/run.py --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build dist tests/clients/node_modules
