"""The team loop end to end (issue 18): owners asked in the replies, reactions read back as feedback,
a snooze that holds until the category gets worse, and the footer's measured precision.

dbt on DuckDB, the loopback Slack and LaaS servers and a Prefect test server, over three reported
weeks W, W+1, W+2 of one history. The runs happen once, in order, in a module fixture (each builds
the dbt project); the tests below assert on what each left behind.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from prefect.states import State
from typer.testing import CliRunner

from flows.cli import app
from flows.flow import voc_weekly_report
from flows.outcome import Outcome
from tests.flow_runs import CHANNEL, run_records, scenario
from tests.servers.laas import API_KEY as LAAS_KEY
from tests.servers.laas import LaasServer
from tests.servers.slack import BOT_USER_ID, VALID_TOKEN, Fault, SlackServer
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
    env: dict[str, str]  # the runs' settings, for the commands run afterwards
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
    settings = {
        "VOC_HOME": str(folder / ".voc"),
        "VOC_SOURCE_PATH": str(source),
        "VOC_DUCKDB_PATH": str(warehouse),
    }
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
            return Loop(week, snoozed, escalated, forced, rerun, settings, requests)
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


def test_the_feedback_command_prints_each_week_s_flags_and_verdicts(loop: Loop) -> None:
    args = ["feedback", "--weeks", "2", "--week", W1.isoformat()]
    result = CliRunner().invoke(app, args, env={**loop.env, "COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    cells = [[cell.strip() for cell in line.strip("│").split("│")] for line in result.output.splitlines()]
    rows = {
        row[0]: dict(
            zip(
                ("flags", "sig", "snoozed", "replies", "answered", "+1", "-1", "ok", "bell"),
                row[1:],
                strict=True,
            )
        )
        for row in cells
        if len(row) == 10
    }
    # As the forced W+1 run left it: W's replies carry 👍 1 and 👎 1 (the 🔕 was taken back).
    week = rows[W.isoformat()]
    assert (week["flags"], week["replies"], week["answered"], week["+1"], week["-1"], week["bell"]) == (
        "5",
        "5",
        "2",
        "1",
        "1",
        "0",
    )
    assert rows[W1.isoformat()]["flags"] == "2" and rows["total"]["+1"] == "1"
    assert "유효 비율 (👍 / (👍 + 👎)) 50%" in result.output


def test_the_backtest_shows_the_team_s_verdicts_beside_the_rules_flags(loop: Loop, tmp_path: Path) -> None:
    args = ["backtest", "--weeks", "3", "--week", W2.isoformat(), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args, env=loop.env)
    assert result.exit_code == 0, result.output
    with (tmp_path / f"backtest-{W2.isoformat()}-3w.csv").open(encoding="utf-8") as file:
        rows = {row["report_week"]: row for row in csv.DictReader(file)}
    assert (rows[W.isoformat()]["team_useful"], rows[W.isoformat()]["team_false_alarm"]) == ("1", "1")
    assert (rows[W1.isoformat()]["team_useful"], rows[W1.isoformat()]["team_false_alarm"]) == ("0", "0")
    assert (tmp_path / f"backtest-{W2.isoformat()}-3w.png").stat().st_size > 0


def test_a_dry_run_takes_the_reactions_from_a_file_and_reads_none_from_slack(
    loop: Loop, tmp_path: Path
) -> None:
    entries = [
        {
            "week": W.isoformat(),
            "category1": c[0],
            "category2": c[1],
            "category3": c[2],
            "reaction": r,
            "user": u,
        }
        for c, r, u in ((SNOOZED, "no_bell", "U0ALICE"), (USEFUL, "+1", "U0CAROL"), (USEFUL, "+1", "U0ERIN"))
    ]
    feedback = tmp_path / "feedback.json"
    feedback.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", "--week", W1.isoformat(), "--dry-run", "--feedback", str(feedback), "--out", str(out)]
    slack = SlackServer().start()  # configured, so only --dry-run keeps the run away from it
    try:
        env = {
            **loop.env,
            "SLACK_BOT_TOKEN": VALID_TOKEN,
            "VOC_SLACK_API_URL": slack.url,
            "VOC_SLACK_CHANNEL": CHANNEL,
        }
        result = CliRunner().invoke(app, args, env=env)
    finally:
        slack.stop()
    assert result.exit_code == 0, result.output
    assert slack.requests == []  # a dry run reads no reactions
    summary = json.loads((out / "01-summary.json").read_text(encoding="utf-8"))
    text = json.dumps(summary, ensure_ascii=False)
    assert f"🔕 숨김 중: {label(SNOOZED)} (12월 7일까지)" in text
    assert "지난 12주 팀 피드백: 👍 1 · 👎 0 (유효 비율 100%)" in text  # a reply counts once
    replies = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("0*-reply-*.json"))]
    assert replies and not [r for r in replies if f"] {label(SNOOZED)}*" in r["blocks"][0]["text"]["text"]]
    warehouse = Path(loop.env["VOC_DUCKDB_PATH"])
    assert sorted(row[4:] for row in feedback_rows(warehouse)) == [
        ("+1", "U0CAROL"),
        ("+1", "U0ERIN"),
        ("no_bell", "U0ALICE"),
    ]
