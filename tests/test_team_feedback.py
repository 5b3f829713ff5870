"""The team loop end to end (issue 18): owners asked in the replies, reactions read back as feedback,
a snooze that holds until the category gets worse, and the footer's measured precision.

dbt on DuckDB, the loopback Slack and LaaS servers and a Prefect test server, over three reported
weeks W, W+1, W+2 of one history. The runs happen once, in order, in a module fixture (each builds
the dbt project); the tests below assert on what each left behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from prefect.states import State

from flows.flow import voc_weekly_report
from flows.outcome import Outcome
from tests.flow_runs import run_records, scenario
from tests.servers.laas import API_KEY as LAAS_KEY
from tests.servers.laas import LaasServer
from tests.servers.slack import BOT_USER_ID, Fault, SlackServer
from tests.sources import label, weekly_history_rows, write_source

W = date(2026, 11, 9)
W1, W2 = W + timedelta(weeks=1), W + timedelta(weeks=2)

# One category per level of the shipped example seed (dbt_project/seeds/voc_category_owners.csv).
SNOOZED = ("개인회원", "계정", "로그인 오류")  # its three levels: U0DEMOAUTH1 U0DEMOAUTH2
FALSE_ALARM = ("기업회원", "결제", "결제 오류")  # category1 / category2: S0DEMOBILLING
USEFUL = ("기업회원", "채용공고", "공고 승인 지연")  # category1: S0DEMOBIZCS
OTHER = ("개인회원", "이벤트", "이벤트 당첨 문의")  # the catch-all: S0DEMOVOC
HOSTILE = ("<!channel> 공지", "<@U0EVIL>", "<!subteam^S0EVIL|evil>")  # the catch-all too
OWNERS = {
    SNOOZED: "<@U0DEMOAUTH1> <@U0DEMOAUTH2>",
    FALSE_ALARM: "<!subteam^S0DEMOBILLING>",
    USEFUL: "<!subteam^S0DEMOBIZCS>",
    OTHER: "<!subteam^S0DEMOVOC>",
    HOSTILE: "<!subteam^S0DEMOVOC>",
}
STEADY = [
    ("개인회원", "이력서", "이력서 작성"),
    ("개인회원", "지원", "지원 현황 문의"),
    ("기업회원", "지원자 관리", "지원자 열람"),
]
HISTORY = {
    # 20 a week, then +50% in W (CRITICAL), 40 in W+1 (CRITICAL, but not 1.5x W: still snoozed),
    # 60 in W+2 (twice W, significant: the snooze ends).
    SNOOZED: [20] * 9 + [30, 40, 60],
    FALSE_ALARM: [20] * 9 + [30, 30, 30],
    USEFUL: [20] * 9 + [30, 30, 30],
    OTHER: [20] * 9 + [30, 40, 40],  # CRITICAL in W and W+1: a reply (and an LLM call) both weeks
    HOSTILE: [20] * 9 + [30, 30, 30],
    **{category: [20, 22, 19, 21, 20, 18, 22, 20, 21, 19, 20, 21] for category in STEADY},
}
HUMANS = {"no_bell": "U0ALICE", "-1": "U0BOB", "+1": "U0CAROL"}
MENTION = re.compile(r"<[@!#][^>]*>")


@dataclass
class Run:
    state: State[Any]
    messages: list[dict[str, Any]]  # what this run posted
    llm_prompts: list[str]
    feedback: list[tuple[Any, ...]]  # voc_flag_feedback after the run

    @property
    def outcome(self) -> Outcome:
        result = self.state.result()
        assert isinstance(result, Outcome)
        return result

    @property
    def summary(self) -> str:
        return "\n".join(_texts(self.messages[0]))

    def reply(self, category: tuple[str, str, str]) -> dict[str, Any] | None:
        """The first message of the category's reply, if this run posted one."""
        heading = f"] {_escaped(label(category))}*"
        return next((m for m in self.messages[1:] if heading in m["blocks"][0]["text"]["text"]), None)


