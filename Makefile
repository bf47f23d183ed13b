# Ancillary — `make run` serves the demo, `make test` runs the suite on SQLite and PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_PACKAGES := libzbar0 fonts-wqy-microhei
TEST_PACKAGES := $(RUN_PACKAGES) postgresql chromium poppler-utils
PORT ?= 5000

messages: setup
	@scripts/messages.sh

.PHONY: messages run test test-sqlite test-postgres bench setup system-run system-test db demo lint clean

run: setup system-run db
	@$(BIN)/ancillary demo
	$(BIN)/ancillary serve --port $(PORT)

test: setup system-test
	@scripts/run-tests.sh

test-sqlite: setup system-test
	@ANCILLARY_TEST_DATABASES=sqlite scripts/run-tests.sh

test-postgres: setup system-test
	@ANCILLARY_TEST_DATABASES=postgresql scripts/run-tests.sh

bench: setup system-test
	@scripts/run-bench.sh

setup: $(STAMP)
	@$(BIN)/pybabel compile -f -d ancillary/translations >/dev/null 2>&1 || { echo "message catalogues do not compile: run scripts/messages.sh"; exit 1; }

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	@echo "==> virtualenv in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

system-run:
	@scripts/system-packages.sh $(RUN_PACKAGES)

system-test:
	@scripts/system-packages.sh $(TEST_PACKAGES)

db: setup
	@echo "==> database migrations"
	@$(BIN)/ancillary db upgrade

lint: setup
	@$(BIN)/python -m ruff check ancillary scanners notifications tests bench
	@echo "ruff: E W F I B UP SIM C90 (complexity <= 15) clean"

clean:
	rm -rf $(VENV) instance .pytest_cache
