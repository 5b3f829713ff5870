"""The bot end to end: real Bolt dispatch over signed HTTP (uvicorn) and Socket Mode, the loopback
Slack server, `voc-weekly bot --check` and its one-line errors.

The listeners' cases (weeks, refusals, failures) are tests/slack/test_mentions.py and
test_commands.py; here only what needs the transport: signatures, form-encoded slash commands,
acknowledgement, Slack's re-deliveries, a real flow run. Health and SIGTERM: test_service.py.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_LOCAL_STORAGE_PATH, temporary_settings
from typer.testing import CliRunner

from flows import cli
from flows.errors import SettingsError, VocError
from flows.settings import VocSettings
from flows.slack.bot import (
    bot_client,
    build_app,
    check_bot,
    connect_socket_mode,
    run_bot,
)
from flows.slack.commands import HELP_TEXT
from flows.slack.mentions import ACK_TEXT, ReportRequest, StartReport, start_report
from flows.weeks import last_complete_week
from tests.servers.slack import BOT_USER_ID, VALID_APP_TOKEN, VALID_TOKEN, SlackServer
from tests.slack.factories import (
    ADMIN,
    CHANNEL,
    DM,
    ELSEWHERE,
    FORM,
    SECRET,
    RecordedStarts,
    bot_settings,
    deliver_summary,
    dm_event,
    event_callback,
    form_body,
    mention_body,
    mention_event,
    permalink,
    runs_in_thread,
    runs_where,
    serving,
    settle,
    signed,
    slash_command,
    thread_of,
    wait_for,
)

CHECKING = ":hourglass_flowing_sand: 확인 중… 2026-11-16 ~ 2026-11-22 주 VOC 리포트"
WEEK = date(2026, 11, 16)


@pytest.fixture(autouse=True)
def ledger(prefect_server: None, tmp_path: Path) -> Iterator[Path]:
    """An empty delivery ledger for each test: the bot built inside sees it (Prefect's settings)."""
    folder = tmp_path / "prefect-storage"
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: folder}):
        yield folder


@pytest.fixture
def _restore_log_levels() -> Iterator[None]:
    """`run_bot` sets the levels of its loggers for the process; later tests must not inherit them."""
    names = ("flows.slack", "slack_sdk", "uvicorn")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


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
    (ack,) = slack_server.messages
    assert run.parameters == {
        "channel": CHANNEL,
        "thread_ts": thread,
        "week_start": "2026-11-16",
        "status_ts": ack["ts"],  # the flow edits the hourglass answer when it ends
    }
    assert run.idempotency_key == f"voc-weekly:mention:{CHANNEL}:{thread}"  # the mention's own ts
    assert run.state is not None and run.state.is_scheduled()  # created, not run: no worker here
    assert bot.replies(thread) == [ACK_TEXT]
    assert [m["channel"] for m in slack_server.messages] == [CHANNEL]


def test_regression_slacks_redelivery_of_a_mention_gets_no_second_ack_over_http(
    slack_server: SlackServer,
) -> None:
    release = threading.Event()
    started: list[date] = []

    def slow_start(settings: VocSettings, request: ReportRequest) -> None:
        release.wait(10)  # a slow Prefect API
        started.append(request.week)

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


def test_slash_command_over_http_is_acked_ephemerally_before_its_run_starts(
    slack_server: SlackServer, deployment: UUID
) -> None:
    release = threading.Event()

    def held_start(settings: VocSettings, request: ReportRequest) -> object:
        release.wait(10)  # the run is created only after the test has seen the ack
        return start_report(settings, request)

    with serving(slack_server, start=held_start) as bot:
        payload = slash_command(slack_server, "2026-11-18")
        response = bot.command(payload)
        runs_when_acked = runs_where(deployment, channel=CHANNEL, thread_ts=None)
        release.set()
        (run,) = wait_for(lambda: runs_where(deployment, channel=CHANNEL, thread_ts=None))
        wait_for(lambda: slack_server.command_responses)
    assert response.status_code == 200
    assert response.json() == {"text": CHECKING, "response_type": "ephemeral"}  # only the asker sees it
    assert runs_when_acked == []  # Slack had its answer before anything slow began
    assert run.parameters == {"channel": CHANNEL, "week_start": "2026-11-16"}  # a new summary
    assert run.idempotency_key == f"voc-weekly:command:{CHANNEL}:{payload['trigger_id']}"
    assert [body["response_type"] for body in slack_server.command_responses] == ["ephemeral"]
    assert slack_server.messages == []  # nothing public from the bot itself


def test_slash_command_with_a_forged_signature_gets_401_and_nothing_happens(
    slack_server: SlackServer,
) -> None:
    starts = RecordedStarts()
    with serving(slack_server, start=starts) as bot:
        payload = slash_command(slack_server, "2026-11-16")
        assert bot.command(payload, secret="not-the-signing-secret").status_code == 401
        tampered = form_body({**payload, "text": "2026-11-09"})
        headers = {"Content-Type": FORM, **signed(form_body(payload))}  # signed for another body
        assert httpx.post(bot.url, content=tampered, headers=headers).status_code == 401
        settle()
    assert starts.requests == [] and slack_server.command_responses == [] and slack_server.messages == []


