"""Shared fixtures: source files made in the test, settings pointing at a temporary warehouse, and
one Prefect test server for the whole session (per xdist worker)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers.slack import SlackServer


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real tokens or sources from the environment."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "LAAS_API_KEY",
        "LAAS_BASE_URL",
        "VOC_SOURCE_PATH",
        "VOC_SLACK_CHANNEL",
        "VOC_HOME",
        "VOC_DUCKDB_PATH",
        "VOC_DBT_TARGET",
        "VOC_GCP_CREDENTIALS_BLOCK",
        "VOC_SLACK_API_URL",
        "VOC_SLACK_CREDENTIALS_BLOCK",
        "VOC_LAAS_SECRET_BLOCK",
        "LAAS_PROJECT",
        "LAAS_PRESET_HASH",
        "VOC_LLM_CONCURRENCY",
        "VOC_LLM_TIMEOUT_SECONDS",
        "VOC_LLM_MAX_ATTEMPTS",
        "VOC_BOT_ALLOWED_CHANNELS",
        "VOC_BOT_DEPLOYMENT",
        "VOC_BOT_ADMINS",
        "VOC_BOT_ALLOW_DMS",
        "VOC_BOT_ALLOWED_USERS",
        "PORT",  # `voc-weekly bot --port` reads it (Cloud Run sets it)
        "VOC_DASHBOARD_URL",
        "VOC_POST_QUIET_WEEKS",
        "VOC_BQ_PROJECT",
        "VOC_BQ_DATASET",
        "VOC_BQ_SOURCE_TABLE",
        "VOC_BQ_AUTH_METHOD",
        "VOC_BQ_KEYFILE",
        "VOC_BQ_TOKEN",
        "BIGQUERY_EMULATOR_HOST",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "VOC_MAX_RETRY_WAIT_SECONDS",
        "VOC_DELIVERY_LOCK_TIMEOUT_SECONDS",
        "VOC_ALLOW_INSECURE_HTTP",
        "VOC_LLM",
        "VOC_LLM_MODEL",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "VOC_OPENAI_SECRET_BLOCK",
        "VOC_DOCS_URL",
        "VOC_DOCS_BUCKET_BLOCK",
        "STORAGE_EMULATOR_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    # Tests report fixed weeks (2026-11-16, …): they must keep passing as the calendar moves past the
    # default limit of 52 weeks back. Tests of the limit set it themselves.
    monkeypatch.setenv("VOC_MAX_WEEKS_BACK", "520")


# The test server's telemetry insert only logs "database is locked" on a busy SQLite file, and its
# background loops (schedules, late runs, workers' health, automations) keep a core ~20% busy while
# no test here needs them: a worker picks up a run created now, and a run left Scheduled stays so.
for _setting in (
    "ANALYTICS",
    "SERVICES_SCHEDULER",
    "SERVICES_LATE_RUNS",
    "SERVICES_FOREMAN",
    "SERVICES_PAUSE_EXPIRATIONS",
    "SERVICES_REPOSSESSOR",
    "SERVICES_CANCELLATION_CLEANUP",
    "SERVICES_TRIGGERS",
):
    os.environ.setdefault(f"PREFECT_SERVER_{_setting}_ENABLED", "false")


# dbt as one step of a flow run: a Prefect task per dbt node costs a third of each run's time. Set
# here, not in a fixture, so module-scoped runs get it too; the runs of tests/test_flow.py's
# `delivered` fixture keep the default, a task per node.
os.environ["VOC_DBT_NODE_TASKS"] = "false"


# An xdist worker starts with COLUMNS=80 in its environment, which rich's module-level console in
# flows.cli would keep for good: without it, the console measures the width a test sets (COLUMNS).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under `-n` (pyproject addopts), each module runs on one worker so its module fixtures (dbt
    builds, flow runs) are made once, and tests/bigquery/ on two workers so each starts the
    emulators once: the prod-target module (the longest) on one, the other modules on another."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleOrBigQueryScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if module == "tests/bigquery/test_prod_target.py":
                return module
            return "tests/bigquery/" if module.startswith("tests/bigquery/") else module

    return ModuleOrBigQueryScheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def dbt_project_of_this_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of dbt_project/ per test process (VOC_DBT_PROJECT_DIR): two xdist workers never write
    the same target/ (manifest, compiled SQL, partial parse), and the repository's is left alone."""
    from flows.settings import PACKAGE_ROOT

    project = tmp_path_factory.mktemp("dbt") / "dbt_project"
    ignore = shutil.ignore_patterns("target", "logs", "*.duckdb")
    shutil.copytree(PACKAGE_ROOT / "dbt_project", project, ignore=ignore)
    saved = os.environ.get("VOC_DBT_PROJECT_DIR")
    os.environ["VOC_DBT_PROJECT_DIR"] = str(project)
    yield project
    if saved is None:
        os.environ.pop("VOC_DBT_PROJECT_DIR", None)
    else:
        os.environ["VOC_DBT_PROJECT_DIR"] = saved


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect server for every test that runs a flow (starting one costs ~15 s);
    each xdist worker starts its own (a temporary database and a free port of its own)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    """A Slack-compatible Web API on loopback (tests/servers/slack.py)."""
    server = SlackServer().start()
    yield server
    server.stop()
