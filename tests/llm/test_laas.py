"""The LaaS preset API transport: the request shape the real service expects (what every service
guarantees, retries, concurrency, failures, masking: tests/llm/test_follow_up_calls.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llm.endpoints import Endpoint, flagged, start, write
from tests.servers import laas as laas_server


@pytest.fixture
def laas() -> Iterator[Endpoint]:
    service = start("laas")
    yield service
    service.server.stop()


def test_the_request_has_the_preset_api_shape(tmp_path: Path, laas: Endpoint) -> None:
    write(flagged(1), laas.settings(tmp_path))
    [request] = laas.server.requests
    assert request.headers["project"] == "WANTED_DATA"
    assert request.headers["apikey"] == laas_server.API_KEY
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.body["hash"] == laas_server.PRESET_HASH
    assert request.body["messages"] == [{"role": "user", "content": request.prompt}]
    assert "cat-01" in request.prompt


def test_project_and_preset_come_from_the_settings(tmp_path: Path) -> None:
    server = laas_server.LaasServer(project="OTHER_TEAM", preset_hash="abc123").start()
    try:
        service = Endpoint("laas", server)
        settings = service.settings(tmp_path, LAAS_PROJECT="OTHER_TEAM", LAAS_PRESET_HASH="abc123")
        [follow_up] = write(flagged(1), settings)
    finally:
        server.stop()
    assert follow_up.origin == "laas"
    assert server.requests[0].body["hash"] == "abc123"
