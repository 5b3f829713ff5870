"""Slack delivery pieces against the loopback Slack server: errors that need a human, and the ledger."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from prefect.filesystems import LocalFileSystem
from pydantic import SecretStr
from slack_sdk import WebClient

from flows.errors import SlackDeliveryError
from flows.slack.client import post_message, slack_client
from flows.slack.delivery import SlackDelivery, deliver_message, post_report
from flows.slack.ledger import DeliveryLedger
from flows.slack.lock import ChannelLock
from flows.slack.messages import SlackMessage
from tests.servers.slack import (
    VALID_TOKEN,
    Fault,
    SlackServer,
    stored_late,
    stored_then_dropped,
    stored_then_slow,
)


@pytest.mark.parametrize(
    ("channel", "token", "fault", "expected"),
    [
        (
            "C0MISSING",
            VALID_TOKEN,
            None,
            "Slack channel C0MISSING not found: set --channel or VOC_SLACK_CHANNEL",
        ),
        ("C0VOCWEEKLY", "xoxb-revoked", None, "Slack rejected the bot token: set SLACK_BOT_TOKEN"),
        (
            "C0VOCWEEKLY",
            VALID_TOKEN,
            Fault(200, {"ok": False, "error": "not_in_channel"}),
            "the bot is not a member of Slack channel C0VOCWEEKLY: invite it there",
        ),
    ],
)
def test_errors_retrying_cannot_fix_say_what_to_do_in_one_line(
    slack_server: SlackServer, channel: str, token: str, fault: Fault | None, expected: str
) -> None:
    if fault:
        slack_server.fail_next(fault)
    client = slack_client(SecretStr(token), slack_server.url)
    with pytest.raises(SlackDeliveryError) as error:
        post_message(client, {"channel": channel, "text": "hi"})
    message = str(error.value)
    assert message.startswith(expected) and "\n" not in message and token not in message
    assert error.value.__cause__ is None and error.value.__suppress_context__  # no Slack response dump
    assert slack_server.messages == []


def test_rate_limit_waits_for_retry_after_and_a_503_is_looked_up_before_posting_again(
    slack_server: SlackServer, tmp_path: Path
) -> None:
    slack_server.fail_next(
        Fault(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}),
        Fault(503, {"ok": False, "error": "service_unavailable"}),
    )
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url, timeout=1)
    ts = deliver_message(client, memory_ledger(tmp_path), "summary", {"channel": "C0VOCWEEKLY", "text": "hi"})
    assert [m["ts"] for m in slack_server.messages] == [ts]
    # A 503 may mean "stored, then failed": the channel is searched before the second post.
    first, second, *searches, last = slack_server.requests
    assert first == second == last == "chat.postMessage"
    assert searches and set(searches) == {"conversations.history"}


def test_regression_retry_after_100000_fails_at_once_in_one_line_naming_the_cap(
    slack_server: SlackServer,
) -> None:
    slack_server.fail_next(Fault(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "100000"}))
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url, max_wait=300)
    with pytest.raises(SlackDeliveryError, match="^Slack kept rate-limiting the bot") as error:
        post_message(client, {"channel": "C0VOCWEEKLY", "text": "hi"})
    assert "VOC_MAX_RETRY_WAIT_SECONDS" in str(error.value) and "\n" not in str(error.value)
    assert slack_server.requests == ["chat.postMessage"] and slack_server.messages == []


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1:9/api/", id="connection-refused"),
        pytest.param("http://slack.invalid/api/", id="dns-failure"),
    ],
)
def test_regression_an_unreachable_slack_api_is_one_line_naming_the_url_setting(url: str) -> None:
    client = slack_client(SecretStr(VALID_TOKEN), url)
    with pytest.raises(SlackDeliveryError) as error:
        post_message(client, {"channel": "C0VOCWEEKLY", "text": "hi"})
    message = str(error.value)
    assert message.startswith(f"cannot reach the Slack API at {url}") and "\n" not in message
    assert message.endswith("check VOC_SLACK_API_URL") and VALID_TOKEN not in message


def test_ledger_remembers_deliveries_across_instances_per_channel_thread_and_week(tmp_path: Path) -> None:
    def ledger(channel: str, thread: str | None, week: date) -> DeliveryLedger:
        # A new storage block each time, as a new process would have.
        return DeliveryLedger(channel, thread, week, storage=LocalFileSystem(basepath=str(tmp_path)))

    week = date(2026, 11, 16)
    ledger("C1", None, week).record("summary", "1790000000.000001")
    assert ledger("C1", None, week).posted_ts("summary") == "1790000000.000001"
    assert ledger("C1", None, date(2026, 11, 9)).posted_ts("summary") is None
    assert ledger("C2", None, week).posted_ts("summary") is None
    assert ledger("C1", "1790000000.5", week).posted_ts("summary") is None


def summary_and_replies() -> list[SlackMessage]:
    return [SlackMessage(key=key, text=key, blocks=()) for key in ("summary", "reply-a-1", "reply-b-1")]


def memory_ledger(tmp_path: Path, thread: str | None = None) -> DeliveryLedger:
    storage = LocalFileSystem(basepath=str(tmp_path))
    return DeliveryLedger("C0VOCWEEKLY", thread, date(2026, 11, 16), storage=storage)


def test_replies_go_under_the_summary_and_a_second_delivery_posts_nothing(
    slack_server: SlackServer, tmp_path: Path
) -> None:
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url)
    ledger = memory_ledger(tmp_path)
    assert post_report(client, ledger, summary_and_replies(), "C0VOCWEEKLY", None) == (3, 0)
    summary, *replies = slack_server.messages
    assert "thread_ts" not in summary and [r["thread_ts"] for r in replies] == [summary["ts"]] * 2
    assert post_report(client, ledger, summary_and_replies(), "C0VOCWEEKLY", None) == (0, 3)
    assert len(slack_server.messages) == 3


def delivery_to(client: WebClient, ledger: DeliveryLedger) -> SlackDelivery:
    """The delivery of the ledger's report to C0VOCWEEKLY, as a run makes it (its lock is not taken here)."""
    return SlackDelivery(
        client=client,
        channel="C0VOCWEEKLY",
        thread_ts=None,
        ledger=ledger,
        max_wait=300,
        lock=ChannelLock("C0VOCWEEKLY", timeout=5),
    )


