"""The Slack @mention bot: real Bolt dispatch over HTTP, the loopback Slack server, a real Prefect API.

Events are POSTed, signed with the signing secret, to the bot's own HTTP server (uvicorn with Bolt's
ASGI adapter); its replies land on tests/servers/slack.py and its flow runs on the session's Prefect
test server, where no worker runs them: a test sees them Scheduled, with the parameters the mention
asked for.
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.deployments.runner import RunnerDeployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from slack_sdk.signature import SignatureVerifier
from typer.testing import CliRunner

from flows import cli
from flows.errors import VocError
from flows.flow import voc_weekly_report
from flows.settings import VocSettings
from flows.slack.bot import (
    ACK_TEXT,
    USAGE_TEXT,
    StartReport,
    WeekTextError,
    build_app,
    check_bot,
    connect_socket_mode,
    http_server,
    parse_week,
    run_bot,
    start_report,
)
from flows.weeks import last_complete_week, week_range_text
from tests.servers.slack import BOT_USER_ID, VALID_APP_TOKEN, VALID_TOKEN, SlackServer

SECRET = "test-signing-secret"
CHANNEL = "C0VOCWEEKLY"
ELSEWHERE = "C0ELSEWHERE"
DEPLOYMENT = "voc-weekly-report/ad-hoc"
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 14:00 KST: the last complete week is 11-16
_ts = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_ambient_bot_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own allowlist or deployment name must not change what these tests see."""
    monkeypatch.delenv("VOC_BOT_ALLOWED_CHANNELS", raising=False)
    monkeypatch.delenv("VOC_BOT_DEPLOYMENT", raising=False)


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


def bot_settings(slack: SlackServer, **overrides: Any) -> VocSettings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        "VOC_SLACK_API_URL": slack.url,
        "VOC_SLACK_CHANNEL": CHANNEL,
        "SLACK_SIGNING_SECRET": SECRET,
        **overrides,
    }
    return VocSettings(_env_file=None, **values)


@dataclass
class Bot:
    """The bot's HTTP endpoint and the Slack server it answers on."""

    url: str
    slack: SlackServer

    def post(self, body: bytes, secret: str = SECRET, **headers: str) -> httpx.Response:
        """POST a body to /slack/events, signed like Slack signs it."""
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
        signed = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature or ""}
        return httpx.post(
            self.url, content=body, headers={"Content-Type": "application/json", **signed, **headers}
        )

    def replies(self, thread_ts: str) -> list[str]:
        """The texts the bot posted in a thread, in order."""
        return [m["text"] for m in self.slack.messages if m.get("thread_ts") == thread_ts]


def mention_body(text: str, channel: str = CHANNEL, **event: Any) -> tuple[bytes, str]:
    """An event_callback for `@voc-weekly <text>` and the thread it belongs in."""
    ts = f"1790000{next(_ts):03d}.000100"
    fields = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": f"<@{BOT_USER_ID}> {text}".strip(),
        "ts": ts,
        "event_ts": ts,
        "channel": channel,
        **event,
    }
    body = {
        "token": "legacy-verification-token",
        "team_id": "T0TEST",
        "api_app_id": "A0VOC",
        "type": "event_callback",
        "event_id": f"Ev{ts.replace('.', '')}",
        "event_time": int(time.time()),
        "event": fields,
    }
    return json.dumps(body).encode("utf-8"), str(fields.get("thread_ts") or ts)


@contextmanager
def serving(slack: SlackServer, start: StartReport = start_report, **overrides: Any) -> Iterator[Bot]:
    """The bot's HTTP server on a free loopback port, as `voc-weekly bot --http` runs it."""
    app = build_app(bot_settings(slack, **overrides), start_report=start)
    server, sock = http_server(app, "127.0.0.1", 0)
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started)
        yield Bot(f"http://127.0.0.1:{port}/slack/events", slack)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def bot(slack_server: SlackServer, deployment: UUID) -> Iterator[Bot]:
    with serving(slack_server) as running:
        yield running


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


# Mentions that start a report