def test_slash_command_outside_the_allowlist_starts_nothing_over_http(slack_server: SlackServer) -> None:
    starts = RecordedStarts()
    with serving(slack_server, start=starts) as bot:
        response = bot.command(slash_command(slack_server, "2026-11-16", channel=ELSEWHERE))
        help_there = bot.command(slash_command(slack_server, "help", channel=ELSEWHERE))
        settle()
    assert response.status_code == 200 and response.json()["response_type"] == "ephemeral"
    assert response.json()["text"].startswith(":no_entry_sign: 이 채널에는 VOC 데이터를 올릴 수 없습니다.")
    assert help_there.json() == {"text": HELP_TEXT, "response_type": "ephemeral"}
    assert starts.requests == [] and slack_server.messages == [] and slack_server.command_responses == []


def test_slash_command_for_a_delivered_week_answers_with_its_permalink_over_http(
    slack_server: SlackServer,
) -> None:
    starts = RecordedStarts()
    summary = deliver_summary(slack_server, WEEK)
    with serving(slack_server, start=starts) as bot:
        response = bot.command(slash_command(slack_server, "2026-11-18"))
        (answer,) = wait_for(lambda: slack_server.command_responses)
        settle()
    assert response.json() == {"text": CHECKING, "response_type": "ephemeral"}
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].endswith(f"<{permalink(slack_server, CHANNEL, summary)}|리포트 보기>")
    assert starts.requests == [] and len(slack_server.messages) == 1  # the summary alone


def test_forced_slash_command_by_an_admin_starts_a_forced_run_over_http(slack_server: SlackServer) -> None:
    starts = RecordedStarts()
    deliver_summary(slack_server, WEEK)
    with serving(slack_server, start=starts, VOC_BOT_ADMINS=ADMIN) as bot:
        bot.command(slash_command(slack_server, "2026-11-16 force", user=ADMIN))
        (request,) = wait_for(lambda: starts.requests)
    assert request.force and request.thread_ts is None and request.week == WEEK


def test_dm_over_http_reports_in_the_dm_when_allowed_and_says_why_not_otherwise(
    slack_server: SlackServer,
) -> None:
    slack_server.channels.add(DM)
    starts = RecordedStarts()
    with serving(slack_server, start=starts, VOC_BOT_ALLOW_DMS="true") as bot:
        event = dm_event("2026-11-16")
        assert bot.post(json.dumps(event_callback(event)).encode()).status_code == 200
        (request,) = wait_for(lambda: starts.requests)
    with serving(slack_server, start=starts) as bot:  # VOC_BOT_ALLOW_DMS unset: off
        assert bot.post(json.dumps(event_callback(dm_event("2026-11-16"))).encode()).status_code == 200
        wait_for(lambda: len(slack_server.messages) == 2)
        settle()
    assert (request.channel, request.thread_ts, request.week) == (DM, None, WEEK)
    assert request.status_ts == slack_server.messages[0]["ts"]
    assert [m["text"] for m in slack_server.messages] == [
        ACK_TEXT,
        ":no_entry_sign: DM으로는 리포트를 받을 수 없습니다 (VOC 데이터에는 고객 문의 내용이 있습니다). "
        "봇 관리자에게 문의해 주세요.",
    ]
    assert len(starts.requests) == 1


def test_the_bots_own_dm_and_an_edit_start_nothing_over_http(slack_server: SlackServer) -> None:
    slack_server.channels.add(DM)
    starts = RecordedStarts()
    edit = {
        "subtype": "message_changed",
        "message": {"type": "message", "user": "U0ALICE", "text": "2026-11-09", "ts": "1790000000.000100"},
    }
    with serving(slack_server, start=starts, VOC_BOT_ALLOW_DMS="true") as bot:
        for event in (dm_event("2026-11-16", user=BOT_USER_ID, bot_id="B0VOC"), dm_event("", **edit)):
            assert bot.post(json.dumps(event_callback(event)).encode()).status_code == 200
        settle()
    assert starts.requests == [] and slack_server.messages == []


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


@contextmanager
def socket_mode_bot(slack: SlackServer, start: StartReport, **overrides: Any) -> Iterator[Any]:
    """The bot connected over Socket Mode to the loopback server; yields the server's Socket Mode end."""
    socket_mode = slack.socket_mode()
    settings = bot_settings(slack, SLACK_APP_TOKEN=VALID_APP_TOKEN, SLACK_SIGNING_SECRET=None, **overrides)
    handler = connect_socket_mode(
        build_app(settings, bot_client(settings), start=start), VALID_APP_TOKEN, "voc-weekly", settings
    )
    try:
        yield socket_mode
    finally:
        handler.close()


def ack_of(socket_mode: Any, envelope_id: str) -> dict[str, Any]:
    """The client's ack of one envelope, once it arrived."""
    return dict(
        wait_for(lambda: next((a for a in socket_mode.acks if a["envelope_id"] == envelope_id), None))
    )


