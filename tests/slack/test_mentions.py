"""The mention and DM listeners called directly: a real WebClient on the loopback Slack server, the
delivery ledger in a temporary folder, and either a recording `start` or the real `start_report` on
the session's Prefect test server (no worker runs its flow runs, so a test sees them Scheduled with
the parameters the ask gave).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_LOCAL_STORAGE_PATH,
    PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK,
    temporary_settings,
)
from prefect.states import Failed
from slack_sdk import WebClient

from flows.settings import VocSettings
from flows.slack.bot import bot_client
from flows.slack.mentions import (
    ACK_TEXT,
    DM_USAGE_TEXT,
    LEDGER_FAILURE_TEXT,
    USAGE_TEXT,
    ReportRequest,
    SeenEvents,
    StartReport,
    handle_direct_message,
    handle_mention,
    start_report,
)
from tests.servers.slack import BOT_USER_ID, VALID_TOKEN, Fault, SlackServer
from tests.slack.factories import (
    ADMIN,
    ALICE,
    CHANNEL,
    DM,
    ELSEWHERE,
    SECRET,
    RecordedStarts,
    bot_settings,
    deliver_summary,
    dm_event,
    mention_event,
    permalink,
    runs_in_thread,
    thread_of,
)

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 14:00 KST: the last complete week is 11-16
SUNDAY = datetime(2026, 11, 22, 14, 59, tzinfo=UTC)  # 23:59 KST: the last complete week is 11-09
REFUSAL = ":no_entry_sign: 이 채널에는 VOC 데이터를 올릴 수 없습니다."
WEEK = date(2026, 11, 16)


@pytest.fixture(autouse=True)
def ledger(prefect_server: None, tmp_path: Path) -> Iterator[Path]:
    """An empty delivery ledger for each test (the default result storage, in a temporary folder)."""
    folder = tmp_path / "prefect-storage"
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: folder}):
        yield folder


@pytest.fixture
def settings(slack_server: SlackServer) -> VocSettings:
    slack_server.channels.add(DM)
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


def direct_message(
    event: dict[str, Any], client: WebClient, settings: VocSettings, start: StartReport
) -> None:
    """The DM listener's call for one event, as Bolt makes it."""
    handle_direct_message(event, client, settings, bot_user_id=BOT_USER_ID, start=start, now=NOW)


def replies(slack: SlackServer, thread_ts: str) -> list[str]:
    """The texts the bot posted in a thread, in order."""
    return [m["text"] for m in slack.messages if m.get("thread_ts") == thread_ts]


def posted(slack: SlackServer, channel: str) -> list[str]:
    """The texts posted in a channel (or DM), in order."""
    return [m["text"] for m in slack.messages if m["channel"] == channel]


def answer_ts(slack: SlackServer, text: str) -> str:
    """The ts of the (one) message with this text."""
    (ts,) = [m["ts"] for m in slack.messages if m["text"] == text]
    return str(ts)


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

    def start(settings: VocSettings, request: ReportRequest) -> None:
        seen_at_start.append(replies(slack_server, str(request.thread_ts)))

    event = mention_event("2026-11-16")
    mention(event, client, settings, start)
    assert seen_at_start == [[ACK_TEXT]]