def test_mention_naming_a_week_acks_in_its_thread_and_starts_that_weeks_ad_hoc_run(
    bot: Bot, deployment: UUID
) -> None:
    body, thread = mention_body("2026-11-18")
    started = time.monotonic()
    response = bot.post(body)
    assert response.status_code == 200 and time.monotonic() - started < 3  # Slack's 3-second limit

    (run,) = wait_for(lambda: runs_in_thread(deployment, thread))
    assert run.parameters == {"channel": CHANNEL, "thread_ts": thread, "week_start": "2026-11-16"}
    assert run.idempotency_key == f"voc-weekly:{CHANNEL}:{thread}:2026-11-16"
    assert run.state is not None and run.state.is_scheduled()  # created, not run: no worker here
    assert bot.replies(thread) == [ACK_TEXT]
    assert [m["channel"] for m in bot.slack.messages] == [CHANNEL]


def test_bare_mention_inside_a_thread_reports_the_latest_week_in_that_thread(
    bot: Bot, deployment: UUID
) -> None:
    parent = "1789999999.000001"
    body, thread = mention_body("", thread_ts=parent)
    assert thread == parent

    assert bot.post(body).status_code == 200
    (run,) = wait_for(lambda: runs_in_thread(deployment, parent))
    latest = last_complete_week()
    assert run.parameters == {"channel": CHANNEL, "thread_ts": parent, "week_start": latest.isoformat()}
    assert run.idempotency_key == f"voc-weekly:{CHANNEL}:{parent}:{latest.isoformat()}"
    assert bot.replies(parent) == [ACK_TEXT]


def test_repeated_mention_and_slack_retry_for_the_same_week_start_one_run(bot: Bot, deployment: UUID) -> None:
    body, thread = mention_body("지난주")
    assert bot.post(body).status_code == 200
    wait_for(lambda: runs_in_thread(deployment, thread))
    # Slack redelivers the same event (acknowledged, ignored), then someone asks again in the thread.
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert bot.post(body, **retry).status_code == 200
    again, _ = mention_body("지난 주", thread_ts=thread)
    assert bot.post(again).status_code == 200
    wait_for(lambda: len(bot.replies(thread)) == 2)
    settle()
    assert bot.replies(thread) == [ACK_TEXT, ACK_TEXT]  # the first mention's and the second's

    (run,) = runs_in_thread(deployment, thread)
    assert run.parameters["week_start"] == last_complete_week().isoformat()

    # Another week in the same thread is another report.
    other, _ = mention_body("2주 전", thread_ts=thread)
    assert bot.post(other).status_code == 200
    runs = wait_for(lambda: len(found := runs_in_thread(deployment, thread)) == 2 and found)
    assert len({run.parameters["week_start"] for run in runs}) == 2


def test_ack_is_sent_before_the_report_is_started(slack_server: SlackServer) -> None:
    release = threading.Event()
    started: list[date | None] = []

    def slow_start(settings: VocSettings, channel: str, thread_ts: str, week: date) -> None:
        release.wait(10)  # a slow Prefect API
        started.append(week)

    with serving(slack_server, start=slow_start) as bot:
        body, thread = mention_body("2026-11-16")
        began = time.monotonic()
        assert bot.post(body).status_code == 200
        assert time.monotonic() - began < 3 and not started
        wait_for(lambda: bot.replies(thread) == [ACK_TEXT])
        release.set()
        wait_for(lambda: started == [date(2026, 11, 16)])


# Mentions that start nothing


