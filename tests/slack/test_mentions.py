"""The mention listener called directly: a real WebClient on the loopback Slack server, and either a
recording `start` or the real `start_report` on the session's Prefect test server (no worker runs its
flow runs, so a test sees them Scheduled with the parameters the mention asked for).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from slack_sdk import WebClient

from flows.settings import VocSettings
from flows.slack.bot import bot_client
from flows.slack.mentions import (
    ACK_TEXT,
    USAGE_TEXT,
    SeenEvents,
    StartReport,
    handle_mention,
    start_report,
)
from tests.servers.slack import BOT_USER_ID, VALID_TOKEN, Fault, SlackServer
from tests.slack.factories import (
    CHANNEL,
    ELSEWHERE,
    SECRET,
    RecordedStarts,
    bot_settings,
    mention_event,
    runs_in_thread,
    thread_of,
)

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 14:00 KST: the last complete week is 11-16
SUNDAY = datetime(2026, 11, 22, 14, 59, tzinfo=UTC)  # 23:59 KST: the last complete week is 11-09
REFUSAL = ":no_entry_sign: 이 채널에는 VOC 데이터를 올릴 수 없습니다."


@pytest.fixture
def settings(slack_server: SlackServer) -> VocSettings:
    return bot_settings(slack_server)


@pytest.fixture
def client(settings: VocSettings) -> WebClient:
    return bot_client(settings)


@pytest.fixture
def starts() -> RecordedStarts:
    return RecordedStarts()


def mention(
    event: dict[str, Any],
    client: WebClient,
    settings: VocSettings,
    start: StartReport,
    now: datetime = NOW,
) -> None:
    """The listener's call for one event, as Bolt makes it (the bot user from auth.test)."""
    handle_mention(event, client, settings, bot_user_id=BOT_USER_ID, start=start, now=now)


def replies(slack: SlackServer, thread_ts: str) -> list[str]:
    """The texts the bot posted in a thread, in order."""
    return [m["text"] for m in slack.messages if m.get("thread_ts") == thread_ts]


# Mentions that start a report


