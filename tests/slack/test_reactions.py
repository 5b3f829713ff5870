"""Reading the team's feedback from the loopback Slack server: which reactions count, whose, and the
faults that must never stop a report (they end as one short FeedbackReadError)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
from pydantic import SecretStr

from flows.feedback import feedback_reaction
from flows.llm.followups import builtin_follow_up
from flows.outcome import report_summary
from flows.settings import PACKAGE_ROOT, VocSettings
from flows.slack.client import slack_client
from flows.slack.delivery import SlackDelivery
from flows.slack.messages import build_follow_up_messages, build_summary
from flows.slack.reactions import FeedbackReadError, read_reactions
from tests.factories import REPORT_WEEK, change, weekly_report
from tests.servers.slack import BOT_USER_ID, VALID_TOKEN, Fault, SlackServer

CHANNEL = "C0VOCWEEKLY"
LOGIN, CANCEL = "개인회원 / 계정 / 로그인 오류", "개인회원 / 지원 / 지원 취소"
LONG_ANALYSIS = "\n\n".join(f"문단 {n} " + "가" * 2900 for n in range(60))  # several reply messages


@pytest.fixture
def delivered(prefect_server: None, slack_server: SlackServer, tmp_path: Path) -> Iterator[dict[str, str]]:
    """REPORT_WEEK's report delivered to CHANNEL (ledger in a temporary result storage): the ts of
    each category's reply, its first message, and 'login-2' for the second message of a long one."""
    report = weekly_report([change(LOGIN, 10, 30, "CRITICAL"), change(CANCEL, 10, 12, "MONITOR")])
    follow_ups = [builtin_follow_up(report, c) for c in report.follow_ups]
    login = follow_ups[0]
    follow_ups[0] = type(login)(category=login.category, body=LONG_ANALYSIS, origin="builtin")
    messages = [build_summary(report)] + [m for f in follow_ups for m in build_follow_up_messages(f)]
    settings = VocSettings(_env_file=None, VOC_SLACK_API_URL=slack_server.url)
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: tmp_path / "storage"}):
        delivery = SlackDelivery.for_week(settings, SecretStr(VALID_TOKEN), REPORT_WEEK, CHANNEL, None)
        delivery.send(messages, report_summary(report), force=False)
        replies = slack_server.messages[1:]
        cancel = next(m for m in replies if "지원 취소" in m["blocks"][0].get("text", {}).get("text", ""))
        yield {"login": replies[0]["ts"], "login-2": replies[1]["ts"], "cancel": cancel["ts"]}


def read(
    slack_server: SlackServer, weeks: list[date] | None = None
) -> tuple[list[tuple[str, ...]], list[date]]:
    client = slack_client(SecretStr(VALID_TOKEN), slack_server.url, max_wait=10)
    rows, read_weeks = read_reactions(client, CHANNEL, weeks or [REPORT_WEEK], now=datetime(2026, 11, 24))
    found = [(r.category3, r.reaction, r.user_id, r.message_ts or "") for r in rows]
    return sorted(found), read_weeks


def test_feedback_is_the_four_reactions_of_people_on_every_reply_message(
    slack_server: SlackServer, delivered: dict[str, str]
) -> None:
    slack_server.react(delivered["login"], "+1", "U0ALICE")
    slack_server.react(delivered["login"], "+1::skin-tone-3", "U0ALICE")  # the same 👍, another tone
    slack_server.react(delivered["login"], "+1", BOT_USER_ID)  # the bot's own: not feedback
    slack_server.react(delivered["login-2"], "white_check_mark", "U0BOB")  # the reply's second message
    slack_server.react(delivered["cancel"], "no_bell", "U0CAROL")
    slack_server.react(delivered["cancel"], "-1", "U0DAVE")
    slack_server.react(delivered["cancel"], "tada", "U0DAVE")  # not feedback
    rows, weeks = read(slack_server)
    assert weeks == [REPORT_WEEK]
    assert rows == [
        ("로그인 오류", "+1", "U0ALICE", delivered["login"]),
        ("로그인 오류", "white_check_mark", "U0BOB", delivered["login-2"]),
        ("지원 취소", "-1", "U0DAVE", delivered["cancel"]),
        ("지원 취소", "no_bell", "U0CAROL", delivered["cancel"]),
    ]


def test_a_reaction_slack_lists_only_in_part_is_read_in_full(
    slack_server: SlackServer, delivered: dict[str, str]
) -> None:
    slack_server.reaction_users_listed = 1
    for user in ("U0A", "U0B", "U0C"):
        slack_server.react(delivered["cancel"], "-1", user)
    rows, _ = read(slack_server)
    assert [user for _, _, user, _ in rows] == ["U0A", "U0B", "U0C"]
    assert slack_server.requests.count("reactions.get") == 1


def test_a_week_never_delivered_to_the_channel_is_not_read_and_not_replaced(
    slack_server: SlackServer, delivered: dict[str, str]
) -> None:
    rows, weeks = read(slack_server, [date(2026, 11, 9), REPORT_WEEK])
    assert (rows, weeks) == ([], [REPORT_WEEK])  # 11-09 keeps what the warehouse has


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        ([None, *[Fault(503, {"ok": False, "error": "service_unavailable"})] * 4], "HTTP 503"),
        ([None, Fault(200, {"ok": False, "error": "missing_scope", "needed": "channels:history"})],
         "missing_scope (needs channels:history)"),
        ([Fault(200, {"ok": False, "error": "invalid_auth"})], "invalid_auth"),
    ],
)  # fmt: skip
def test_slack_faults_end_as_one_short_reason(
    slack_server: SlackServer, delivered: dict[str, str], faults: list[Fault | None], reason: str
) -> None:
    slack_server.react(delivered["login"], "+1", "U0ALICE")
    slack_server.fail_next(*faults)
    with pytest.raises(FeedbackReadError) as error:
        read(slack_server)
    assert str(error.value) == reason


def test_reading_the_full_list_needs_reactions_read(
    slack_server: SlackServer, delivered: dict[str, str]
) -> None:
    slack_server.reaction_users_listed = 0
    slack_server.react(delivered["login"], "+1", "U0ALICE")
    # auth.test and conversations.replies pass; reactions.get is refused for want of the scope.
    slack_server.fail_next(
        None, None, Fault(200, {"ok": False, "error": "missing_scope", "needed": "reactions:read"})
    )
    with pytest.raises(FeedbackReadError, match=r"^missing_scope \(needs reactions:read\)$"):
        read(slack_server)


@pytest.mark.parametrize(
    ("name", "feedback"),
    [("+1", "+1"), ("thumbsup", "+1"), ("+1::skin-tone-6", "+1"), ("-1::skin-tone-2", "-1"),
     ("white_check_mark", "white_check_mark"), ("no_bell", "no_bell"), ("heart", None), ("bell", None)],
)  # fmt: skip
def test_reaction_names_fold_skin_tones_and_aliases(name: str, feedback: str | None) -> None:
    assert feedback_reaction(name) == feedback


def test_the_app_asks_for_the_scope_that_reads_reactions() -> None:
    manifest = yaml.safe_load((PACKAGE_ROOT / "slack-app-manifest.yaml").read_text(encoding="utf-8"))
    assert "reactions:read" in manifest["oauth_config"]["scopes"]["bot"]
    assert "reactions:read" in (PACKAGE_ROOT / "README.md").read_text(encoding="utf-8")