def test_request_with_a_bad_signature_is_rejected_and_nothing_happens(bot: Bot, deployment: UUID) -> None:
    body, thread = mention_body("2026-11-16")
    assert bot.post(body, secret="not-the-signing-secret").status_code == 401
    unsigned = httpx.post(bot.url, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    settle()
    assert bot.slack.messages == [] and runs_in_thread(deployment, thread) == []


def test_mention_in_a_channel_not_allowed_is_refused_in_its_thread(bot: Bot, deployment: UUID) -> None:
    body, thread = mention_body("2026-11-16", channel=ELSEWHERE)
    assert bot.post(body).status_code == 200
    (reply,) = wait_for(lambda: bot.replies(thread))
    refusal = ":no_entry_sign: 이 채널에는 VOC 데이터를 올릴 수 없습니다."
    assert reply == f"{refusal} 리포트는 <#C0VOCWEEKLY> 에서 요청해 주세요."
    assert bot.slack.messages[0]["channel"] == ELSEWHERE
    settle()
    assert runs_in_thread(deployment, thread) == []


def test_allowlist_replaces_the_report_channel(slack_server: SlackServer, deployment: UUID) -> None:
    with serving(slack_server, VOC_BOT_ALLOWED_CHANNELS=f" {ELSEWHERE} , C0THIRD") as bot:
        refused, refused_thread = mention_body("", channel=CHANNEL)
        allowed, allowed_thread = mention_body("", channel=ELSEWHERE)
        assert bot.post(refused).status_code == bot.post(allowed).status_code == 200
        wait_for(lambda: runs_in_thread(deployment, allowed_thread))
        (refusal,) = wait_for(lambda: bot.replies(refused_thread))
    assert "<#C0ELSEWHERE>, <#C0THIRD>" in refusal
    assert runs_in_thread(deployment, refused_thread) == []


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"bot_id": "B0OTHER"}, id="another-bot"),
        pytest.param({"subtype": "bot_message", "bot_id": "B0OTHER"}, id="bot-message"),
        pytest.param({"user": BOT_USER_ID, "bot_id": "B0VOC"}, id="itself"),
        pytest.param({"user": BOT_USER_ID}, id="itself-by-user-id"),
        pytest.param({"edited": {"user": "U0ALICE", "ts": "1790000000.000200"}}, id="edited"),
        pytest.param({"subtype": "message_changed"}, id="message-changed"),
    ],
)
def test_bot_messages_and_edits_trigger_nothing(bot: Bot, deployment: UUID, event: dict[str, Any]) -> None:
    body, thread = mention_body("2026-11-16", **event)
    assert bot.post(body).status_code == 200
    settle()
    assert bot.slack.messages == [] and runs_in_thread(deployment, thread) == []


def test_unparseable_text_gets_the_usage_hint_and_starts_nothing(bot: Bot, deployment: UUID) -> None:
    body, thread = mention_body("리포트 좀 보여줘")
    assert bot.post(body).status_code == 200
    assert wait_for(lambda: bot.replies(thread)) == [USAGE_TEXT]
    settle()
    assert runs_in_thread(deployment, thread) == []


def test_week_that_has_not_ended_is_refused_in_its_thread(bot: Bot, deployment: UUID) -> None:
    body, thread = mention_body("이번주")
    assert bot.post(body).status_code == 200
    (reply,) = wait_for(lambda: bot.replies(thread))
    latest = last_complete_week()
    assert reply.startswith(":calendar: ") and "아직 끝나지 않았습니다" in reply
    assert week_range_text(latest) in reply
    settle()
    assert runs_in_thread(deployment, thread) == []


def test_missing_deployment_is_said_in_the_thread_in_one_line(
    slack_server: SlackServer, deployment: UUID
) -> None:
    with serving(slack_server, VOC_BOT_DEPLOYMENT="voc-weekly-report/no-such") as bot:
        body, thread = mention_body("2026-11-16")
        assert bot.post(body).status_code == 200
        replies = wait_for(lambda: len(bot.replies(thread)) == 2 and bot.replies(thread))
    assert replies == [
        ACK_TEXT,
        ":x: 리포트를 시작하지 못했습니다: 배포 voc-weekly-report/no-such 를 찾을 수 없습니다.",
    ]


def test_unreachable_prefect_api_is_said_in_the_thread_without_details(
    slack_server: SlackServer, deployment: UUID
) -> None:
    def start_with_prefect_down(
        settings: VocSettings, channel: str, thread_ts: str, week: date | None
    ) -> None:
        with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens on port 9
            start_report(settings, channel, thread_ts, week)

    with serving(slack_server, start=start_with_prefect_down) as bot:
        body, thread = mention_body("2026-11-16")
        assert bot.post(body).status_code == 200
        replies = wait_for(lambda: len(bot.replies(thread)) == 2 and bot.replies(thread))
    assert replies[1] == ":x: 리포트를 시작하지 못했습니다: Prefect API에 연결할 수 없습니다."
    assert all(VALID_TOKEN not in m["text"] and SECRET not in m["text"] for m in slack_server.messages)


