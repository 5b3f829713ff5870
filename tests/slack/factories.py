"""Test data of the bot's tests: its settings, mention events as Slack sends them, its flow runs."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun

from flows.settings import VocSettings
from tests.servers.slack import BOT_USER_ID, VALID_TOKEN, SlackServer

SECRET = "test-signing-secret"
CHANNEL = "C0VOCWEEKLY"
ELSEWHERE = "C0ELSEWHERE"
_ts = itertools.count(1)


def bot_settings(slack: SlackServer, **overrides: Any) -> VocSettings:
    """The bot's settings on the loopback Slack server; an override of None unsets that variable."""
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        "VOC_SLACK_API_URL": slack.url,
        "VOC_SLACK_CHANNEL": CHANNEL,
        "SLACK_SIGNING_SECRET": SECRET,
        **overrides,
    }
    return VocSettings(_env_file=None, **{k: v for k, v in values.items() if v is not None})


def mention_event(text: str, channel: str = CHANNEL, **fields: Any) -> dict[str, Any]:
    """The `app_mention` event of `@voc-weekly <text>` (a new ts each time)."""
    ts = f"1790000{next(_ts):03d}.000100"
    return {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": f"<@{BOT_USER_ID}> {text}".strip(),
        "ts": ts,
        "event_ts": ts,
        "channel": channel,
        **fields,
    }


def thread_of(event: dict[str, Any]) -> str:
    """The thread the bot answers an event in: the mention's thread, or the mention itself."""
    return str(event.get("thread_ts") or event["ts"])


def event_callback(event: dict[str, Any]) -> dict[str, Any]:
    """The Events API envelope Slack wraps an event in (over HTTP, or as a Socket Mode payload)."""
    return {
        "token": "legacy-verification-token",
        "team_id": "T0TEST",
        "api_app_id": "A0VOC",
        "type": "event_callback",
        "event_id": f"Ev{event['ts'].replace('.', '')}",
        "event_time": int(time.time()),
        "event": event,
    }


def mention_body(text: str, channel: str = CHANNEL, **fields: Any) -> tuple[bytes, str]:
    """The HTTP body of an event_callback for `@voc-weekly <text>`, and the thread it belongs in."""
    event = mention_event(text, channel, **fields)
    return json.dumps(event_callback(event)).encode("utf-8"), thread_of(event)


def runs_in_thread(deployment_id: UUID, thread_ts: str) -> list[FlowRun]:
    """Flow runs of the deployment that report in this thread."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )
    return [run for run in runs if run.parameters.get("thread_ts") == thread_ts]


def wait_for(condition: Callable[[], Any], timeout: float = 10) -> Any:
    """Poll until `condition()` is truthy: Bolt handles an event after it has acknowledged it."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the bot")
        time.sleep(0.05)
    return result


def settle() -> None:
    """Give the bot time to act after the ack, before asserting that it did nothing."""
    time.sleep(0.5)


class RecordedStarts:
    """A `start` for the handler that records the reports it was asked to start (channel, thread, week)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, str, date]] = []
        self._error = error

    def __call__(self, settings: VocSettings, channel: str, thread_ts: str, week: date) -> str:
        self.calls.append((channel, thread_ts, week))
        if self._error is not None:
            raise self._error
        return f"run-{len(self.calls)}"

    @property
    def weeks(self) -> list[date]:
        return [week for _, _, week in self.calls]