def test_socket_mode_slash_command_is_acked_with_its_ephemeral_answer_and_starts_one_run(
    slack_server: SlackServer,
) -> None:
    starts = RecordedStarts()
    with socket_mode_bot(slack_server, starts) as socket_mode:
        payload = slash_command(slack_server, "2026-11-18")
        ack = ack_of(socket_mode, socket_mode.push(payload, envelope_type="slash_commands"))
        (request,) = wait_for(lambda: starts.requests)
        wait_for(lambda: slack_server.command_responses)
    assert ack["payload"] == {"text": CHECKING, "response_type": "ephemeral"}
    assert request.parameters() == {"channel": CHANNEL, "week_start": WEEK}
    assert request.key == f"voc-weekly:command:{CHANNEL}:{payload['trigger_id']}"
    assert slack_server.messages == []


def test_socket_mode_slash_command_outside_the_allowlist_or_for_a_delivered_week_starts_nothing(
    slack_server: SlackServer,
) -> None:
    starts = RecordedStarts()
    summary = deliver_summary(slack_server, WEEK)
    with socket_mode_bot(slack_server, starts) as socket_mode:
        elsewhere = slash_command(slack_server, "2026-11-16", channel=ELSEWHERE)
        refused = ack_of(socket_mode, socket_mode.push(elsewhere, envelope_type="slash_commands"))
        delivered = slash_command(slack_server, "2026-11-16")
        checking = ack_of(socket_mode, socket_mode.push(delivered, envelope_type="slash_commands"))
        (answer,) = wait_for(lambda: slack_server.command_responses)
        settle()
    assert refused["payload"]["text"].startswith(":no_entry_sign: 이 채널에는 VOC 데이터를 올릴 수 없습니다.")
    assert checking["payload"]["text"] == CHECKING
    assert answer["text"].endswith(f"<{permalink(slack_server, CHANNEL, summary)}|리포트 보기>")
    assert starts.requests == [] and len(slack_server.messages) == 1  # the summary alone


def test_socket_mode_dm_reports_in_the_dm_and_ignores_its_own_and_edited_messages(
    slack_server: SlackServer,
) -> None:
    slack_server.channels.add(DM)
    starts = RecordedStarts()
    edited = dm_event("2026-11-09", edited={"user": "U0ALICE", "ts": "1790000000.000300"})
    own = dm_event("2026-11-09", user=BOT_USER_ID, bot_id="B0VOC")
    with socket_mode_bot(slack_server, starts, VOC_BOT_ALLOW_DMS="true") as socket_mode:
        for event in (own, edited, dm_event("지난주")):
            ack_of(socket_mode, socket_mode.push(event_callback(event)))
        (request,) = wait_for(lambda: starts.requests)
        settle()
    assert (request.channel, request.thread_ts, request.week) == (DM, None, last_complete_week())
    assert [m["text"] for m in slack_server.messages] == [ACK_TEXT]
    assert len(starts.requests) == 1


def test_socket_mode_dm_when_dms_are_off_says_so_and_starts_nothing(slack_server: SlackServer) -> None:
    slack_server.channels.add(DM)
    starts = RecordedStarts()
    with socket_mode_bot(slack_server, starts, VOC_BOT_ADMINS=ADMIN) as socket_mode:
        ack_of(socket_mode, socket_mode.push(event_callback(dm_event("지난주"))))
        (answer,) = wait_for(lambda: slack_server.messages)
        settle()
    assert answer["channel"] == DM and answer["text"].endswith(f"<@{ADMIN}> 에게 문의해 주세요.")
    assert starts.requests == []


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
        "mentions and /voc-weekly allowed in C0VOCWEEKLY, DMs off\n"
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


@pytest.mark.parametrize("variable", ["VOC_BOT_ADMINS", "VOC_BOT_ALLOWED_USERS"])
def test_a_user_name_where_a_user_id_belongs_fails_in_one_line(
    slack_server: SlackServer, variable: str
) -> None:
    # Slack sends user IDs: "@alice" would match no one, silently.
    with pytest.raises(SettingsError) as error:
        bot_settings(slack_server, **{variable: "U0ADMIN, @alice"})
    assert str(error.value).startswith(f"{variable}=")
    assert "must be Slack user IDs (U…, from a profile's ⋮ → Copy member ID), not '@alice'" in str(
        error.value
    )
    assert "\n" not in str(error.value)


def test_check_says_whether_dms_are_on_and_for_whom(slack_server: SlackServer, deployment: UUID) -> None:
    settings = bot_settings(
        slack_server, VOC_BOT_ALLOW_DMS="true", VOC_BOT_ALLOWED_USERS="U0ALICE,U0BOB", VOC_BOT_ADMINS=ADMIN
    )
    assert check_bot(settings, http=True).endswith(
        "mentions and /voc-weekly allowed in C0VOCWEEKLY, DMs on for U0ALICE, U0BOB"
    )
