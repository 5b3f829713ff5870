"""The flow end to end: dbt on DuckDB, a local Slack-compatible server, a real Prefect test server.

A flow run builds the dbt project through prefect-dbt (~15 s here), so each scenario runs the flow a
few times in a module fixture and the tests below assert on what it left behind.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey
from prefect.settings import PREFECT_API_URL
from prefect.states import State
from slack_sdk.models.blocks import Block
from typer.testing import CliRunner

from flows.cli import app
from flows.dry_run import RECORD
from flows.errors import GENERIC_SLACK_TEXT
from flows.flow import voc_weekly_report
from flows.outcome import Outcome, publish_table
from flows.weeks import KST
from tests.flow_runs import CHANNEL, run_records, scenario
from tests.llm.endpoints import start as start_llm
from tests.servers.laas import API_KEY as LAAS_KEY
from tests.servers.laas import LaasServer, answer, malformed, rate_limited, server_error
from tests.servers.slack import VALID_TOKEN, Fault, SlackServer
from tests.sources import CANCEL, EVENT, LOGIN, edge_case_rows, label, ticket, write_source

REPORT_WEEK = date(2026, 11, 16)
MENTION_THREAD = "1790000000.999999"
FOLLOW_UP_ORDER = [label(LOGIN), label(EVENT), label(CANCEL)]  # CRITICAL, then MONITOR by size
NOTICE = ":warning: 주간 VOC 리포트를 보내지 않았습니다: "


@pytest.fixture(scope="session")
def edge_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export and one warehouse file for all flow runs, so dbt can reuse its parse."""
    return write_source(tmp_path_factory.mktemp("flow-source") / "export.parquet", edge_case_rows())


def run(**parameters: Any) -> State[Any]:
    return voc_weekly_report(**{"week_start": REPORT_WEEK, **parameters}, return_state=True)


def outcome(state: State[Any]) -> Outcome:
    result = state.result()
    assert isinstance(result, Outcome)
    return result


def reply_heads(messages: list[dict[str, Any]]) -> list[str]:
    """The category each thread reply is about, from its heading block."""
    return [m["blocks"][0]["text"]["text"].split("] ", 1)[1].split("*")[0] for m in messages]


@dataclass
class Delivered:
    first: State[Any]
    first_messages: list[dict[str, Any]]
    requests: list[str]
    rerun: State[Any]
    after_rerun: int
    laas_requests: int
    laas_max_in_flight: int


FULL_ANALYSIS = """개인회원 / 계정 / 로그인 오류 후속 분석

### 요약
로그인 오류 문의가 **두 배**로 늘었습니다. <!channel>

### 대표 VOC 예시
- "로그인 안됨 [이메일]"

### 원인 가설
1. 앱 업데이트

### 후속 조치
- [장애 보드](https://status.example.com/login) 확인"""


@pytest.fixture(scope="module")
def delivered(prefect_server: None, edge_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Delivered:
    """A scheduled run through a flaky Slack and a flaky LaaS, then the same run again."""
    laas = LaasServer().start()
    laas.latency = 0.5
    laas.plan(f"카테고리: {label(LOGIN)}", rate_limited(1), answer(FULL_ANALYSIS))
    laas.plan(f"카테고리: {label(EVENT)}", server_error(500))
    laas.plan(f"카테고리: {label(CANCEL)}", malformed(b"<html>oops"))
    laas_env = {
        "LAAS_API_KEY": LAAS_KEY,
        "LAAS_BASE_URL": laas.url,
        "VOC_LLM_TIMEOUT_SECONDS": "10",
        "VOC_DBT_NODE_TASKS": "true",  # the default: each dbt node a task of the run
    }
    try:
        with scenario(tmp_path_factory.mktemp("delivered"), edge_export, **laas_env) as slack:
            # Slack rate-limits the first post, and stores the third but answers it with a 500. (A 500
            # whose message Slack did not store is searched for until the client's timeout has passed,
            # 35 s here: tests/slack/test_delivery.py covers it with a 1 s client.)
            slack.fail_next(
                Fault(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}),
                None,
                Fault(500, {"ok": False, "error": "internal_error"}, store=True),
                method="chat.postMessage",
            )
            first = run()
            first_messages, requests = list(slack.messages), list(slack.requests)
            rerun = run()
            return Delivered(
                first,
                first_messages,
                requests,
                rerun,
                len(slack.messages),
                len(laas.requests),
                laas.max_in_flight,
            )
    finally:
        laas.stop()


