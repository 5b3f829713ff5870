"""Test data of the bot's tests: its settings, mentions, DMs and slash commands as Slack sends them,
a week already delivered to a channel, and the bot's flow runs."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from flows.settings import VocSettings
from flows.slack.bot import bot_client, http_bot
from flows.slack.health import Health
from flows.slack.ledger import DeliveryLedger
from flows.slack.mentions import ReportRequest, StartReport, start_report
from flows.slack.messages import SUMMARY_KEY
from tests.servers.slack import BOT_USER_ID, VALID_TOKEN, SlackServer

SECRET = "test-signing-secret"
CHANNEL = "C0VOCWEEKLY"
ELSEWHERE = "C0ELSEWHERE"
DM = "D0ALICE"  # Alice's direct-message conversation with the bot
ALICE, ADMIN = "U0ALICE", "U0ADMIN"
_ts = itertools.count(1)
_triggers = itertools.count(1)


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


def dm_event(text: str, channel: str = DM, **fields: Any) -> dict[str, Any]:
    """The `message.im` event of a direct message `text` to the bot (a new ts each time)."""
    ts = f"1790000{next(_ts):03d}.000200"
    return {
        "type": "message",
        "channel_type": "im",
        "user": ALICE,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel": channel,
        **fields,
    }


def slash_command(
    slack: SlackServer, text: str = "", channel: str = CHANNEL, user: str = ALICE
) -> dict[str, str]:
    """The payload of `/voc-weekly <text>` (form fields over HTTP; the same dict in Socket Mode)."""
    trigger_id = f"13345224609.738474920.{next(_triggers)}"
    return {
        "token": "legacy-verification-token",
        "team_id": "T0TEST",
        "team_domain": "test",
        "channel_id": channel,
        "channel_name": "voc-weekly",
        "user_id": user,
        "user_name": "alice",
        "command": "/voc-weekly",
        "text": text,
        "api_app_id": "A0VOC",
        "response_url": slack.command_response_url(trigger_id),
        "trigger_id": trigger_id,
    }


def permalink(slack: SlackServer, channel: str, ts: str) -> str:
    """The link Slack (the loopback server) gives for a message: what the bot's answers must carry."""
    return str(
        WebClient(token=VALID_TOKEN, base_url=slack.url).chat_getPermalink(channel=channel, message_ts=ts)[
            "permalink"
        ]
    )


def form_body(payload: dict[str, str]) -> bytes:
    """A slash command as Slack POSTs it: application/x-www-form-urlencoded, not JSON."""
    return urlencode(payload).encode("utf-8")


def deliver_summary(slack: SlackServer, week: date, channel: str = CHANNEL) -> str:
    """The week's summary as the scheduled run leaves it: in the channel, and its ts in the ledger."""
    posted = WebClient(token=VALID_TOKEN, base_url=slack.url).chat_postMessage(channel=channel, text="Weekly")
    ts = str(posted["ts"])
    DeliveryLedger(channel, None, week).record(SUMMARY_KEY, ts)
    return ts


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


def runs_where(deployment_id: UUID, **parameters: Any) -> list[FlowRun]:
    """Flow runs of the deployment whose parameters include these (`None`: the parameter is absent)."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )
    return [run for run in runs if all(run.parameters.get(k) == v for k, v in parameters.items())]


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
    """A `start` for the handlers that records the reports it was asked to start."""

    def __init__(self, error: Exception | None = None) -> None:
        self.requests: list[ReportRequest] = []
        self._error = error

    def __call__(self, settings: VocSettings, request: ReportRequest) -> str:
        self.requests.append(request)
        if self._error is not None:
            raise self._error
        return f"run-{len(self.requests)}"

    @property
    def calls(self) -> list[tuple[str, str | None, date]]:
        """(channel, thread, week) of each report asked for."""
        return [(r.channel, r.thread_ts, r.week) for r in self.requests]

    @property
    def weeks(self) -> list[date]:
        return [request.week for request in self.requests]


# The bot over HTTP


FORM = "application/x-www-form-urlencoded"


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    """The headers Slack signs a request with (v0: HMAC-SHA256 of the timestamp and the body)."""
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature or ""}


@dataclass
class Bot:
    """The bot's HTTP server, the Slack server it answers on, and what its health endpoints read."""

    base: str
    slack: SlackServer
    health: Health

    @property
    def url(self) -> str:
        """Where Slack sends events and slash commands."""
        return f"{self.base}/slack/events"

    def post(
        self, body: bytes, secret: str = SECRET, content_type: str = "application/json", **headers: str
    ) -> httpx.Response:
        """POST a body to /slack/events, signed like Slack signs it."""
        headers = {"Content-Type": content_type, **signed(body, secret), **headers}
        return httpx.post(self.url, content=body, headers=headers)

    def command(self, payload: dict[str, str], secret: str = SECRET) -> httpx.Response:
        """A slash command as Slack POSTs it: form-encoded and signed."""
        return self.post(form_body(payload), secret, content_type=FORM)

    def get(self, path: str) -> httpx.Response:
        """A probe's GET (a load balancer, Kubernetes)."""
        return httpx.get(f"{self.base}{path}", timeout=15)

    def replies(self, thread_ts: str) -> list[str]:
        """The texts the bot posted in a thread, in order."""
        return [m["text"] for m in self.slack.messages if m.get("thread_ts") == thread_ts]


@contextmanager
def serving(slack: SlackServer, start: StartReport = start_report, **overrides: Any) -> Iterator[Bot]:
    """The bot's HTTP server on a free loopback port, as `voc-weekly bot --http` runs it."""
    settings = bot_settings(slack, **overrides)
    bot = http_bot(settings, bot_client(settings), "127.0.0.1", 0, start=start)
    thread = threading.Thread(target=bot.server.run, kwargs={"sockets": [bot.sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: bot.server.started)
        yield Bot(f"http://127.0.0.1:{bot.port}", slack, bot.health)
    finally:
        bot.server.should_exit = True
        thread.join(10)
        bot.sock.close()
