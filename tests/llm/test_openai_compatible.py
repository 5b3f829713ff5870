"""The OpenAI-compatible transport: what the official `openai` SDK sends to the endpoint (what every
service guarantees, retries, concurrency, failures, masking: tests/llm/test_follow_up_calls.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llm.endpoints import Endpoint, flagged, start, write
from tests.servers import llm as replies
from tests.servers.openai_compatible import API_KEY, MODEL


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    service = start("openai")
    yield service
    service.server.stop()


def test_the_sdk_sends_a_chat_completion_for_the_model_with_the_bearer_key(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    [request] = endpoint.server.requests
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"].startswith("application/json")
    assert request.body["model"] == MODEL
    assert request.body["messages"] == [{"role": "user", "content": request.prompt}]
    assert "stream" not in request.body or request.body["stream"] is False
    assert "cat-01" in request.prompt
    assert follow_up.origin == "openai" and follow_up.body.startswith("cat-01 후속 분석")


def test_a_base_url_with_a_trailing_slash_reaches_the_same_path(tmp_path: Path, endpoint: Endpoint) -> None:
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path, OPENAI_BASE_URL=endpoint.server.url + "/"))
    assert follow_up.origin == "openai"


def test_the_sdk_does_not_retry_on_its_own(tmp_path: Path, endpoint: Endpoint) -> None:
    """One retry policy for every service: VOC_LLM_MAX_ATTEMPTS counts requests, not SDK rounds."""
    endpoint.server.plan("cat-01", *[replies.server_error(500)] * 5)
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path, VOC_LLM_MAX_ATTEMPTS=2))
    assert follow_up.origin == "failed"
    assert [request.status for request in endpoint.server.requests] == [500, 500]


def test_a_model_the_endpoint_does_not_serve_is_a_one_line_failure(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path, VOC_LLM_MODEL="no-such-model"))
    assert follow_up.body == ":warning: 후속 분석을 생성하지 못했습니다 (사유: HTTP 404)"
    assert len(endpoint.server.requests) == 1