def test_summary_comes_first_then_one_reply_per_flagged_category_in_its_thread(
    delivered: Delivered,
) -> None:
    assert delivered.first.is_completed(), delivered.first.message
    summary, *replies = delivered.first_messages
    assert summary["channel"] == CHANNEL and "thread_ts" not in summary
    assert summary["blocks"][0]["text"]["text"] == "Weekly VOC 변화"
    assert all(reply["thread_ts"] == summary["ts"] for reply in replies)
    assert reply_heads(replies) == FOLLOW_UP_ORDER
    for message in delivered.first_messages:
        for block in message["blocks"]:
            Block.parse(block).validate_json()
    assert (outcome(delivered.first).posted, outcome(delivered.first).dry_run) == (4, False)


def test_a_rate_limit_is_retried_and_a_reply_stored_before_a_500_is_found_not_posted_again(
    delivered: Delivered,
) -> None:
    assert len(delivered.first_messages) == 4  # the summary and three replies, each once
    assert delivered.requests.count("chat.postMessage") == len(delivered.first_messages) + 1
    assert "conversations.replies" in delivered.requests  # the thread searched after the 500


def test_llm_follow_ups_run_concurrently_and_survive_faults_one_category_at_a_time(
    delivered: Delivered,
) -> None:
    login, event, cancel = (m["blocks"] for m in delivered.first_messages[1:])
    login_text = "\n".join(block["text"]["text"] for block in login[1:])
    for section in ("*요약*", "*대표 VOC 예시*", "*원인 가설*", "*후속 조치*"):
        assert section in login_text
    assert "&lt;!channel&gt;" in login_text
    assert "<https://status.example.com/login|장애 보드> (status.example.com)" in login_text
    assert "*두 배*" in login_text
    assert "*요약*" in event[1]["text"]["text"]  # the 500 was retried
    assert event[1]["text"]["text"].count("후속 분석") == 1
    assert (
        cancel[1]["text"]["text"]
        == ":warning: 후속 분석을 생성하지 못했습니다 (사유: malformed response (not JSON))"
    )
    assert delivered.laas_max_in_flight >= 2 and delivered.laas_requests == 5
    assert "1 follow-up analysis failed" in (delivered.first.message or "")


def test_rerun_for_the_same_week_and_channel_posts_nothing_and_says_so(delivered: Delivered) -> None:
    assert delivered.rerun.is_completed()
    assert delivered.after_rerun == len(delivered.first_messages)
    assert "already in Slack: nothing posted" in (delivered.rerun.message or "")
    logs, artifacts = run_records(delivered.rerun)
    assert "dbt" not in logs  # a delivered week is not rebuilt (nor analysed) again
    assert {artifact.type for artifact in artifacts} == {"table", "markdown"}


def test_no_secret_reaches_the_logs_or_artifacts(delivered: Delivered) -> None:
    logs, artifacts = run_records(delivered.first)
    recorded = logs + json.dumps([artifact.data for artifact in artifacts], ensure_ascii=False)
    assert "Weekly VOC 변화" in recorded and "posted 4 message(s)" in logs
    assert VALID_TOKEN not in recorded and "xoxb-" not in recorded and LAAS_KEY not in recorded


DOCS_URL = "https://storage.googleapis.com/voc-docs/voc-weekly/index.html"


@dataclass
class ThroughOpenAi:
    posted: State[Any]
    messages: list[dict[str, Any]]
    dry_run: State[Any]
    report: dict[str, Any]
    api_key: str
    requests: int


@pytest.fixture(scope="module")
def through_openai(
    prefect_server: None, edge_export: Path, tmp_path_factory: pytest.TempPathFactory
) -> ThroughOpenAi:
    """A run whose analyses come from an OpenAI-compatible endpoint (VOC_LLM=openai), then a dry run."""
    folder = tmp_path_factory.mktemp("openai")
    endpoint = start_llm("openai")
    endpoint.server.plan(f"카테고리: {label(LOGIN)}", answer(FULL_ANALYSIS))
    try:
        with scenario(folder, edge_export, VOC_DOCS_URL=DOCS_URL, **endpoint.env()) as slack:
            posted = run()
            messages = list(slack.messages)
            dry_run = run(dry_run=True, out_dir=str(folder / "out"))
        report = json.loads((folder / "out" / "report.json").read_text(encoding="utf-8"))
        return ThroughOpenAi(
            posted, messages, dry_run, report, endpoint.server.api_key, len(endpoint.server.requests)
        )
    finally:
        endpoint.server.stop()


