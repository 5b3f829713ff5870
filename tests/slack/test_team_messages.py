"""The team's parts of the Slack messages (no Slack needed): owners' mentions, the snoozed line, the
feedback footer and the escalation notice, always valid Block Kit."""

from __future__ import annotations

import re
from datetime import date

import pytest
from slack_sdk.models.blocks import Block

from flows.llm.followups import FollowUp
from flows.report import CategoryOwners, FeedbackWeek, WeeklyReport
from flows.slack.messages import (
    SECTION_TEXT_LIMIT,
    SlackMessage,
    build_follow_up_messages,
    build_summary,
    feedback_footer,
    owner_mentions,
    snoozed_line,
)
from tests.factories import change, levels, weekly_report

SNOOZE = {"is_snoozed": True, "snoozed_until": date(2026, 3, 2)}


def texts(message: SlackMessage) -> str:
    parts = [message.text]
    for block in message.blocks:
        parts += [block.get("text", {}).get("text", "")] + [f["text"] for f in block.get("fields", [])]
        parts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(parts)


def valid(message: SlackMessage) -> SlackMessage:
    for block in message.blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    return message


@pytest.mark.parametrize(
    ("owners", "mentions"),
    [
        ("U0ALICE W0BOB S0TEAM", "<@U0ALICE> <@W0BOB> <!subteam^S0TEAM>"),
        ("  U0ALICE\tU0ALICE  ", "<@U0ALICE>"),
        ("<!channel> @here U0OK u0lower U0X|x <@U0EVIL> S0ok", "<@U0OK>"),
        ("", ""),
        (None, ""),
    ],
)
def test_only_slack_ids_become_mentions(owners: str | None, mentions: str) -> None:
    assert owner_mentions(owners) == mentions


def test_a_reply_starts_by_asking_its_owners_and_only_its_first_message_does() -> None:
    flag = change("a / b / c", 10, 30, "CRITICAL")
    long_body = "\n\n".join("가" * 2900 for _ in range(60))
    first, *rest = (
        valid(m) for m in build_follow_up_messages(FollowUp(flag, long_body, "builtin"), "U0A S0B")
    )
    assert first.text.startswith("<@U0A> <!subteam^S0B> [CRITICAL] a / b / c")
    assert first.blocks[0]["text"]["text"].startswith("<@U0A> <!subteam^S0B>\n*[CRITICAL] a / b / c*")
    assert rest and not [m for m in rest if "<@" in texts(m) or "subteam" in texts(m)]
    (no_owner,) = build_follow_up_messages(FollowUp(flag, "분석", "builtin"))
    assert no_owner.text.startswith("[CRITICAL]") and "<@" not in texts(no_owner)


def test_the_summary_pings_no_one_even_with_owners_and_hostile_labels() -> None:
    flag = change("<!channel> / <@U0EVIL> / <!subteam^S0EVIL>", 10, 30, "CRITICAL")
    report = weekly_report([flag]).model_copy(
        update={"owners": (CategoryOwners(**levels(flag.category_label), owners="U0OWNER"),)}
    )
    summary = valid(build_summary(report))
    assert not re.search(r"<[@!#]", texts(summary))


def snoozed_report(*changes: object, feedback: tuple[FeedbackWeek, ...] = ()) -> WeeklyReport:
    return weekly_report(list(changes)).model_copy(update={"feedback": feedback})  # type: ignore[arg-type]


def test_snoozed_flags_are_counted_and_listed_on_one_line_not_among_the_flags() -> None:
    snoozed = change("a / b / <c>", 10, 30, "CRITICAL", **SNOOZE)
    awake = change("x / y / z", 10, 30, "CRITICAL")
    summary = valid(build_summary(snoozed_report(snoozed, awake)))
    body = texts(summary)
    assert "🔕 숨김 중: a / b / &lt;c&gt; (3월 2일까지)" in body
    assert "CRITICAL 2건" in body
    fields = [f["text"] for block in summary.blocks for f in block.get("fields", [])]
    assert [text for text in fields if "x / y / z" in text] and not [
        text for text in fields if "a / b" in text
    ]
    assert snoozed_line(snoozed_report(awake)) is None


def test_many_snoozed_flags_stay_on_one_line_within_slack_s_limit() -> None:
    flags = [
        change(f"카테고리 {n} / " + "긴 이름" * 20 + f" / {n}", 10, 30, "CRITICAL", **SNOOZE)
        for n in range(40)
    ]
    line = snoozed_line(snoozed_report(*flags))
    assert line is not None and "\n" not in line
    assert len(line) <= SECTION_TEXT_LIMIT and re.search(r" 외 \d+건$", line)
    valid(build_summary(snoozed_report(*flags)))


def week(start: str, **counts: int) -> FeedbackWeek:
    replies = max(counts.values(), default=0)
    return FeedbackWeek(report_week_start=date.fromisoformat(start), replies_with_feedback=replies, **counts)


@pytest.mark.parametrize(
    ("weeks", "footer"),
    [
        ((), None),
        ((week("2026-11-02"),), None),
        ((week("2026-11-02", useful=1), week("2026-11-09", false_alarm=1)), "👍 1 · 👎 1 (유효 비율 50%)"),
        ((week("2026-11-09", useful=2, false_alarm=1, handled=3),), "👍 2 · 👎 1 (유효 비율 67%)"),
        ((week("2026-11-09", handled=1, snoozed=1),), "👍 0 · 👎 0 (유효 비율 -)"),
    ],
)
def test_the_footer_shows_the_team_s_verdicts_when_there_are_any(
    weeks: tuple[FeedbackWeek, ...], footer: str | None
) -> None:
    report = snoozed_report(change("a / b / c", 10, 30, "CRITICAL"), feedback=weeks)
    expected = None if footer is None else f"지난 12주 팀 피드백: {footer}"
    assert feedback_footer(report) == expected
    summary = texts(valid(build_summary(report)))
    assert (expected in summary) if expected else "팀 피드백" not in summary


def test_a_snoozed_flag_gets_no_reply_or_analysis_and_one_that_got_worse_says_so() -> None:
    snoozed = change("a / b / c", 10, 30, "CRITICAL", **SNOOZE)
    worse = change(
        "d / e / f", 10, 30, "CRITICAL", snooze_ended_by_escalation=True, snoozed_until=date(2026, 3, 2)
    )
    report = snoozed_report(snoozed, worse)
    assert report.follow_ups_for("all") == [worse] and report.follow_ups_for("significant") == []
    (reply,) = build_follow_up_messages(FollowUp(worse, "분석", "builtin"))
    assert "숨김 해제: 악화" in reply.blocks[0]["text"]["text"]
