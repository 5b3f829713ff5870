"""Shared fixtures: source files made in the test, settings pointing at a temporary warehouse, and
one Prefect test server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

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
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect server for every test that runs a flow (starting one costs ~15 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    """A Slack-compatible Web API on loopback (tests/servers/slack.py)."""
    server = SlackServer().start()
    yield server
    server.stop()
