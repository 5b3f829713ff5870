# Everyday targets. The first one you run builds .venv from requirements-dev.lock (hash-checked): the
# runtime lock's exact versions (requirements.lock, all the image gets) plus the test and lint tools.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never
# Install compiled bytecode (as the Dockerfile does): with PYTHONDONTWRITEBYTECODE set, as on the
# project's machines, Python would otherwise compile Prefect, dbt and google-cloud from source on
# every run, tens of seconds of CPU in each `voc-weekly run`.
export UV_COMPILE_BYTECODE := 1

.PHONY: run test lint format dbt-build dbt-docs docs demo-data lock bench clean bq-emulator-run bq-cost browser

# Local BigQuery emulators for the prod-target tests, each in its own venv (their duckdb/sqlglot pins
# conflict with the project's), from hash-pinned locks in tests/bigquery/.
BQ_EMULATORS := .venv-bq-crucible/.installed .venv-bq-bqemulator/.installed

run: $(VENV)/.installed          ## The weekly report on the embedded default (dry run without a Slack token)
	$(BIN)/voc-weekly run

test: $(VENV)/.installed $(BQ_EMULATORS) browser  ## The whole test suite (what CI runs)
	$(BIN)/pytest

lint: $(VENV)/.installed         ## ruff, mypy and sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	# sqlfluff renders the models through dbt, which takes its settings from the environment only.
	mkdir -p .voc && VOC_DBT_TARGET=dev VOC_DUCKDB_PATH=$(CURDIR)/.voc/warehouse.duckdb \
	  VOC_SOURCE_PATH=$(CURDIR)/.voc/demo/zendesk_voc_classified.parquet $(BIN)/sqlfluff lint dbt_project/models

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo-data: $(VENV)/.installed    ## (Re)write the demo Parquet export
	$(BIN)/voc-weekly demo-data

dbt-build: $(VENV)/.installed    ## dbt build on the embedded DuckDB default
	$(BIN)/voc-weekly dbt build

docs: $(VENV)/.installed         ## The dbt docs as one static page: .voc/docs/index.html
	$(BIN)/voc-weekly docs build

dbt-docs: $(VENV)/.installed     ## dbt docs generate + serve on the embedded default
	$(BIN)/voc-weekly dbt docs generate
	$(BIN)/voc-weekly dbt docs serve

# The docs page test looks at the page in Debian's Chromium. Installed here when missing and apt-get can
# (root); where it cannot, the test skips and its reason says why: nothing stands in for the browser.
browser:                         ## Chromium for the docs page test (Debian's package), when missing and installable
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the docs page test"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      chromium >/dev/null; } || echo "chromium could not be installed: the docs page test will skip"; \
	  else \
	    echo "chromium is missing and only root can apt-get it here: the docs page test will skip"; \
	  fi; }

bench: $(VENV)/.installed        ## Benchmarks; figures go to BENCHMARKS.md
	$(BIN)/python -m benchmarks.bench_local_loop
	$(BIN)/python -m benchmarks.bench_incremental_scan
	$(BIN)/python -m benchmarks.bench_llm_concurrency
	$(BIN)/python -m benchmarks.bench_signal

lock:                            ## Re-pin the runtime, development and emulator locks after editing their inputs
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) pip compile --universal --generate-hashes -p 3.11 pyproject.toml -o requirements.lock
	$(UV) pip compile --universal --generate-hashes -p 3.11 pyproject.toml --extra dev \
	  -c requirements.lock -o requirements-dev.lock
	cd tests/bigquery && for name in crucible bqemulator; do \
	  $(UV) pip compile --quiet --universal --generate-hashes -p 3.11 $$name.in -o $$name.lock; done

bq-emulator-run: $(VENV)/.installed $(BQ_EMULATORS)  ## The prod target (dbt + dry run) on a local BigQuery emulator
	$(BIN)/python -m tests.bigquery.run_locally $(ARGS)

bq-cost: $(VENV)/.installed      ## BigQuery bytes billed per model of a scheduled run, from the compiled SQL
	$(BIN)/python -m benchmarks.bq_cost

$(VENV)/.installed: requirements-dev.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) venv --quiet --allow-existing --python "$$(command -v $(PYTHON))" $(VENV)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements-dev.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

.venv-bq-%/.installed: tests/bigquery/%.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) venv --quiet --allow-existing --python "$$(command -v $(PYTHON))" .venv-bq-$*
	$(UV) pip sync --quiet --python .venv-bq-$*/bin/python --require-hashes $<
	@touch $@

# bqemulator loads DuckDB's spatial extension at start; install the packaged one into the emulator's
# own home (the fixture starts it with HOME there), so it never tries to download it.
.venv-bq-bqemulator/.installed: tests/bigquery/bqemulator.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) venv --quiet --allow-existing --python "$$(command -v $(PYTHON))" .venv-bq-bqemulator
	$(UV) pip sync --quiet --python .venv-bq-bqemulator/bin/python --require-hashes $<
	mkdir -p .venv-bq-bqemulator/home && HOME=$(CURDIR)/.venv-bq-bqemulator/home \
	  .venv-bq-bqemulator/bin/python tests/bigquery/install_spatial.py
	@touch $@

clean:
	rm -rf $(VENV) .venv-bq-* .voc dbt_project/target dbt_project/logs
