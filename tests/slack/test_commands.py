"""The `/voc-weekly` listener called directly: Bolt's own `Ack` and `Respond` (the response_url on the
loopback Slack server), a real WebClient, the delivery ledger in a temporary folder, and a recording
`start` or the real `start_report` on the session's Prefect test server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.settings import (
    PREFECT_LOCAL_STORAGE_PATH,
    PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK,
    temporary_settings,
)
from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from flows.settings import VocSettings
from flows.slack.bot import bot_client
from flows.slack.commands import BAD_WEEK_TEXT, HELP_TEXT, handle_command
from flows.slack.mentions import LEDGER_FAILURE_TEXT, ReportRequest, StartReport, start_report
from tests.servers.slack import SlackServer
from tests.slack.factories import (
    ADMIN,
    CHANNEL,
    ELSEWHERE,
    RecordedStarts,
    bot_settings,
    deliver_summary,
    permalink,
    runs_where,
    slash_command,
)

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 14:00 KST: the last complete week is 11-16
WEEK = date(2026, 11, 16)
CHECKING = ":hourglass_flowing_sand: 확인 중… 2026-11-16 ~ 2026-11-22 주 VOC 리포트"
STARTED = (
    ":rocket: 2026-11-16 ~ 2026-11-22 주 리포트를 시작했습니다. 몇 분 뒤 이 채널에 올라옵니다 "
    "(실패하면 그 이유가 이 채널에 올라옵니다)."
)


@pytest.fixture(autouse=True)
def ledger(prefect_server: None, tmp_path: Path) -> Iterator[Path]:
    """An empty delivery ledger for each test (the default result storage, in a temporary folder)."""
    folder = tmp_path / "prefect-storage"
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: folder}):
        yield folder


@pytest.fixture
def settings(slack_server: SlackServer) -> VocSettings:
    return bot_settings(slack_server, VOC_BOT_ADMINS=ADMIN)


@pytest.fixture
def client(settings: VocSettings) -> WebClient:
    return bot_client(settings)


@pytest.fixture
def starts() -> RecordedStarts:
    return RecordedStarts()


def command(payload: dict[str, str], client: WebClient, settings: VocSettings, start: StartReport) -> Ack:
    """The listener's call for one command, as Bolt makes it; the ack it gave."""
    ack = Ack()
    respond = Respond(response_url=payload["response_url"])
    handle_command(payload, ack, respond, client, settings, start=start, now=NOW)
    return ack


def acked(ack: Ack) -> dict[str, Any]:
    """The body of the acknowledgement Slack shows the person who typed the command."""
    assert ack.response is not None and ack.response.status == 200
    return dict(json.loads(ack.response.body))


def responses(slack: SlackServer) -> list[tuple[str, str]]:
    """(response_type, text) of each answer sent through response_url."""
    return [(body["response_type"], body["text"]) for body in slack.command_responses]


# Commands that start a report


