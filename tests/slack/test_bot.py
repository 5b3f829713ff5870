"""The bot process end to end: real Bolt dispatch over signed HTTP (uvicorn) and Socket Mode, the
loopback Slack server, `voc-weekly bot --check` and its one-line errors.

The listener's cases (weeks, refusals, failures) are tests/slack/test_mentions.py; here only what
needs the process: signatures, acknowledgement, Slack's re-deliveries, one real flow run.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from slack_sdk.signature import SignatureVerifier
from typer.testing import CliRunner

from flows import cli
from flows.errors import VocError
from flows.settings import VocSettings
from flows.slack.bot import (
    bot_client,
    build_app,
    check_bot,
    connect_socket_mode,
    http_server,
    listening_socket,
    run_bot,
)
from flows.slack.mentions import ACK_TEXT, StartReport, start_report
from flows.weeks import last_complete_week
from tests.servers.slack import BOT_USER_ID, VALID_APP_TOKEN, VALID_TOKEN, SlackServer
from tests.slack.factories import (
    CHANNEL,
    SECRET,
    RecordedStarts,
    bot_settings,
    event_callback,
    mention_body,
    mention_event,
    runs_in_thread,
    settle,
    thread_of,
    wait_for,
)


@pytest.fixture
def _restore_log_levels() -> Iterator[None]:
    """`run_bot` sets the levels of its loggers for the process; later tests must not inherit them."""
    names = ("flows.slack", "slack_sdk", "uvicorn")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


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


@contextmanager
def serving(slack: SlackServer, start: StartReport = start_report, **overrides: Any) -> Iterator[Bot]:
    """The bot's HTTP server on a free loopback port, as `voc-weekly bot --http` runs it."""
    settings = bot_settings(slack, **overrides)
    sock = listening_socket("127.0.0.1", 0)
    server = http_server(build_app(settings, bot_client(settings), start=start), sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started)
        yield Bot(f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events", slack)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# HTTP mode (Events API)


def test_mention_over_http_acks_in_its_thread_and_starts_that_weeks_ad_hoc_run(
    slack_server: SlackServer, deployment: UUID
) -> None:
    with serving(slack_server) as bot:
        body, thread = mention_body("2026-11-18")
        started = time.monotonic()
        response = bot.post(body)
        assert response.status_code == 200 and time.monotonic() - started < 3  # Slack's 3-second limit
        (run,) = wait_for(lambda: runs_in_thread(deployment, thread))
    assert run.parameters == {"channel": CHANNEL, "thread_ts": thread, "week_start": "2026-11-16"}
    assert run.idempotency_key == f"voc-weekly:{CHANNEL}:{thread}:2026-11-16"
    assert run.state is not None and run.state.is_scheduled()  # created, not run: no worker here
    assert bot.replies(thread) == [ACK_TEXT]
    assert [m["channel"] for m in slack_server.messages] == [CHANNEL]


def test_regression_slacks_redelivery_of_a_mention_gets_no_second_ack_over_http(
    slack_server: SlackServer,
) -> None:
    release = threading.Event()
    started: list[date] = []

    def slow_start(settings: VocSettings, channel: str, thread_ts: str, week: date) -> None:
        release.wait(10)  # a slow Prefect API
        started.append(week)

    with serving(slack_server, start=slow_start) as bot:
        body, thread = mention_body("2026-11-16")
        assert bot.post(body).status_code == 200 and not started  # acknowledged before it is handled
        wait_for(lambda: bot.replies(thread) == [ACK_TEXT])  # the ack comes before the report starts
        release.set()
        wait_for(lambda: started)
        for attempt in ("1", "2"):
            retry = {"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"}
            assert bot.post(body, **retry).status_code == 200
        settle()
    assert bot.replies(thread) == [ACK_TEXT] and started == [date(2026, 11, 16)]


def test_request_with_a_bad_signature_is_rejected_and_nothing_happens(slack_server: SlackServer) -> None:
    starts = RecordedStarts()
    with serving(slack_server, start=starts) as bot:
        body, _ = mention_body("2026-11-16")
        assert bot.post(body, secret="not-the-signing-secret").status_code == 401
        unsigned = httpx.post(bot.url, content=body, headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 401
        settle()
    assert slack_server.messages == [] and starts.calls == []


def test_no_token_or_secret_reaches_the_logs_even_at_debug_level(
    slack_server: SlackServer, prefect_server: None, caplog: pytest.LogCaptureFixture
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


def test_http_mode_on_a_port_in_use_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    slack_server: SlackServer,
    capsys: pytest.CaptureFixture[str],
    _restore_log_levels: None,
) -> None:
    check_env(monkeypatch, tmp_path, slack_server, SLACK_SIGNING_SECRET=SECRET, COLUMNS="300")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        argv = ["voc-weekly", "bot", "--http", "--host", "127.0.0.1", "--port", str(port)]
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as exited:
            cli.main()
    assert exited.value.code == 2  # was uvicorn's exit code 3, after a logged traceback-less error
    assert capsys.readouterr().err == (
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use): "
        "choose another --port or --host\n"
    )


# Socket Mode


def test_socket_mode_mention_is_acked_once_even_when_slack_redelivers_it_and_the_bot_says_it_is_up(
    slack_server: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    socket_mode = slack_server.socket_mode()
    settings = bot_settings(slack_server, SLACK_APP_TOKEN=VALID_APP_TOKEN, SLACK_SIGNING_SECRET=None)
    starts = RecordedStarts()
    with caplog.at_level(logging.INFO, logger="flows.slack.bot"):
        app = build_app(settings, bot_client(settings), start=starts)
        handler = connect_socket_mode(app, VALID_APP_TOKEN, "voc-weekly", settings)
        try:
            event = mention_event("2주 전")
            # Slack delivers the mention twice (the same event_id), and the bot's own mention once:
            # Bolt gives the listener the bot's user ID from auth.test.
            itself = mention_event("2026-11-16", user=BOT_USER_ID)
            payloads = [event_callback(event), event_callback(event), event_callback(itself)]
            envelopes = [socket_mode.push(payload) for payload in payloads]
            wait_for(lambda: all({"envelope_id": envelope} in socket_mode.acks for envelope in envelopes))
            wait_for(lambda: starts.calls)
            settle()
        finally:
            handler.close()
    assert [m["text"] for m in slack_server.messages] == [ACK_TEXT]
    assert slack_server.messages[0]["thread_ts"] == thread_of(event)
    assert starts.weeks == [last_complete_week() - timedelta(weeks=1)]
    assert (
        "VOC Weekly bot connected as @voc-weekly (Socket Mode); reports go to deployment "
        "voc-weekly-report/ad-hoc"
    ) in caplog.messages
    assert all(VALID_APP_TOKEN not in line and VALID_TOKEN not in line for line in caplog.messages)


def test_socket_mode_with_a_rejected_app_token_fails_with_one_line(
    slack_server: SlackServer, _restore_log_levels: None
) -> None:
    settings = bot_settings(slack_server, SLACK_APP_TOKEN="xapp-1-revoked")
    with pytest.raises(VocError, match=r"^Slack refused SLACK_APP_TOKEN \(invalid_auth\)"):
        run_bot(settings)
    assert slack_server.requests[-1] == "apps.connections.open"


# voc-weekly bot --check


def check_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, slack: SlackServer, **env: str) -> None:
    """The environment `voc-weekly bot` reads, in a folder without a .env file."""
    monkeypatch.chdir(tmp_path)
    values = {
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        "SLACK_APP_TOKEN": VALID_APP_TOKEN,
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
    slack_server: SlackServer, prefect_server: None
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
    settings = bot_settings(slack_server, **overrides)
    with pytest.raises(VocError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_bot(settings, http=http)


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
