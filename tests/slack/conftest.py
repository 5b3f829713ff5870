"""Fixtures of the Slack tests: the bot's `ad-hoc` deployment on the session's Prefect test server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.deployments.runner import RunnerDeployment

from flows.flow import voc_weekly_report


@pytest.fixture(scope="module")
def deployment(prefect_server: None) -> Iterator[UUID]:
    """The `ad-hoc` deployment on the test server: no work pool and no worker, so runs stay Scheduled.

    The server is shared by the session: our runs and the deployment are deleted afterwards, so
    tests that count flow runs or deploy `ad-hoc` themselves find nothing of ours.
    """
    # Both calls are sync here (no event loop); their annotations also allow the async form.
    runner = cast(RunnerDeployment, voc_weekly_report.to_deployment(name="ad-hoc"))
    deployment_id = cast(UUID, runner.apply())
    yield deployment_id
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        ):
            client.delete_flow_run(run.id)
        client.delete_deployment(deployment_id)