def test_no_token_or_secret_reaches_the_logs_even_at_debug_level(
    slack_server: SlackServer, deployment: UUID, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with serving(slack_server, VOC_BOT_DEPLOYMENT="voc-weekly-report/no-such") as bot:
        body, thread = mention_body("2026-11-16")
        assert bot.post(body, secret="forged").status_code == 401
        assert bot.post(body).status_code == 200
        wait_for(lambda: len(bot.replies(thread)) == 2)
    assert "Could not start voc-weekly-report/no-such" in caplog.text  # the failure is logged…
    assert "Sending a request" in caplog.text  # slack_sdk's request log, headers and all
    assert VALID_TOKEN not in caplog.text and SECRET not in caplog.text  # …without the secrets


# The week a mention names


@pytest.mark.parametrize(
    ("text", "now", "week"),
    [
        ("", NOW, None),
        ("<@U0VOCBOT>", NOW, None),
        ("<@U0VOCBOT|voc-weekly>   ", NOW, None),
        ("<@U0VOCBOT> 2026-11-16", NOW, date(2026, 11, 16)),
        ("<@U0VOCBOT> 2026-11-22", NOW, date(2026, 11, 16)),  # any day names its Monday–Sunday week
        ("<@U0VOCBOT> 2026-1-5", NOW, date(2026, 1, 5)),
        ("<@U0VOCBOT> 2999-01-01", NOW, date(2998, 12, 31)),  # parsed; the handler says it has not ended
        ("<@U0VOCBOT> 11/16", NOW, date(2026, 11, 16)),
        ("<@U0VOCBOT> 11/25", NOW, date(2026, 11, 23)),  # today (KST) is this year's
        ("<@U0VOCBOT> 11/26", NOW, date(2025, 11, 24)),  # tomorrow has not come: last year's
        ("<@U0VOCBOT> 12/25", NOW, date(2025, 12, 22)),
        ("<@U0VOCBOT> 2/29", datetime(2029, 3, 1, tzinfo=UTC), date(2028, 2, 28)),  # only last year has it
        ("<@U0VOCBOT> 지난주", NOW, date(2026, 11, 16)),
        ("<@U0VOCBOT> 지난 주?", NOW, date(2026, 11, 16)),
        ("<@U0VOCBOT> 저번주", NOW, date(2026, 11, 16)),
        ("<@U0VOCBOT> 1주 전", NOW, date(2026, 11, 16)),  # = 지난주
        ("<@U0VOCBOT> 2주 전", NOW, date(2026, 11, 9)),  # the week before the last complete one
        ("<@U0VOCBOT> 2주전", NOW, date(2026, 11, 9)),
        ("<@U0VOCBOT>  4 주 전 ", NOW, date(2026, 10, 26)),
        ("<@U0VOCBOT> 이번주", NOW, date(2026, 11, 23)),  # the current week (refused by the handler)
        ("<@U0VOCBOT> 0주 전", NOW, date(2026, 11, 23)),
        # Sunday 23:59 KST the current week has not ended; a minute later it is 지난주.
        ("지난주", datetime(2026, 11, 29, 14, 59, tzinfo=UTC), date(2026, 11, 16)),
        ("지난주", datetime(2026, 11, 29, 15, 0, tzinfo=UTC), date(2026, 11, 23)),
        ("11/29", datetime(2026, 11, 29, 15, 0, tzinfo=UTC), date(2026, 11, 23)),  # 11-30 KST: 11-29 is past
    ],
)
def test_parse_week(text: str, now: datetime, week: date | None) -> None:
    assert parse_week(text, now) == week


@pytest.mark.parametrize(
    "text",
    [
        "리포트 좀 보여줘",
        "지난주 리포트",
        "2026-11-16 2026-11-23",
        "2026-02-30",
        "13/1",
        "2/29",  # neither 2026 nor 2025 has one
        "2026/11/16",
        "지난달",
        "1000주 전",
        "<@U0VOCBOT> -1주 전",
    ],
)
def test_parse_week_refuses_text_that_names_no_week(text: str) -> None:
    with pytest.raises(WeekTextError):
        parse_week(text, NOW)
    assert issubclass(WeekTextError, ValueError)


# voc-weekly bot --check


def check_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, slack: SlackServer, **env: str) -> None:
    """The environment `voc-weekly bot --check` reads, in a folder without a .env file."""
    monkeypatch.chdir(tmp_path)
    values = {
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-A0VOC-test",
        "VOC_SLACK_API_URL": slack.url,
        "VOC_SLACK_CHANNEL": CHANNEL,
        **env,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_check_passes_with_a_valid_token_and_an_existing_deployment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, slack_server: SlackServer, deployment: UUID
) -> None:
    check_env(monkeypatch, tmp_path, slack_server)
    result = CliRunner().invoke(cli.app, ["bot", "--check"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "OK: Slack bot @voc-weekly (Socket Mode), deployment voc-weekly-report/ad-hoc found, "
        "mentions allowed in C0VOCWEEKLY\n"
    )
    assert slack_server.requests == ["auth.test"]

    check_env(monkeypatch, tmp_path, slack_server, SLACK_SIGNING_SECRET=SECRET)
    result = CliRunner().invoke(cli.app, ["bot", "--check", "--http"])
    assert result.exit_code == 0 and "(HTTP mode)" in result.output


def test_check_with_an_invalid_token_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    slack_server: SlackServer,
    deployment: UUID,
    capsys: pytest.CaptureFixture[str],
) -> None:
    check_env(monkeypatch, tmp_path, slack_server, SLACK_BOT_TOKEN="xoxb-revoked", COLUMNS="300")
    monkeypatch.setattr(sys, "argv", ["voc-weekly", "bot", "--check"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "error: Slack rejected the bot token: set SLACK_BOT_TOKEN (or the SlackCredentials block) to a "
        "valid xoxb- token\n"
    )


def test_check_with_a_missing_deployment_fails_with_one_line(
    slack_server: SlackServer, deployment: UUID
) -> None:
    settings = bot_settings(
        slack_server, SLACK_APP_TOKEN="xapp-1-test", VOC_BOT_DEPLOYMENT="voc-weekly-report/no-such"
    )
    with pytest.raises(VocError) as error:
        check_bot(settings)
    assert str(error.value) == (
        "deployment voc-weekly-report/no-such not found on the Prefect API: deploy it (prefect deploy) "
        "or set VOC_BOT_DEPLOYMENT"
    )


def test_check_with_the_prefect_api_down_fails_with_one_line(slack_server: SlackServer) -> None:
    settings = bot_settings(slack_server, SLACK_APP_TOKEN="xapp-1-test")
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        with pytest.raises(VocError) as error:
            check_bot(settings)
    assert str(error.value).startswith(
        "cannot read deployments from the Prefect API at http://127.0.0.1:9/api"
    )
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("overrides", "http", "message"),
    [
        ({}, False, "SLACK_APP_TOKEN is not set: create one with the connections:write scope"),
        ({"SLACK_APP_TOKEN": VALID_TOKEN}, False, "SLACK_APP_TOKEN is not an app-level token (xapp-…)"),
        ({"SLACK_SIGNING_SECRET": None}, True, "HTTP mode needs SLACK_SIGNING_SECRET"),
        ({"VOC_SLACK_CHANNEL": None}, True, "no channel may trigger a report"),
        ({"VOC_SLACK_CHANNEL": "#voc-weekly"}, True, "allowed bot channel '#voc-weekly' is not a channel ID"),
        ({"SLACK_BOT_TOKEN": None}, True, "no Slack bot token: set SLACK_BOT_TOKEN"),
    ],
)
def test_check_names_the_missing_or_wrong_setting(
    slack_server: SlackServer, overrides: dict[str, Any], http: bool, message: str
) -> None:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        "VOC_SLACK_CHANNEL": CHANNEL,
        "SLACK_SIGNING_SECRET": SECRET,
        **overrides,
    }
    settings = VocSettings(
        _env_file=None,
        VOC_SLACK_API_URL=slack_server.url,
        **{k: v for k, v in values.items() if v is not None},
    )
    with pytest.raises(VocError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_bot(settings, http=http)


def test_socket_mode_mention_is_acked_and_starts_the_run_and_the_bot_says_it_is_up(
    slack_server: SlackServer, deployment: UUID, caplog: pytest.LogCaptureFixture
) -> None:
    socket = slack_server.socket_mode()
    settings = bot_settings(slack_server, SLACK_APP_TOKEN=VALID_APP_TOKEN, SLACK_SIGNING_SECRET=None)
    with caplog.at_level(logging.INFO, logger="flows.slack.bot"):
        handler = connect_socket_mode(build_app(settings), settings, "voc-weekly")
        try:
            body, thread = mention_body("2주 전")
            envelope_id = socket.push(json.loads(body))
            wait_for(lambda: {"envelope_id": envelope_id} in socket.acks)
            (run,) = wait_for(lambda: runs_in_thread(deployment, thread))
            assert wait_for(lambda: slack_server.messages)[0]["text"] == ACK_TEXT
        finally:
            handler.close()
    assert run.parameters["week_start"] == (last_complete_week() - timedelta(weeks=1)).isoformat()
    assert (
        "VOC Weekly bot connected as @voc-weekly (Socket Mode); reports go to deployment "
        "voc-weekly-report/ad-hoc"
    ) in caplog.messages
    assert all(VALID_APP_TOKEN not in line and VALID_TOKEN not in line for line in caplog.messages)


def test_socket_mode_with_a_rejected_app_token_fails_with_one_line(slack_server: SlackServer) -> None:
    settings = bot_settings(slack_server, SLACK_APP_TOKEN="xapp-1-revoked")
    with pytest.raises(VocError, match=r"^Slack refused SLACK_APP_TOKEN \(invalid_auth\)"):
        run_bot(settings)
    assert slack_server.requests[-1] == "apps.connections.open"


def test_regression_slacks_redelivery_of_a_mention_gets_no_second_ack_over_http(
    slack_server: SlackServer,
) -> None:
    started: list[date] = []
    with serving(slack_server, start=lambda settings, channel, thread, week: started.append(week)) as bot:
        body, thread = mention_body("2026-11-16")
        assert bot.post(body).status_code == 200
        wait_for(lambda: started)
        for attempt in ("1", "2"):
            retry = {"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"}
            assert bot.post(body, **retry).status_code == 200
        settle()
    assert bot.replies(thread) == [ACK_TEXT] and started == [date(2026, 11, 16)]


def test_regression_slacks_redelivery_of_a_mention_gets_no_second_ack_in_socket_mode(
    slack_server: SlackServer,
) -> None:
    socket = slack_server.socket_mode()
    settings = bot_settings(slack_server, SLACK_APP_TOKEN=VALID_APP_TOKEN, SLACK_SIGNING_SECRET=None)
    started: list[date] = []
    app = build_app(settings, start_report=lambda settings, channel, thread, week: started.append(week))
    handler = connect_socket_mode(app, settings, "voc-weekly")
    try:
        body, thread = mention_body("2026-11-16")
        envelopes = [socket.push(json.loads(body)) for _ in range(2)]  # the same event_id twice
        wait_for(lambda: all({"envelope_id": envelope} in socket.acks for envelope in envelopes))
        wait_for(lambda: started)
        settle()
    finally:
        handler.close()
    assert [m["text"] for m in slack_server.messages if m.get("thread_ts") == thread] == [ACK_TEXT]
    assert started == [date(2026, 11, 16)]


def test_check_with_an_unreachable_slack_api_names_the_url_setting_in_one_line() -> None:
    settings = VocSettings(
        _env_file=None,
        SLACK_BOT_TOKEN=VALID_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        VOC_SLACK_CHANNEL=CHANNEL,
        VOC_SLACK_API_URL="http://127.0.0.1:9/api/",  # nothing listens on the discard port
    )
    unreachable = r"^cannot reach the Slack API at http://127\.0\.0\.1:9/api/ "
    with pytest.raises(VocError, match=unreachable) as error:
        check_bot(settings, http=True)
    assert str(error.value).endswith("check VOC_SLACK_API_URL") and "\n" not in str(error.value)