def test_the_run_is_told_which_message_is_its_hourglass_answer(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    # The flow edits that message (chat.update) when it ends: done, nothing new, or failed.
    event = mention_event("2026-11-16", thread_ts="1789999999.000001")
    mention(event, client, settings, starts)
    (request,) = starts.requests
    assert request.status_ts == answer_ts(slack_server, ACK_TEXT)
    assert request.parameters() == {
        "channel": CHANNEL,
        "thread_ts": "1789999999.000001",
        "week_start": WEEK,
        "status_ts": request.status_ts,
    }


def test_regression_asking_again_in_a_thread_after_a_failed_run_starts_a_new_run(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, deployment: UUID
) -> None:
    # The key was channel + thread + week: Prefect answered the second ask with the failed run.
    first = mention_event("지난주")
    thread = thread_of(first)
    mention(first, client, settings, start_report)
    (failed,) = runs_in_thread(deployment, thread)
    with get_client(sync_client=True) as prefect:
        prefect.set_flow_run_state(failed.id, Failed(message="BigQuery said no"), force=True)

    again = mention_event("지난 주", thread_ts=thread)
    mention(again, client, settings, start_report)
    assert replies(slack_server, thread) == [ACK_TEXT, ACK_TEXT]  # each ask is answered…
    runs = {run.id: run for run in runs_in_thread(deployment, thread)}
    assert len(runs) == 2  # …and each starts its own run; the flow's ledger posts nothing twice
    (second,) = [run for run in runs.values() if run.id != failed.id]
    assert second.idempotency_key == f"voc-weekly:mention:{CHANNEL}:{again['ts']}"
    assert second.parameters["thread_ts"] == thread and second.parameters["week_start"] == "2026-11-16"
    assert second.state is not None and second.state.is_scheduled()  # created, not run: no worker here


def test_slacks_redelivery_of_one_mention_creates_one_run(
    client: WebClient, settings: VocSettings, deployment: UUID
) -> None:
    # Slack sends an event again when the ack was late; the bot's own cache may have restarted.
    event = mention_event("2026-11-16")
    mention(event, client, settings, start_report)
    mention(event, client, settings, start_report)
    (run,) = runs_in_thread(deployment, thread_of(event))
    assert run.idempotency_key == f"voc-weekly:mention:{CHANNEL}:{event['ts']}"


def test_another_week_in_the_same_thread_is_another_report(
    client: WebClient, settings: VocSettings, deployment: UUID
) -> None:
    first = mention_event("지난주")
    thread = thread_of(first)
    mention(first, client, settings, start_report)
    mention(mention_event("2주 전", thread_ts=thread), client, settings, start_report)
    runs = runs_in_thread(deployment, thread)
    assert sorted(run.parameters["week_start"] for run in runs) == ["2026-11-09", "2026-11-16"]


# A week the channel already has


def test_regression_a_mention_in_the_weekly_reports_own_thread_links_it_and_starts_nothing(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    # It used to post the whole report again, inside the report's own thread.
    summary = deliver_summary(slack_server, WEEK)
    mention(mention_event("", thread_ts=summary), client, settings, starts)
    assert replies(slack_server, summary) == [
        ":white_check_mark: 2026-11-16 ~ 2026-11-22 주 리포트는 이미 이 채널에 올라가 있습니다. "
        f"<{permalink(slack_server, CHANNEL, summary)}|리포트 보기>"
    ]
    assert starts.requests == []


def test_a_mention_anywhere_in_the_channel_for_a_delivered_week_links_it(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    summary = deliver_summary(slack_server, WEEK)
    event = mention_event("2026-11-18")
    mention(event, client, settings, starts)
    (answer,) = replies(slack_server, event["ts"])
    assert answer.endswith(f"<{permalink(slack_server, CHANNEL, summary)}|리포트 보기>")
    assert starts.requests == []


def test_another_week_asked_in_the_reports_thread_is_reported_there(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    summary = deliver_summary(slack_server, WEEK)
    mention(mention_event("2주 전", thread_ts=summary), client, settings, starts)
    assert starts.calls == [(CHANNEL, summary, date(2026, 11, 9))]
    assert replies(slack_server, summary) == [ACK_TEXT]


def test_a_week_delivered_to_another_channel_is_reported_here(
    slack_server: SlackServer, client: WebClient, starts: RecordedStarts
) -> None:
    settings = bot_settings(slack_server, VOC_BOT_ALLOWED_CHANNELS=f"{CHANNEL},{ELSEWHERE}")
    deliver_summary(slack_server, WEEK, channel=ELSEWHERE)
    event = mention_event("2026-11-16")
    mention(event, client, settings, starts)
    assert starts.calls == [(CHANNEL, event["ts"], WEEK)]


def test_a_delivered_summary_slack_no_longer_has_is_still_named_without_a_link(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    deliver_summary(slack_server, WEEK)
    slack_server.messages.clear()  # deleted in Slack since: chat.getPermalink says message_not_found
    event = mention_event("2026-11-16")
    mention(event, client, settings, starts)
    assert replies(slack_server, event["ts"]) == [
        ":white_check_mark: 2026-11-16 ~ 2026-11-22 주 리포트는 이미 이 채널에 올라가 있습니다."
    ]
    assert starts.requests == []


def test_an_unreadable_ledger_is_said_in_one_line_and_starts_nothing(
    slack_server: SlackServer,
    client: WebClient,
    settings: VocSettings,
    starts: RecordedStarts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The bot reads the ledger where flow runs write it; a storage block it cannot load is not "empty".
    event = mention_event("2026-11-16")
    with temporary_settings({PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK: "local-file-system/no-such-block"}):
        with caplog.at_level(logging.WARNING, logger="flows.slack.mentions"):
            mention(event, client, settings, starts)
    assert replies(slack_server, event["ts"]) == [LEDGER_FAILURE_TEXT]
    assert starts.requests == []
    (line,) = caplog.messages
    assert line.startswith(f"Could not read the delivery ledger of {CHANNEL}: ") and "\n" not in line


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
    # Said when the ledger is looked up (it is found through the Prefect API), or when the run is
    # created: the ledger's storage may be configured so that only the second needs the API.
    *_, answer = replies(slack_server, event["ts"])
    assert answer in (
        LEDGER_FAILURE_TEXT,
        ":x: 리포트를 시작하지 못했습니다: Prefect API에 연결할 수 없습니다.",
    )
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


# Direct messages


def dms_on(slack: SlackServer, **overrides: Any) -> VocSettings:
    return bot_settings(slack, VOC_BOT_ALLOW_DMS="true", **overrides)


def test_a_dm_reports_in_that_dm_as_a_new_summary(
    slack_server: SlackServer, client: WebClient, starts: RecordedStarts
) -> None:
    slack_server.channels.add(DM)
    event = dm_event("<@U0VOCBOT> 2주 전")
    direct_message(event, client, dms_on(slack_server), starts)
    assert posted(slack_server, DM) == [ACK_TEXT]
    assert "thread_ts" not in slack_server.messages[0]  # the conversation itself, not a thread
    (request,) = starts.requests
    assert request.parameters() == {
        "channel": DM,
        "week_start": date(2026, 11, 9),
        "status_ts": answer_ts(slack_server, ACK_TEXT),
    }
    assert request.key == f"voc-weekly:dm:{DM}:{event['ts']}"


def test_dms_are_off_by_default_and_the_answer_says_whom_to_ask(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    direct_message(dm_event("지난주"), client, settings, starts)
    with_admins = bot_settings(slack_server, VOC_BOT_ADMINS=f"{ADMIN}, U0BOB")
    direct_message(dm_event("지난주"), client, with_admins, starts)
    off = ":no_entry_sign: DM으로는 리포트를 받을 수 없습니다 (VOC 데이터에는 고객 문의 내용이 있습니다)."
    assert posted(slack_server, DM) == [
        f"{off} 봇 관리자에게 문의해 주세요.",
        f"{off} <@{ADMIN}>, <@U0BOB> 에게 문의해 주세요.",
    ]
    assert starts.requests == []


def test_dms_from_someone_outside_the_allowed_users_are_refused(
    slack_server: SlackServer, client: WebClient, starts: RecordedStarts
) -> None:
    slack_server.channels.add(DM)
    settings = dms_on(slack_server, VOC_BOT_ALLOWED_USERS="U0BOB", VOC_BOT_ADMINS=ADMIN)
    direct_message(dm_event("지난주", user=ALICE), client, settings, starts)
    direct_message(dm_event("지난주", user="U0BOB"), client, settings, starts)
    assert posted(slack_server, DM)[0] == (
        f":no_entry_sign: DM으로 리포트를 받을 수 있는 사람이 아닙니다. <@{ADMIN}> 에게 문의해 주세요."
    )
    assert [(request.channel, request.week) for request in starts.requests] == [(DM, WEEK)]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"user": BOT_USER_ID, "bot_id": "B0VOC"}, id="itself"),
        pytest.param({"user": BOT_USER_ID}, id="itself-by-user-id"),
        pytest.param({"bot_id": "B0OTHER", "subtype": "bot_message"}, id="another-bot"),
        pytest.param({"edited": {"user": ALICE, "ts": "1790000000.000300"}}, id="edited"),
        pytest.param(
            {"subtype": "message_changed", "message": {"text": "지난주", "user": ALICE}}, id="message-changed"
        ),
        pytest.param({"subtype": "message_deleted"}, id="message-deleted"),
        pytest.param({"subtype": "file_share"}, id="file-share"),
        pytest.param({"channel_type": "channel", "channel": CHANNEL}, id="not-a-dm"),
    ],
)
def test_own_edited_and_other_bots_messages_start_nothing(
    slack_server: SlackServer, client: WebClient, starts: RecordedStarts, fields: dict[str, Any]
) -> None:
    slack_server.channels.add(DM)
    direct_message(dm_event("2026-11-16", **fields), client, dms_on(slack_server), starts)
    assert slack_server.messages == [] and starts.requests == []


def test_a_dm_naming_no_week_gets_the_dm_usage_hint(
    slack_server: SlackServer, client: WebClient, starts: RecordedStarts
) -> None:
    slack_server.channels.add(DM)
    direct_message(dm_event("리포트 줘"), client, dms_on(slack_server), starts)
    direct_message(dm_event("이번주"), client, dms_on(slack_server), starts)
    assert posted(slack_server, DM) == [
        DM_USAGE_TEXT,
        ":calendar: 2026-11-23 ~ 2026-11-29 주는 아직 끝나지 않았습니다 "
        "(가장 최근에 끝난 주: 2026-11-16 ~ 2026-11-22).",
    ]
    assert starts.requests == []


def test_a_dm_for_a_week_already_in_that_dm_links_it(
    slack_server: SlackServer, client: WebClient, starts: RecordedStarts
) -> None:
    slack_server.channels.add(DM)
    summary = deliver_summary(slack_server, WEEK, channel=DM)
    direct_message(dm_event("2026-11-16"), client, dms_on(slack_server), starts)
    (answer,) = posted(slack_server, DM)[1:]
    assert answer.endswith(f"<{permalink(slack_server, DM, summary)}|리포트 보기>")
    assert starts.requests == []


def test_a_dm_run_that_cannot_start_is_said_in_the_dm(slack_server: SlackServer, client: WebClient) -> None:
    slack_server.channels.add(DM)
    settings = dms_on(slack_server, VOC_BOT_DEPLOYMENT="voc-weekly-report/no-such")
    direct_message(dm_event("2026-11-16"), client, settings, start_report)
    assert posted(slack_server, DM) == [
        ACK_TEXT,
        ":x: 리포트를 시작하지 못했습니다: 배포 voc-weekly-report/no-such 를 찾을 수 없습니다.",
    ]


def test_week_older_than_the_limit_is_refused_in_its_thread(
    slack_server: SlackServer, client: WebClient, settings: VocSettings, starts: RecordedStarts
) -> None:
    """Regression (issue 16): `300주 전` started a report that read every partition since then."""
    event = mention_event("300주 전")
    mention(event, client, settings.model_copy(update={"max_weeks_back": 52}), starts)
    [answer] = replies(slack_server, event["ts"])
    assert answer.startswith(":calendar: 요청한 주(") and "52주보다 오래됐습니다" in answer
    assert starts.requests == []