def test_the_models_reply_arrives_in_the_thread_through_an_openai_compatible_endpoint(
    through_openai: ThroughOpenAi,
) -> None:
    assert through_openai.posted.is_completed(), through_openai.posted.message
    summary, *replies = through_openai.messages
    assert all(reply["thread_ts"] == summary["ts"] for reply in replies)
    assert reply_heads(replies) == FOLLOW_UP_ORDER
    login_text = "\n".join(block["text"]["text"] for block in replies[0]["blocks"][1:])
    for section in ("*요약*", "*대표 VOC 예시*", "*원인 가설*", "*후속 조치*"):
        assert section in login_text
    assert "*두 배*" in login_text and "&lt;!channel&gt;" in login_text
    assert through_openai.requests == 2 * len(FOLLOW_UP_ORDER)  # the run, then the dry run


def test_voc_docs_url_links_the_comparison_models_docs_from_the_summary(
    through_openai: ThroughOpenAi,
) -> None:
    summary = through_openai.messages[0]
    [button] = summary["blocks"][-1]["elements"]
    assert (button["text"]["text"], button["url"]) == (
        "모델 문서",
        f"{DOCS_URL}#!/model/model.voc_weekly.voc_weekly_comparison",
    )


def test_the_run_log_and_report_json_say_which_analysis_was_used(
    through_openai: ThroughOpenAi, delivered: Delivered
) -> None:
    openai_logs, artifacts = run_records(through_openai.posted)
    assert "Follow-up analysis: the OpenAI-compatible endpoint http://127.0.0.1:" in openai_logs
    assert "/v1, model voc-test-model" in openai_logs
    assert through_openai.report["llm"] == "openai"
    laas_logs, _ = run_records(delivered.first)
    assert "Follow-up analysis: LaaS at http://127.0.0.1:" in laas_logs
    recorded = openai_logs + json.dumps([artifact.data for artifact in artifacts], ensure_ascii=False)
    assert through_openai.api_key not in recorded