TABLE = {"report_week": "2026-11-16", "categories": []}


def test_force_posts_everything_again_in_a_new_thread(slack_server: SlackServer, tmp_path: Path) -> None:
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url)
    delivery_to(client, memory_ledger(tmp_path)).send(summary_and_replies(), TABLE, force=False)
    forced = delivery_to(client, memory_ledger(tmp_path))
    assert forced.delivered(force=True) is None
    assert forced.send(summary_and_replies(), TABLE, force=True) == (3, 0)
    assert len(slack_server.threads()) == 2
    assert memory_ledger(tmp_path).posted_ts("summary") == slack_server.messages[3]["ts"]  # the newest


def test_regression_a_forced_delivery_that_died_part_way_is_completed_in_its_thread_by_the_next_run(
    slack_server: SlackServer, tmp_path: Path
) -> None:
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url)
    delivery_to(client, memory_ledger(tmp_path)).send(summary_and_replies(), TABLE, force=False)
    slack_server.fail_next(None, Fault(200, {"ok": False, "error": "fatal_error"}))  # dies after its summary
    forced = delivery_to(client, memory_ledger(tmp_path))
    assert forced.delivered(force=True) is None
    with pytest.raises(SlackDeliveryError):
        forced.send(summary_and_replies(), TABLE, force=True)

    after = delivery_to(client, memory_ledger(tmp_path))  # the next normal run
    assert after.delivered(force=False) is None  # not "already in Slack": the forced thread is unfinished
    assert after.send(summary_and_replies(), TABLE, force=False) == (2, 1)
    forced_summary, *replies = slack_server.messages[3:]
    assert [r["thread_ts"] for r in replies] == [forced_summary["ts"]] * 2
    assert [r["text"] for r in replies] == ["reply-a-1", "reply-b-1"]
    assert delivery_to(client, memory_ledger(tmp_path)).delivered(force=False) == TABLE


def test_a_given_thread_receives_the_summary_and_the_replies(
    slack_server: SlackServer, tmp_path: Path
) -> None:
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url)
    post_report(
        client, memory_ledger(tmp_path, "1790000000.5"), summary_and_replies(), "C0VOCWEEKLY", "1790000000.5"
    )
    assert [m["thread_ts"] for m in slack_server.messages] == ["1790000000.5"] * 3