def test_a_week_is_acknowledged_ephemerally_then_started_as_a_new_summary_in_the_channel(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    payload = slash_command(slack_server, "2026-11-18")
    ack = command(payload, client, settings, starts)
    assert acked(ack) == {"text": CHECKING, "response_type": "ephemeral"}
    (request,) = starts.requests
    assert request.parameters() == {"channel": CHANNEL, "week_start": WEEK}  # no thread, no ⏳ to edit
    assert request.key == f"voc-weekly:command:{CHANNEL}:{payload['trigger_id']}"
    assert responses(slack_server) == [("ephemeral", STARTED)]
    assert slack_server.messages == []  # nothing public: the report itself is the flow run's


@pytest.mark.parametrize(
    ("text", "week"),
    [("", WEEK), ("지난주", WEEK), ("  2주 전 ", date(2026, 11, 9)), ("11/3", date(2026, 11, 2))],
)
def test_the_week_grammar_is_the_mentions(
    slack_server: SlackServer,
    client: WebClient,
    settings: VocSettings,
    starts: RecordedStarts,
    text: str,
    week: date,
) -> None:
    command(slash_command(slack_server, text), client, settings, starts)
    assert starts.weeks == [week]


def test_the_ack_is_given_before_the_report_is_started(
    slack_server: SlackServer, client: WebClient, settings: VocSettings
) -> None:
    # Slack shows "operation_timeout" unless the ack arrives within 3 s: nothing slow may precede it.
    ack = Ack()
    acked_at_start: list[bool] = []

    def start(settings: VocSettings, request: ReportRequest) -> None:
        acked_at_start.append(ack.response is not None)

    payload = slash_command(slack_server, "2026-11-16")
    handle_command(payload, ack, Respond(response_url=payload["response_url"]), client, settings, start=start)
    assert acked_at_start == [True]


def test_the_real_start_creates_one_ad_hoc_run_reporting_in_the_channel(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, deployment: UUID
) -> None:
    payload = slash_command(slack_server, "2026-11-16")
    command(payload, client, settings, start_report)
    (run,) = runs_where(deployment, channel=CHANNEL, week_start="2026-11-16", thread_ts=None)
    assert run.parameters == {"channel": CHANNEL, "week_start": "2026-11-16"}
    assert run.idempotency_key == f"voc-weekly:command:{CHANNEL}:{payload['trigger_id']}"
    assert responses(slack_server) == [("ephemeral", STARTED)]


# A week the channel already has


def test_a_delivered_week_is_answered_with_its_link_and_nothing_starts(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    summary = deliver_summary(slack_server, WEEK)
    ack = command(slash_command(slack_server, "2026-11-16"), client, settings, starts)
    assert acked(ack)["text"] == CHECKING
    assert responses(slack_server) == [
        (
            "ephemeral",
            ":white_check_mark: 2026-11-16 ~ 2026-11-22 주 리포트는 이미 이 채널에 올라가 있습니다. "
            f"<{permalink(slack_server, CHANNEL, summary)}|리포트 보기>",
        )
    ]
    assert starts.requests == [] and len(slack_server.messages) == 1  # the summary alone


def test_an_admin_is_told_how_to_post_a_delivered_week_again_and_force_does(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    deliver_summary(slack_server, WEEK)
    command(slash_command(slack_server, "2026-11-16", user=ADMIN), client, settings, starts)
    ((_, link_answer),) = responses(slack_server)
    assert link_answer.endswith(" 다시 올리려면 `/voc-weekly 2026-11-16 force`")
    assert starts.requests == []

    ack = command(slash_command(slack_server, "2026-11-16 FORCE", user=ADMIN), client, settings, starts)
    assert acked(ack)["text"] == f"{CHECKING} (다시 올리기)"
    (request,) = starts.requests
    assert request.parameters() == {"channel": CHANNEL, "week_start": WEEK, "force": True}


def test_force_from_someone_not_an_admin_is_refused_and_starts_nothing(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    deliver_summary(slack_server, WEEK)
    ack = command(slash_command(slack_server, "force 2026-11-16"), client, settings, starts)
    assert acked(ack) == {
        "text": ":no_entry_sign: `force` (이미 올린 주를 다시 올리기)는 관리자만 쓸 수 있습니다. "
        f"<@{ADMIN}> 에게 문의해 주세요.",
        "response_type": "ephemeral",
    }
    assert starts.requests == [] and slack_server.command_responses == []


def test_an_unreadable_ledger_is_said_and_nothing_starts(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    with temporary_settings({PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK: "local-file-system/no-such-block"}):
        command(slash_command(slack_server, "2026-11-16"), client, settings, starts)
    assert responses(slack_server) == [("ephemeral", LEDGER_FAILURE_TEXT)]
    assert starts.requests == []


# Commands answered at once, starting nothing, posting nothing


@pytest.mark.parametrize("text", ["help", "HELP", " 도움말 "])
def test_help_is_answered_in_the_ack(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts, text: str
) -> None:
    ack = command(slash_command(slack_server, text, channel=ELSEWHERE), client, settings, starts)
    assert acked(ack) == {"text": HELP_TEXT, "response_type": "ephemeral"}
    assert starts.requests == [] and slack_server.command_responses == []


def test_outside_the_allowed_channels_the_ack_says_where_to_ask_and_nothing_starts(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    ack = command(slash_command(slack_server, "2026-11-16", channel=ELSEWHERE), client, settings, starts)
    assert acked(ack) == {
        "text": ":no_entry_sign: 이 채널에는 VOC 데이터를 올릴 수 없습니다. "
        "리포트는 <#C0VOCWEEKLY> 에서 요청해 주세요.",
        "response_type": "ephemeral",
    }
    assert starts.requests == [] and slack_server.messages == [] and slack_server.command_responses == []


@pytest.mark.parametrize("text", ["리포트 좀", "2026-02-30", "-1주 전", "force please"])
def test_a_bad_week_gets_one_line_with_an_example(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts, text: str
) -> None:
    ack = command(slash_command(slack_server, text, user=ADMIN), client, settings, starts)
    assert acked(ack) == {"text": BAD_WEEK_TEXT, "response_type": "ephemeral"}
    assert "\n" not in BAD_WEEK_TEXT and "`/voc-weekly 2026-11-16`" in BAD_WEEK_TEXT
    assert starts.requests == [] and slack_server.messages == []


def test_a_week_that_has_not_ended_is_refused_in_the_ack(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    ack = command(slash_command(slack_server, "이번주"), client, settings, starts)
    assert acked(ack)["text"] == (
        ":calendar: 2026-11-23 ~ 2026-11-29 주는 아직 끝나지 않았습니다 "
        "(가장 최근에 끝난 주: 2026-11-16 ~ 2026-11-22)."
    )
    assert starts.requests == []


def test_a_report_that_cannot_start_is_said_through_the_response_url(
    slack_server: SlackServer, client: WebClient, prefect_server: None
) -> None:
    settings = bot_settings(slack_server, VOC_BOT_DEPLOYMENT="voc-weekly-report/no-such")
    command(slash_command(slack_server, "2026-11-16"), client, settings, start_report)
    assert responses(slack_server) == [
        ("ephemeral", ":x: 리포트를 시작하지 못했습니다: 배포 voc-weekly-report/no-such 를 찾을 수 없습니다.")
    ]
    assert slack_server.messages == []


def test_an_expired_response_url_is_logged_and_the_report_still_starts(
    slack_server: SlackServer,
    client: WebClient,
    settings: VocSettings,
    starts: RecordedStarts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = {**slash_command(slack_server, "2026-11-16"), "response_url": "http://127.0.0.1:9/commands/x"}
    command(payload, client, settings, starts)
    assert starts.weeks == [WEEK]
    assert any(line.startswith(f"Could not answer /voc-weekly in {CHANNEL}: ") for line in caplog.messages)


def test_a_week_older_than_the_limit_is_refused_in_the_ack(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    """Regression (issue 16): a week years back would read every partition from then until now."""
    limited = settings.model_copy(update={"max_weeks_back": 52})
    ack = command(slash_command(slack_server, "300주 전"), client, limited, starts)
    assert acked(ack)["text"].startswith(":calendar: 요청한 주(")
    assert "52주보다 오래됐습니다" in acked(ack)["text"]
    assert starts.requests == []