@dataclass
class Loop:
    week: Run
    snoozed: Run
    escalated: Run
    forced: Run
    rerun: Run
    requests_of_escalated: list[str] = field(default_factory=list)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _texts(message: dict[str, Any]) -> list[str]:
    """Every piece of text Slack renders or notifies with: the fallback and every block's text."""
    texts = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [f["text"] for f in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return texts


def feedback_rows(warehouse: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse)) as con:  # dbt-duckdb may hold it open in this process
        return con.execute(
            """select report_week_start, category1, category2, category3, reaction, user_id
            from voc_flag_feedback order by reaction, user_id"""
        ).fetchall()


@pytest.fixture(scope="module")
def loop(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> Loop:
    """W posts; the team reacts; W+1 runs; W+2 runs while Slack fails the reading; the 🔕 is taken
    back and W+1 is forced again; then W+1 once more without force."""
    folder = tmp_path_factory.mktemp("team")
    source = write_source(folder / "history.parquet", weekly_history_rows(HISTORY, W2.isoformat()))
    warehouse = source.parent / "warehouse.duckdb"
    laas = LaasServer().start()
    env = {"LAAS_API_KEY": LAAS_KEY, "LAAS_BASE_URL": laas.url}
    try:
        with scenario(folder, source, **env) as slack:

            def run(week: date, **parameters: Any) -> Run:
                posted, prompts = len(slack.messages), len(laas.requests)
                state = voc_weekly_report(week_start=week, **parameters, return_state=True)
                assert state.is_completed(), state.message
                new_prompts = [request.prompt for request in laas.requests[prompts:]]
                return Run(state, slack.messages[posted:], new_prompts, feedback_rows(warehouse))

            week = run(W)
            react(slack, week)
            snoozed = run(W1)
            # Slack answers auth.test, then fails every try of the first thread read (503).
            slack.fail_next(None, *[Fault(503, {"ok": False, "error": "service_unavailable"})] * 4)
            before = len(slack.requests)
            escalated = run(W2)
            requests = slack.requests[before:]
            reply = week.reply(SNOOZED)
            assert reply is not None
            slack.unreact(reply["ts"], "no_bell", HUMANS["no_bell"])
            forced = run(W1, force=True)
            rerun = run(W1)
            return Loop(week, snoozed, escalated, forced, rerun, requests)
    finally:
        laas.stop()


def react(slack: SlackServer, week: Run) -> None:
    """The team's reactions on week W's replies, one from the bot itself and one that is no feedback."""
    replies = {category: week.reply(category) for category in (SNOOZED, FALSE_ALARM, USEFUL)}
    ts = {category: reply["ts"] for category, reply in replies.items() if reply is not None}
    slack.react(ts[SNOOZED], "no_bell", HUMANS["no_bell"])
    slack.react(ts[FALSE_ALARM], "-1", HUMANS["-1"])
    slack.react(ts[USEFUL], "+1", HUMANS["+1"])
    slack.react(ts[USEFUL], "+1", BOT_USER_ID)  # the bot's own reaction is no feedback
    slack.react(ts[USEFUL], "eyes", "U0DAVE")  # nor is any other reaction


def test_week_w_asks_each_flag_s_owners_and_the_summary_pings_no_one(loop: Loop) -> None:
    flagged = [SNOOZED, FALSE_ALARM, USEFUL, OTHER, HOSTILE]
    for category in flagged:
        reply = loop.week.reply(category)
        assert reply is not None, label(category)
        heading = reply["blocks"][0]["text"]["text"]
        assert heading.startswith(OWNERS[category] + "\n"), heading
        assert reply["text"].startswith(OWNERS[category] + " ")
    assert not MENTION.search(loop.week.summary)


def test_the_only_pings_are_owners_even_for_labels_that_look_like_mentions(loop: Loop) -> None:
    every_run = [loop.week, loop.snoozed, loop.escalated, loop.forced]
    allowed = {mention for owners in OWNERS.values() for mention in owners.split()}
    for run in every_run:
        for message in run.messages:
            for text in _texts(message):
                assert set(MENTION.findall(text)) <= allowed, text
    hostile = loop.week.reply(HOSTILE)
    assert hostile is not None
    assert (
        "&lt;!channel&gt; 공지 / &lt;@U0EVIL&gt; / &lt;!subteam^S0EVIL|evil&gt;"
        in hostile["blocks"][0]["text"]["text"]
    )


def test_the_snoozed_category_gets_no_reply_and_no_llm_call_but_is_on_the_snoozed_line(loop: Loop) -> None:
    run = loop.snoozed
    assert run.reply(SNOOZED) is None
    assert not [prompt for prompt in run.llm_prompts if label(SNOOZED) in prompt]
    assert run.reply(OTHER) is not None
    assert [prompt for prompt in run.llm_prompts if label(OTHER) in prompt]  # the flag that is not snoozed
    snoozed_until = W + timedelta(weeks=4)  # 2026-12-07: four reported weeks after W
    assert f"🔕 숨김 중: {label(SNOOZED)} (12월 7일까지)" in run.summary
    assert "CRITICAL 2건" in run.summary  # still counted and classified (with OTHER)...
    fields = [f["text"] for b in run.messages[0]["blocks"] for f in b.get("fields", [])]
    assert not [text for text in fields if label(SNOOZED) in text]  # ...but not listed among the flags
    assert snoozed_until.weekday() == 0


def test_the_footer_counts_the_team_s_thumbs_without_the_bot_s(loop: Loop) -> None:
    assert "지난 12주 팀 피드백: 👍 1 · 👎 1 (유효 비율 50%)" in loop.snoozed.summary
    assert "팀 피드백" not in loop.week.summary  # nothing to say before anyone reacted


def test_voc_flag_feedback_holds_exactly_the_three_human_reactions(loop: Loop) -> None:
    assert loop.week.feedback == []  # W read the weeks before it: nothing delivered there
    assert loop.snoozed.feedback == [
        (W, *USEFUL, "+1", HUMANS["+1"]),
        (W, *FALSE_ALARM, "-1", HUMANS["-1"]),
        (W, *SNOOZED, "no_bell", HUMANS["no_bell"]),
    ]


def test_a_category_that_got_worse_is_unsnoozed_and_says_so(loop: Loop) -> None:
    reply = loop.escalated.reply(SNOOZED)
    assert reply is not None
    assert "숨김 해제: 악화" in reply["blocks"][0]["text"]["text"]
    assert "🔕 숨김 중" not in loop.escalated.summary
    assert [prompt for prompt in loop.escalated.llm_prompts if label(SNOOZED) in prompt]


def test_a_slack_error_while_reading_reactions_never_stops_the_report(loop: Loop) -> None:
    run = loop.escalated
    assert run.outcome.posted == len(run.messages) > 1  # the report went out all the same
    assert loop.requests_of_escalated[:5] == ["auth.test"] + ["conversations.replies"] * 4
    note = "team feedback not read from Slack (HTTP 503): the last run's feedback is kept"
    assert note in (run.state.message or "")
    logs, _ = run_records(run.state)
    warnings = [line for line in logs.splitlines() if line.startswith("team feedback not read")]
    assert warnings == [note] and "Traceback" not in logs
    assert run.feedback == loop.snoozed.feedback  # nothing lost: the snooze still decided W+2


def test_taking_the_snooze_back_and_forcing_the_week_again_brings_the_reply_back(loop: Loop) -> None:
    reply = loop.forced.reply(SNOOZED)
    assert reply is not None and "숨김 해제" not in reply["blocks"][0]["text"]["text"]
    assert "🔕 숨김 중" not in loop.forced.summary
    assert [row[4] for row in loop.forced.feedback] == ["+1", "-1"]  # the 🔕 is gone from the table


def test_a_rerun_of_a_delivered_week_posts_nothing_twice(loop: Loop) -> None:
    assert loop.rerun.messages == []
    assert "already in Slack" in (loop.rerun.state.message or "")
