# Everyday targets. The first one you run builds .venv from requirements.lock (hash-checked).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint format dbt-build dbt-docs demo-data lock bench clean

run: $(VENV)/.installed          ## The weekly report on the embedded default (dry run without a Slack token)
	$(BIN)/voc-weekly run

test: $(VENV)/.installed         ## The whole test suite (what CI runs)
	$(BIN)/pytest

lint: $(VENV)/.installed         ## ruff, mypy and sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	mkdir -p .voc && VOC_DUCKDB_PATH=$(CURDIR)/.voc/warehouse.duckdb $(BIN)/sqlfluff lint dbt_project/models

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo-data: $(VENV)/.installed    ## (Re)write the demo Parquet export
	$(BIN)/voc-weekly demo-data

dbt-build: $(VENV)/.installed    ## dbt build on the embedded DuckDB default
	$(BIN)/voc-weekly dbt build

dbt-docs: $(VENV)/.installed     ## dbt docs generate + serve on the embedded default
	$(BIN)/voc-weekly dbt docs generate
	$(BIN)/voc-weekly dbt docs serve

bench: $(VENV)/.installed        ## Benchmarks; figures go to BENCHMARKS.md
	$(BIN)/python benchmarks/bench_incremental_scan.py
	$(BIN)/python benchmarks/bench_llm_concurrency.py
	$(BIN)/python benchmarks/bench_signal.py

lock:                            ## Re-pin requirements.lock after editing pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) pip compile --universal --generate-hashes -p 3.11 pyproject.toml --extra dev -o requirements.lock

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) venv --quiet --allow-existing --python "$$(command -v $(PYTHON))" $(VENV)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

clean:
	rm -rf $(VENV) .voc dbt_project/target dbt_project/logs