@pytest.fixture(scope="module")
def resumed(
    prefect_server: None, edge_export: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[State[Any], list[dict[str, Any]], State[Any], list[dict[str, Any]]]:
    """A run asked for from a Slack thread dies after the summary and one reply; then it is rerun."""
    with scenario(tmp_path_factory.mktemp("resumed"), edge_export) as slack:
        slack.fail_next(
            None, None, Fault(200, {"ok": False, "error": "fatal_error"}), method="chat.postMessage"
        )
        crashed = run(thread_ts=MENTION_THREAD)
        before = list(slack.messages)
        resumed_run = run(thread_ts=MENTION_THREAD)
        return crashed, before, resumed_run, list(slack.messages)


def test_a_run_that_died_half_way_fails_with_one_line(resumed: Any) -> None:
    crashed, before, _, _ = resumed
    assert crashed.is_failed()
    assert crashed.message == "Slack refused the message (fatal_error)"
    assert len(before) == 2  # the summary and the first reply made it


def test_the_rerun_completes_the_thread_without_duplicates(resumed: Any) -> None:
    _, _, resumed_run, messages = resumed
    assert resumed_run.is_completed()
    assert [m["thread_ts"] for m in messages] == [MENTION_THREAD] * 4  # all inside the mention thread
    assert reply_heads(messages[1:]) == FOLLOW_UP_ORDER  # each reply exactly once, in order
    assert (outcome(resumed_run).posted, outcome(resumed_run).already_posted) == (2, 2)


def test_main_command_previews_the_report_and_writes_the_exact_payloads(
    prefect_server: None, edge_export: Path, tmp_path: Path
) -> None:
    with scenario(tmp_path, edge_export, SLACK_BOT_TOKEN="") as slack:
        result = CliRunner().invoke(app, ["run", "--week", "2026-11-18", "--out", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
        assert slack.requests == []  # no token: a dry run
    assert "Weekly VOC 변화" in result.output and "[CRITICAL] 개인회원 / 계정 / 로그인 오류" in result.output
    assert "week 2026-11-16: dry run" in result.output

    files = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != RECORD)
    assert files[0] == "01-summary.json" and files[-1] == "report.json" and len(files) == 5
    assert sorted((tmp_path / "out" / RECORD).read_text(encoding="utf-8").split()) == files
    summary = json.loads((tmp_path / "out" / files[0]).read_text(encoding="utf-8"))
    assert set(summary) == {"channel", "text", "blocks", "unfurl_links", "unfurl_media"}
    assert summary["channel"] == CHANNEL
    reply = json.loads((tmp_path / "out" / files[1]).read_text(encoding="utf-8"))
    assert reply["thread_ts"] == "<ts of the summary message>"
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    severities = {c["category_label"]: c["severity"] for c in report["categories"]}
    assert len(severities) == 6 and severities[label(LOGIN)] == "CRITICAL"
    assert report["llm"] == "builtin"  # no LLM key configured


def test_every_run_leaves_a_table_and_a_message_artifact(delivered: Delivered) -> None:
    _, artifacts = run_records(delivered.first)
    by_type = {artifact.type: artifact for artifact in artifacts}
    assert set(by_type) == {"table", "markdown"}
    table = json.loads(str(by_type["table"].data))
    assert {row["category_label"]: row["severity"] for row in table}[label(LOGIN)] == "CRITICAL"
    assert "Weekly VOC 변화" in str(by_type["markdown"].data)


def dbt_node_task_names(state: State[Any]) -> list[str]:
    """The names of the run's task runs that prefect-dbt made for dbt's nodes."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=run_filter)
    return [task.name for task in tasks if "voc_weekly_comparison" in task.name]


def test_a_week_delivered_before_the_rename_still_gets_its_table_in_its_own_names(
    prefect_server: None,
) -> None:
    """Regression: a rerun publishes the summary the ledger recorded, and one recorded before the
    rename has `baseline_week` and `prev_tickets`; a summary of this version shows only new names."""
    old_row = {"category_label": "a / b / c", "prev_tickets": 3, "last_tickets": 5, "severity": "MONITOR"}
    flow(publish_table)({"report_week": "2026-10-05", "baseline_week": "2026-09-28", "categories": [old_row]})
    new_row = {"category_label": "a / b / c", "previous_tickets": 3, "prev_tickets": 3, "severity": "STABLE"}
    flow(publish_table)({"report_week": "2026-10-12", "previous_week": "2026-10-05", "categories": [new_row]})
    with get_client(sync_client=True) as client:
        old, new = (
            client.read_latest_artifacts(
                artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=[key]))
            )[0]
            for key in ("voc-weekly-categories-2026-10-05", "voc-weekly-categories-2026-10-12")
        )
    assert old.description == "VOC categories, 기준주 2026-09-28 vs. 비교주 2026-10-05"
    assert json.loads(str(old.data)) == [old_row]
    assert new.description == "VOC categories, 기준주 2026-10-05 vs. 비교주 2026-10-12"
    assert json.loads(str(new.data)) == [
        {"category_label": "a / b / c", "previous_tickets": 3, "severity": "STABLE"}
    ]


def test_each_dbt_node_is_a_task_of_the_run_unless_voc_dbt_node_tasks_is_false(
    delivered: Delivered, resumed: Any
) -> None:
    assert dbt_node_task_names(delivered.first)  # the model and its tests, each a task
    _, _, resumed_run, _ = resumed  # with VOC_DBT_NODE_TASKS=false (tests/conftest.py)
    assert resumed_run.is_completed() and dbt_node_task_names(resumed_run) == []


def test_stale_source_posts_no_report_but_says_why_naming_the_last_data(
    prefect_server: None, tmp_path: Path
) -> None:
    rows = [r for r in edge_case_rows() if r["event_create_time"].isoformat() < "2026-11-20"]
    rows.append(ticket("last", "2026-11-20 18:45"))  # the data stops on Friday evening KST
    with scenario(tmp_path, write_source(tmp_path / "stale.parquet", rows)) as slack:
        state = run()
        messages = list(slack.messages)
    assert state.is_failed()
    assert (state.message or "").startswith(
        "the source data ends at 2026-11-20 18:45 KST, before the end of the reported week"
    )
    (notice,) = messages  # the notice, and no report, in Korean throughout
    assert notice["text"] == (
        ":warning: 주간 VOC 리포트를 보내지 않았습니다: 원본 데이터가 2026-11-20 18:45 KST까지만 있어 "
        "보고 주간 2026-11-16 ~ 2026-11-22(2026-11-23 00:00 KST 종료)을 다 담지 못했습니다. "
        "데이터가 적재된 뒤 다시 실행해 주세요."
    )


def test_quiet_week_posts_nothing_when_told_so_and_the_run_says_why(
    prefect_server: None, tmp_path: Path
) -> None:
    rows = [ticket(f"baseline-{n}", "2026-11-10 10:00") for n in range(10)]
    rows += [ticket(f"reported-{n}", "2026-11-18 10:00") for n in range(10)]  # 10 -> 10: STABLE
    rows.append(ticket("next-week", "2026-11-23 00:30"))  # the data reaches past the reported week
    source = write_source(tmp_path / "quiet.parquet", rows)
    with scenario(tmp_path, source, VOC_POST_QUIET_WEEKS="false") as slack:
        state = run()
        assert slack.messages == []
    assert state.is_completed(), state.message
    assert (state.message or "").endswith("quiet week: nothing posted (VOC_POST_QUIET_WEEKS=false)")
    _, artifacts = run_records(state)
    preview = next(a for a in artifacts if a.key == "voc-weekly-message-2026-11-16")
    assert "quiet week: nothing posted" in str(preview.data)


def test_future_week_is_refused_before_dbt_runs(
    prefect_server: None, edge_export: Path, tmp_path: Path
) -> None:
    with scenario(tmp_path, edge_export) as slack:
        state = run(week_start=date(2099, 1, 7))
        assert slack.requests == []
    assert state.is_failed()
    assert (state.message or "").startswith("week_start 2099-01-07: the week 2099-01-05 ~ 2099-01-11")
    logs, _ = run_records(state)
    assert "dbt" not in logs


def test_a_run_that_starts_late_reports_the_week_before_it_was_due(
    prefect_server: None, edge_export: Path, tmp_path: Path
) -> None:
    # The Monday 09:00 KST run after the week of 2026-11-16, started days late (a worker down, a
    # queue caught up): it reports that week, not the week before the day it happened to start.
    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    due = datetime(2026, 11, 23, 9, tzinfo=KST)
    parameters = {"dry_run": True, "out_dir": str(tmp_path / "out")}
    with scenario(tmp_path, edge_export):
        with get_client(sync_client=True) as client:
            flow_run = client.create_flow_run(
                voc_weekly_report, parameters=parameters, state=Scheduled(scheduled_time=due)
            )
        assert flow_run.expected_start_time == due
        state = run_flow(voc_weekly_report, flow_run=flow_run, parameters=parameters, return_type="state")
    assert isinstance(state, State) and state.is_completed(), state
    assert outcome(state).week == REPORT_WEEK
    assert state.message == "week 2026-11-16: dry run"


def test_regression_two_runs_started_together_post_one_report(
    prefect_server: None, edge_export: Path, tmp_path: Path
) -> None:
    with scenario(tmp_path, edge_export) as slack:
        # Each thread gets this context: the scenario's Prefect settings (its result storage) live there.
        contexts = [contextvars.copy_context() for _ in range(2)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            states = list(pool.map(lambda context: context.run(run), contexts))
        messages = list(slack.messages)
    assert all(state.is_completed() for state in states), [state.message for state in states]
    summary, *replies = messages  # one summary, each reply once, all in its thread
    assert "thread_ts" not in summary and [r["thread_ts"] for r in replies] == [summary["ts"]] * 3
    assert reply_heads(replies) == FOLLOW_UP_ORDER
    assert sorted(outcome(state).posted for state in states) == [0, 4]


def test_regression_sigterm_stops_a_run_waiting_out_a_long_retry_after_and_the_crash_is_said_once(
    prefect_server: None, edge_export: Path, tmp_path: Path
) -> None:
    """SIGTERM (a worker stopping, a container killed) crashes the run without a traceback, and the
    flow's on_crashed hook says so in the channel: a crashed run once posted nothing."""
    slack = SlackServer().start()
    slack.fail_next(
        Fault(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "100000"}),
        method="chat.postMessage",
    )
    env = {
        **os.environ,
        "VOC_HOME": str(tmp_path / ".voc"),
        "VOC_SOURCE_PATH": str(edge_export),
        "VOC_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "VOC_SLACK_API_URL": slack.url,
        "VOC_SLACK_CHANNEL": CHANNEL,
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        "VOC_MAX_RETRY_WAIT_SECONDS": "1000000",  # so the run really waits out Retry-After
        "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "prefect-storage"),
    }
    env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    command = [str(Path(sys.executable).parent / "voc-weekly"), "run", "--week", REPORT_WEEK.isoformat()]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 600  # dbt runs first; the first post gets the 429
        while "chat.postMessage" not in slack.requests and process.poll() is None:
            assert time.monotonic() < deadline, "the run never reached Slack"
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(1)  # into the wait
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)  # an exit, not a 100000 s sleep
    finally:
        process.kill()
        slack.stop()
    assert process.returncode != 0
    assert "Traceback" not in stderr.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")
    (notice,) = [m["text"] for m in slack.messages]  # the report's summary never went out; the notice did
    assert re.fullmatch(rf"{re.escape(NOTICE + GENERIC_SLACK_TEXT)} \(실행: [a-z]+-[a-z]+\)", notice), notice