def test_mention_naming_a_week_acks_in_its_thread_and_starts_that_week(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    event = mention_event("2026-11-18")
    mention(event, client, settings, starts)
    assert starts.calls == [(CHANNEL, event["ts"], date(2026, 11, 16))]
    assert replies(slack_server, event["ts"]) == [ACK_TEXT]
    assert [m["channel"] for m in slack_server.messages] == [CHANNEL]


def test_bare_mention_inside_a_thread_reports_the_latest_week_in_that_thread(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    parent = "1789999999.000001"
    mention(mention_event("", thread_ts=parent), client, settings, starts)
    assert starts.calls == [(CHANNEL, parent, date(2026, 11, 16))]
    assert replies(slack_server, parent) == [ACK_TEXT]


@pytest.mark.parametrize(
    ("text", "week"),
    [
        ("<@U0VOCBOT>", date(2026, 11, 16)),
        ("<@U0VOCBOT|voc-weekly>   ", date(2026, 11, 16)),
        ("<@U0VOCBOT> 2026-11-22", date(2026, 11, 16)),
        ("2주 전 <@U0VOCBOT>", date(2026, 11, 9)),
        ("<@W0VOCBOT> 2026-11-16", date(2026, 11, 16)),  # Enterprise Grid user IDs start with W
    ],
)
def test_the_mention_itself_is_not_part_of_the_week(
    client: WebClient, settings: VocSettings, starts: RecordedStarts, text: str, week: date
) -> None:
    mention({**mention_event(""), "text": text}, client, settings, starts)
    assert starts.weeks == [week]


def test_ack_is_sent_before_the_report_is_started(
    slack_server: SlackServer, client: WebClient, settings: VocSettings
) -> None:
    seen_at_start: list[list[str]] = []

    def start(settings: VocSettings, channel: str, thread_ts: str, week: date) -> None:
        seen_at_start.append(replies(slack_server, thread_ts))

    event = mention_event("2026-11-16")
    mention(event, client, settings, start)
    assert seen_at_start == [[ACK_TEXT]]


def test_repeated_mentions_for_the_same_week_and_thread_start_one_run(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, deployment: UUID
) -> None:
    first = mention_event("지난주")
    thread = thread_of(first)
    mention(first, client, settings, start_report)
    mention(mention_event("지난 주", thread_ts=thread), client, settings, start_report)
    assert replies(slack_server, thread) == [ACK_TEXT, ACK_TEXT]  # each mention is answered…
    (run,) = runs_in_thread(deployment, thread)  # …and one report runs (the idempotency key)
    assert run.parameters == {"channel": CHANNEL, "thread_ts": thread, "week_start": "2026-11-16"}
    assert run.idempotency_key == f"voc-weekly:{CHANNEL}:{thread}:2026-11-16"
    assert run.state is not None and run.state.is_scheduled()  # created, not run: no worker here

    # Another week in the same thread is another report.
    mention(mention_event("2주 전", thread_ts=thread), client, settings, start_report)
    runs = runs_in_thread(deployment, thread)
    assert sorted(run.parameters["week_start"] for run in runs) == ["2026-11-09", "2026-11-16"]


# Mentions that start nothing


def test_mention_in_a_channel_not_allowed_is_refused_in_its_thread(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    event = mention_event("2026-11-16", channel=ELSEWHERE)
    mention(event, client, settings, starts)
    assert replies(slack_server, event["ts"]) == [f"{REFUSAL} 리포트는 <#C0VOCWEEKLY> 에서 요청해 주세요."]
    assert slack_server.messages[0]["channel"] == ELSEWHERE
    assert starts.calls == []


def test_allowlist_replaces_the_report_channel(
    slack_server: SlackServer, client: WebClient, starts: RecordedStarts
) -> None:
    settings = bot_settings(slack_server, VOC_BOT_ALLOWED_CHANNELS=f" {ELSEWHERE} , C0THIRD")
    refused, allowed = mention_event("", channel=CHANNEL), mention_event("", channel=ELSEWHERE)
    mention(refused, client, settings, starts)
    mention(allowed, client, settings, starts)
    (refusal,) = replies(slack_server, refused["ts"])
    assert refusal == f"{REFUSAL} 리포트는 <#C0ELSEWHERE>, <#C0THIRD> 에서 요청해 주세요."
    assert starts.calls == [(ELSEWHERE, allowed["ts"], date(2026, 11, 16))]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"bot_id": "B0OTHER"}, id="another-bot"),
        pytest.param({"subtype": "bot_message", "bot_id": "B0OTHER"}, id="bot-message"),
        pytest.param({"user": BOT_USER_ID, "bot_id": "B0VOC"}, id="itself"),
        pytest.param({"user": BOT_USER_ID}, id="itself-by-user-id"),
        pytest.param({"edited": {"user": "U0ALICE", "ts": "1790000000.000200"}}, id="edited"),
        pytest.param({"subtype": "message_changed"}, id="message-changed"),
        pytest.param({"subtype": "message_deleted"}, id="message-deleted"),
    ],
)
def test_bot_messages_and_edits_trigger_nothing(
    slack_server: SlackServer,
    client: WebClient,
    settings: VocSettings,
    starts: RecordedStarts,
    fields: dict[str, Any],
) -> None:
    mention(mention_event("2026-11-16", **fields), client, settings, starts)
    assert slack_server.messages == [] and starts.calls == []


@pytest.mark.parametrize("text", ["리포트 좀 보여줘", "-1주 전", "2026-02-30"])
def test_unparseable_text_gets_the_usage_hint_and_starts_nothing(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts, text: str
) -> None:
    event = mention_event(text)
    mention(event, client, settings, starts)
    assert replies(slack_server, event["ts"]) == [USAGE_TEXT]
    assert starts.calls == []


@pytest.mark.parametrize(
    ("text", "now", "week", "latest"),
    [
        ("이번주", NOW, "2026-11-23 ~ 2026-11-29", "2026-11-16 ~ 2026-11-22"),
        ("2999-01-01", NOW, "2998-12-31 ~ 2999-01-06", "2026-11-16 ~ 2026-11-22"),
        # Sunday 23:59 KST: the week of that Sunday has not ended yet.
        ("2026-11-22", SUNDAY, "2026-11-16 ~ 2026-11-22", "2026-11-09 ~ 2026-11-15"),
    ],
)
def test_week_that_has_not_ended_is_refused_in_its_thread(
    slack_server: SlackServer,
    client: WebClient,
    settings: VocSettings,
    starts: RecordedStarts,
    text: str,
    now: datetime,
    week: str,
    latest: str,
) -> None:
    event = mention_event(text)
    mention(event, client, settings, starts, now=now)
    answer = f":calendar: {week} 주는 아직 끝나지 않았습니다 (가장 최근에 끝난 주: {latest})."
    assert replies(slack_server, event["ts"]) == [answer]
    assert starts.calls == []


