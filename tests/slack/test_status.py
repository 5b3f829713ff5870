"""The ⏳ message a run edits when it ends, against the loopback Slack server (chat.update,
chat.getPermalink); the flow runs that do it are in tests/test_run_status.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from prefect.filesystems import LocalFileSystem
from pydantic import SecretStr
from slack_sdk import WebClient

from flows.slack.client import slack_client
from flows.slack.delivery import SlackDelivery
from flows.slack.ledger import DeliveryLedger
from flows.slack.lock import ChannelLock
from flows.slack.messages import SUMMARY_KEY
from flows.slack.status import failed_text, update_status
from tests.servers.slack import VALID_TOKEN, SlackServer

CHANNEL = "C0VOCWEEKLY"
MENTION = "1790000000.999999"
HOURGLASS = ":hourglass_flowing_sand: 주간 VOC 변화를 확인 중입니다."


@pytest.fixture
def client(slack_server: SlackServer) -> WebClient:
    return slack_client(SecretStr(VALID_TOKEN), slack_server.url)


def delivery_in_thread(client: WebClient, tmp_path: Path) -> SlackDelivery:
    storage = LocalFileSystem(basepath=str(tmp_path))
    ledger = DeliveryLedger(CHANNEL, MENTION, date(2026, 11, 16), storage=storage)
    return SlackDelivery(client, CHANNEL, MENTION, ledger, 300, ChannelLock(CHANNEL, timeout=5))


def hourglass(client: WebClient) -> str:
    """The bot's answer to a mention, as the bot posts it: its ts is the run's status_ts."""
    return str(client.chat_postMessage(channel=CHANNEL, thread_ts=MENTION, text=HOURGLASS)["ts"])


@pytest.mark.parametrize(
    ("posted", "quiet", "expected"),
    [
        (4, False, ":white_check_mark: 주간 VOC 리포트를 올렸습니다. <{link}|요약 보기>"),
        (
            0,
            False,
            ":information_source: 이 주의 리포트는 이미 올라가 있어 새로 올리지 않았습니다. "
            "<{link}|요약 보기>",
        ),
        (
            0,
            True,
            ":white_check_mark: 눈에 띄는 변화가 없어 리포트를 올리지 않았습니다 "
            "(VOC_POST_QUIET_WEEKS=false).",
        ),
    ],
    ids=["done", "already-posted", "quiet-week"],
)
def test_the_status_message_says_how_the_run_ended_with_the_summarys_link(
    slack_server: SlackServer, client: WebClient, tmp_path: Path, posted: int, quiet: bool, expected: str
) -> None:
    status_ts = hourglass(client)
    delivery = delivery_in_thread(client, tmp_path)
    summary_ts = str(client.chat_postMessage(channel=CHANNEL, thread_ts=MENTION, text="summary")["ts"])
    delivery.ledger.record(SUMMARY_KEY, summary_ts)
    delivery.say_status(status_ts, posted=posted, quiet=quiet)
    link = (
        f"https://voc-test.slack.com/archives/{CHANNEL}/p{summary_ts.replace('.', '')}"
        f"?thread_ts={MENTION}&cid={CHANNEL}"
    )
    assert slack_server.edits == [{"channel": CHANNEL, "ts": status_ts, "text": expected.format(link=link)}]


def test_without_a_status_ts_nothing_is_edited(
    slack_server: SlackServer, client: WebClient, tmp_path: Path
) -> None:
    delivery_in_thread(client, tmp_path).say_status(None, posted=4, quiet=False)
    assert slack_server.requests == []


def test_a_status_message_that_cannot_be_edited_leaves_the_outcome_alone(
    slack_server: SlackServer, client: WebClient
) -> None:
    update_status(client, CHANNEL, "1790000000.000404", "done")  # deleted meanwhile: logged, not raised
    assert slack_server.requests == ["chat.update"] and slack_server.edits == []


def test_the_failed_status_is_one_line_with_the_flow_run_to_look_at_and_data_escaped() -> None:
    run_id = UUID("12345678-1234-5678-1234-567812345678")
    text = failed_text("원본 <!channel> 데이터가 없습니다.", "brave-otter", run_id)
    assert text == (
        ":x: 리포트를 만들지 못했습니다: 원본 &lt;!channel&gt; 데이터가 없습니다. "
        f"(실행 기록: Prefect flow run `brave-otter`, ID `{run_id}`)"
    )
