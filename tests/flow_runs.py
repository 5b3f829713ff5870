"""Running the flow in a test: the environment of a configured run, and what a finished run recorded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
from prefect.states import State

from tests.servers.slack import VALID_TOKEN, SlackServer

CHANNEL = "C0VOCWEEKLY"


@contextmanager
def scenario(folder: Path, source: Path, **env: str) -> Iterator[SlackServer]:
    """A working folder, a Slack server, an empty delivery ledger and the settings of a run.

    The warehouse file sits next to the source: runs of one export share it, so dbt reuses its parse.
    """
    slack = SlackServer().start()
    values = {
        "VOC_HOME": str(folder / ".voc"),
        "VOC_SOURCE_PATH": str(source),
        "VOC_DUCKDB_PATH": str(source.parent / "warehouse.duckdb"),
        "VOC_SLACK_API_URL": slack.url,
        "VOC_SLACK_CHANNEL": CHANNEL,
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        **env,
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name, value in values.items():
            patch.setenv(name, value)
        with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: folder / "prefect-storage"}):
            try:
                yield slack
            finally:
                slack.stop()


def run_records(state: State[Any]) -> tuple[str, list[Any]]:
    """Everything the run logged, and its artifacts."""
    run_id: UUID | None = state.state_details.flow_run_id
    assert run_id is not None
    APILogHandler().flush()  # logs reach the API in batches: the run's last lines may still be queued
    log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
    with get_client(sync_client=True) as client:
        # The API returns at most PREFECT_API_DEFAULT_LIMIT (200) logs a call, and a run with dbt's
        # per-node tasks logs more: the outcome line, logged last, would be cut off.
        logs: list[Any] = []
        while page := client.read_logs(log_filter=log_filter, offset=len(logs)):
            logs.extend(page)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    return "\n".join(log.message for log in logs), artifacts