def test_token_comes_from_the_named_slack_credentials_block(prefect_server: None, tmp_path: Path) -> None:
    from prefect_slack import SlackCredentials

    from flows.errors import VocError
    from flows.slack.client import slack_token
    from tests.factories import make_settings

    SlackCredentials(token=VALID_TOKEN).save("voc-weekly-test-slack", overwrite=True)
    settings = make_settings(tmp_path, None, VOC_SLACK_CREDENTIALS_BLOCK="voc-weekly-test-slack")
    token = slack_token(settings)
    assert token is not None and token.get_secret_value() == VALID_TOKEN
    with pytest.raises(
        VocError, match="^VOC_SLACK_CREDENTIALS_BLOCK=missing-block: no such SlackCredentials"
    ):
        slack_token(make_settings(tmp_path, None, VOC_SLACK_CREDENTIALS_BLOCK="missing-block"))


def stored_messages(server: SlackServer) -> list[str]:
    """The text of every message Slack stored, in order."""
    return [m["text"] for m in server.messages]


@pytest.mark.parametrize(
    ("fault_on", "fault"),
    [
        pytest.param(0, stored_then_slow(3), id="summary-answered-after-the-timeout"),
        pytest.param(1, stored_then_dropped(), id="reply-connection-dropped"),
        pytest.param(2, Fault(500, {"ok": False, "error": "internal_error"}, store=True), id="reply-5xx"),
    ],
)
def test_regression_a_post_slack_stored_without_answering_is_found_not_posted_again(
    slack_server: SlackServer, tmp_path: Path, fault_on: int, fault: Fault
) -> None:
    slack_server.fail_next(*[None] * fault_on, fault)
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url, timeout=1)
    ledger = memory_ledger(tmp_path)
    assert post_report(client, ledger, summary_and_replies(), "C0VOCWEEKLY", None) == (3, 0)
    assert stored_messages(slack_server) == ["summary", "reply-a-1", "reply-b-1"]
    lookup = "conversations.history" if fault_on == 0 else "conversations.replies"
    assert slack_server.requests.count(lookup) == 1
    summary, *replies = slack_server.messages
    assert [r["thread_ts"] for r in replies] == [summary["ts"]] * 2
    assert ledger.posted_ts("summary") == summary["ts"]


def test_regression_a_post_a_slow_slack_stores_after_the_client_gave_up_is_found_not_posted_again(
    slack_server: SlackServer, tmp_path: Path
) -> None:
    """The search for an unanswered post goes on until the client's timeout (and a margin) has passed
    since the attempt: it once gave up a second later, before a slow Slack had stored the message."""
    slack_server.fail_next(stored_late(2.5))
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url, timeout=1)
    assert post_report(client, memory_ledger(tmp_path), summary_and_replies(), "C0VOCWEEKLY", None) == (3, 0)
    assert stored_messages(slack_server) == ["summary", "reply-a-1", "reply-b-1"]
    assert slack_server.requests.count("chat.postMessage") == 3


def test_regression_a_timed_out_summary_and_a_rerun_leave_one_copy_of_each_message(
    slack_server: SlackServer, tmp_path: Path
) -> None:
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url, timeout=1)
    slack_server.fail_next(stored_then_slow(3))
    first_run = memory_ledger(tmp_path)
    summary_args = summary_and_replies()[0].post_args("C0VOCWEEKLY")
    with pytest.raises(SlackDeliveryError, match="^Slack did not confirm a message") as error:
        deliver_message(client, first_run, "summary", summary_args, attempts=1)  # then the run died
    assert "\n" not in str(error.value)

    rerun = memory_ledger(tmp_path)  # a new process reads the same ledger
    assert post_report(client, rerun, summary_and_replies(), "C0VOCWEEKLY", None) == (3, 0)
    assert stored_messages(slack_server) == ["summary", "reply-a-1", "reply-b-1"]
    assert slack_server.requests.count("chat.postMessage") == 3  # the summary was found, not reposted


def test_every_message_carries_its_full_ledger_key_as_slack_metadata(
    slack_server: SlackServer, tmp_path: Path
) -> None:
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url)
    post_report(client, memory_ledger(tmp_path), summary_and_replies(), "C0VOCWEEKLY", None)
    assert [m["metadata"] for m in slack_server.messages] == [
        {
            "event_type": "voc_weekly_message",
            "event_payload": {"key": f"voc-weekly-deliveries/C0VOCWEEKLY/channel/2026-11-16/{key}"},
        }
        for key in ("summary", "reply-a-1", "reply-b-1")
    ]