# Reports that cannot start, replies that cannot be posted


def test_missing_deployment_is_said_in_the_thread_in_one_line(
    slack_server: SlackServer, client: WebClient, prefect_server: None
) -> None:
    settings = bot_settings(slack_server, VOC_BOT_DEPLOYMENT="voc-weekly-report/no-such")
    event = mention_event("2026-11-16")
    mention(event, client, settings, start_report)
    assert replies(slack_server, event["ts"]) == [
        ACK_TEXT,
        ":x: 리포트를 시작하지 못했습니다: 배포 voc-weekly-report/no-such 를 찾을 수 없습니다.",
    ]


def test_unreachable_prefect_api_is_said_in_the_thread_without_details(
    slack_server: SlackServer, client: WebClient, settings: VocSettings
) -> None:
    event = mention_event("2026-11-16")
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens on port 9
        mention(event, client, settings, start_report)
    assert replies(slack_server, event["ts"]) == [
        ACK_TEXT,
        ":x: 리포트를 시작하지 못했습니다: Prefect API에 연결할 수 없습니다.",
    ]
    assert all(VALID_TOKEN not in m["text"] and SECRET not in m["text"] for m in slack_server.messages)


def test_an_unexpected_start_error_is_named_by_its_type_only(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, caplog: pytest.LogCaptureFixture
) -> None:
    event = mention_event("2026-11-16")
    failing = RecordedStarts(error=RuntimeError(f"boom with {VALID_TOKEN}\nand a second line"))
    with caplog.at_level(logging.WARNING, logger="flows.slack.mentions"):
        mention(event, client, settings, failing)
    assert replies(slack_server, event["ts"]) == [
        ACK_TEXT,
        ":x: 리포트를 시작하지 못했습니다: 예상하지 못한 오류입니다 (RuntimeError).",
    ]
    (line,) = caplog.messages
    assert line.startswith("Could not start voc-weekly-report/ad-hoc for C0VOCWEEKLY/") and "\n" not in line


def test_an_ack_slack_refuses_is_logged_and_the_report_still_starts(
    slack_server: SlackServer,
    client: WebClient,
    settings: VocSettings,
    starts: RecordedStarts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack_server.fail_next(Fault(200, {"ok": False, "error": "not_in_channel"}))
    event = mention_event("2026-11-16")
    with caplog.at_level(logging.WARNING, logger="flows.slack.mentions"):
        mention(event, client, settings, starts)
    assert starts.weeks == [date(2026, 11, 16)]
    assert caplog.messages == [f"Could not reply in {CHANNEL}/{event['ts']}: not_in_channel"]


# Slack's re-deliveries


def test_seen_events_knows_an_event_id_until_it_expires_or_is_pushed_out() -> None:
    seen = SeenEvents(max_size=2)
    assert seen.first_time("Ev1") and seen.first_time("Ev2")
    assert not seen.first_time("Ev2")
    assert seen.first_time("Ev3")  # the oldest (Ev1) makes room
    assert seen.first_time("Ev1")
    expired = SeenEvents(ttl=0)
    assert expired.first_time("Ev1") and expired.first_time("Ev1")


def test_regression_a_full_seen_events_still_knows_its_oldest_event_id() -> None:
    # It used to make room before looking: at capacity, Slack's redelivery of the oldest was new.
    seen = SeenEvents(max_size=2)
    assert seen.first_time("Ev1") and seen.first_time("Ev2")
    assert not seen.first_time("Ev1") and not seen.first_time("Ev2")


def test_week_older_than_the_limit_is_refused_in_its_thread(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    """Regression (issue 16): `300주 전` started a report that read every partition since then."""
    event = mention_event("300주 전")
    mention(event, client, settings.model_copy(update={"max_weeks_back": 52}), starts)
    [answer] = replies(slack_server, event["ts"])
    assert answer.startswith(":calendar: 요청한 주(") and "52주보다 오래됐습니다" in answer
    assert starts.calls == []
