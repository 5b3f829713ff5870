"""How a run's end is said in Slack, on real flow runs: the mention's ⏳ message (`status_ts`) edited to
the outcome, and a failure always said in the channel or thread, once, without internals.

Each scenario posts the bot's ⏳ answer on the loopback Slack server first, then runs the flow with
its ts, as the bot does.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.states import State
from pydantic import SecretStr

from flows.errors import GENERIC_SLACK_TEXT
from flows.flow import voc_weekly_report
from flows.llm.analyst import LAAS_KEY
from flows.slack.client import slack_client
from flows.slack.status import failed_text
from tests.flow_runs import CHANNEL, run_records, scenario
from tests.servers.slack import VALID_TOKEN, SlackServer
from tests.sources import edge_case_rows, write_source

REPO = Path(__file__).resolve().parent.parent
REPORT_WEEK = date(2026, 11, 16)
NO_KEY_SLACK_TEXT = LAAS_KEY.missing("laas").slack_text
HOURGLASS = ":hourglass_flowing_sand: 주간 VOC 변화를 확인 중입니다."
NOTICE = ":warning: 주간 VOC 리포트를 보내지 않았습니다: "
ASKED, ASKED_AGAIN, NO_KEY, BROKEN = (
    "1790000000.100001",
    "1790000000.100002",
    "1790000000.100003",
    "1790000000.100004",
)


def hourglass(slack: SlackServer, thread_ts: str) -> str:
    """The bot's ⏳ answer in the mention's thread; its ts is the run's status_ts."""
    client = slack_client(SecretStr(VALID_TOKEN), slack.url)
    return str(client.chat_postMessage(channel=CHANNEL, thread_ts=thread_ts, text=HOURGLASS)["ts"])


def asked(slack: SlackServer, thread_ts: str, **parameters: Any) -> tuple[State[Any], str]:
    """A run started from a mention in `thread_ts`, with the ts of the ⏳ answer as its status_ts."""
    status_ts = hourglass(slack, thread_ts)
    state = voc_weekly_report(
        week_start=REPORT_WEEK, thread_ts=thread_ts, status_ts=status_ts, return_state=True, **parameters
    )
    return state, status_ts


def in_thread(slack: SlackServer, thread_ts: str) -> list[str]:
    """What the run posted in the mention's thread (the ⏳ answers are the bot's, and edited)."""
    answers = {edit["ts"] for edit in slack.edits}
    return [m["text"] for m in slack.messages if m.get("thread_ts") == thread_ts and m["ts"] not in answers]


def edit_of(slack: SlackServer, status_ts: str) -> list[str]:
    return [edit["text"] for edit in slack.edits if edit["ts"] == status_ts]


def run_name_and_id(state: State[Any]) -> tuple[str, Any]:
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).name, run_id  # type: ignore[arg-type]


def project_with_a_null_in_a_mart(folder: Path) -> Path:
    """The dbt project, where voc_weekly_comparison ends with a NULL that no dbt test looks for."""
    project = folder / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / "models" / "marts" / "voc" / "voc_weekly_comparison.sql"
    hook = '{{ config(post_hook="update {{ this }} set previous_tickets = null") }}\n'
    model.write_text(hook + model.read_text(encoding="utf-8"), encoding="utf-8")
    return project


@dataclass
class Ended:
    slack: SlackServer
    runs: dict[str, tuple[State[Any], str]]
    broken: SlackServer


@pytest.fixture(scope="module")
def ended(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> Ended:
    """Mentions that end in each way: posted, already posted, a VocError, an unexpected failure."""
    folder = tmp_path_factory.mktemp("run-status")
    source = write_source(folder / "export.parquet", edge_case_rows())
    with scenario(folder, source) as slack:
        runs = {
            "posted": asked(slack, ASKED),
            "already": asked(slack, ASKED),
            "no-key": asked(slack, NO_KEY, llm="laas"),  # a VocError, said by the flow itself
        }
    broken_folder = tmp_path_factory.mktemp("run-status-broken")
    project = project_with_a_null_in_a_mart(broken_folder)
    with scenario(broken_folder, source, VOC_DBT_PROJECT_DIR=str(project)) as broken:
        runs["unexpected"] = asked(broken, BROKEN)
    return Ended(slack, runs, broken)


def summary_link(slack: SlackServer, thread_ts: str) -> str:
    answers = {edit["ts"] for edit in slack.edits}
    summary = next(m for m in slack.messages if m.get("thread_ts") == thread_ts and m["ts"] not in answers)
    ts = summary["ts"].replace(".", "")
    return f"https://voc-test.slack.com/archives/{CHANNEL}/p{ts}?thread_ts={thread_ts}&cid={CHANNEL}"


def test_a_delivered_report_turns_the_hourglass_into_done_with_the_summarys_link(ended: Ended) -> None:
    state, status_ts = ended.runs["posted"]
    assert state.is_completed(), state.message
    link = summary_link(ended.slack, ASKED)
    assert edit_of(ended.slack, status_ts) == [
        f":white_check_mark: 주간 VOC 리포트를 올렸습니다. <{link}|요약 보기>"
    ]


def test_asking_again_turns_the_new_hourglass_into_already_posted_with_the_same_link(ended: Ended) -> None:
    state, status_ts = ended.runs["already"]
    assert state.is_completed() and "already in Slack" in (state.message or "")
    link = summary_link(ended.slack, ASKED)
    assert edit_of(ended.slack, status_ts) == [
        f":information_source: 이 주의 리포트는 이미 올라가 있어 새로 올리지 않았습니다. <{link}|요약 보기>"
    ]
    assert len(in_thread(ended.slack, ASKED)) == 4  # the summary and three replies, once


def test_a_failure_the_flow_explains_is_noticed_once_and_the_hourglass_names_the_run(ended: Ended) -> None:
    state, status_ts = ended.runs["no-key"]
    assert state.is_failed()
    assert in_thread(ended.slack, NO_KEY) == [f"{NOTICE}{NO_KEY_SLACK_TEXT}"]  # not a second time
    name, run_id = run_name_and_id(state)
    assert edit_of(ended.slack, status_ts) == [failed_text(NO_KEY_SLACK_TEXT, name, run_id)]


def test_regression_an_unexpected_failure_is_said_in_the_thread_once_without_internals(ended: Ended) -> None:
    """A NULL no dbt test catches fails the read of the marts with a pydantic error, not a VocError:
    it once posted nothing, and the ⏳ stayed forever."""
    state, status_ts = ended.runs["unexpected"]
    assert state.is_failed() and not state.is_crashed()
    assert "previous_tickets" in (state.message or "")  # the run's state says what broke
    name, run_id = run_name_and_id(state)
    assert in_thread(ended.broken, BROKEN) == [f"{NOTICE}{GENERIC_SLACK_TEXT} (실행: {name})"]
    assert edit_of(ended.broken, status_ts) == [failed_text(GENERIC_SLACK_TEXT, name, run_id)]
    said = json.dumps(ended.broken.messages + ended.broken.edits, ensure_ascii=False)
    assert "Traceback" not in said and "ValidationError" not in said and VALID_TOKEN not in said
    assert "Traceback" not in run_records(state)[0].split("Running hook")[-1]  # the hook logs one line
