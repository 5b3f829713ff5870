"""Runs that fail part-way: a failing dbt test, a locked warehouse file, a bad flow parameter.

Each says in one line what failed and why, posts the Korean failure notice where a report was
expected, and prints no stack trace.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from typer.testing import CliRunner

from flows.cli import app
from flows.dry_run import RECORD, replace_files
from flows.flow import voc_weekly_report
from flows.settings import VocSettings
from flows.warehouse.dbt import dbt_failure
from tests.flow_runs import run_records, scenario
from tests.sources import LOGIN, edge_case_rows, ticket, write_source

REPO = Path(__file__).resolve().parent.parent
REPORT_WEEK = date(2026, 11, 16)
NOTICE = ":warning: 주간 VOC 리포트를 보내지 않았습니다: "


@contextmanager
def held_open(warehouse: Path) -> Iterator[None]:
    """Another process holding the DuckDB file open for writing, as a second run would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(warehouse)!r}); "
         "print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield
    finally:
        holder.terminate()
        holder.wait(timeout=30)


def project_with_guard_test(folder: Path) -> Path:
    """The dbt project plus one singular data test that fails when a ticket is titled 'GUARD'."""
    project = folder / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "tests" / "assert_no_guard_tickets.sql").write_text(
        "select ticket_id from {{ ref('stg_zendesk__voc_tickets') }} where title = 'GUARD'\n",
        encoding="utf-8",
    )
    return project


def test_failing_data_test_is_named_in_one_line_and_noticed_in_korean(
    prefect_server: None, tmp_path: Path
) -> None:
    rows = [*edge_case_rows(), ticket("guard-1", "2026-11-18 10:00", LOGIN, title="GUARD")]
    source = write_source(tmp_path / "export.parquet", rows)
    project = project_with_guard_test(tmp_path)
    with scenario(tmp_path, source, VOC_DBT_PROJECT_DIR=str(project)) as slack:
        state = voc_weekly_report(week_start=REPORT_WEEK, return_state=True)
        messages = list(slack.messages)
    assert state.is_failed()
    assert state.message == (
        "dbt build failed: test assert_no_guard_tickets failed: Got 1 result, configured to fail if != 0"
    )
    (notice,) = messages
    assert notice["text"] == (
        f"{NOTICE}dbt 데이터 테스트 `assert_no_guard_tickets`이(가) 실패해 리포트를 만들지 못했습니다. "
        "실행 기록에서 원인을 확인해 주세요."
    )
    logs = run_records(state)[0]
    assert "assert_no_guard_tickets" in logs and "Traceback" not in logs


def test_locked_warehouse_gets_its_own_message_and_notice(prefect_server: None, tmp_path: Path) -> None:
    source = write_source(tmp_path / "export.parquet", edge_case_rows())
    with scenario(tmp_path, source) as slack, held_open(tmp_path / "warehouse.duckdb"):
        state = voc_weekly_report(week_start=REPORT_WEEK, return_state=True)
        messages = list(slack.messages)
    assert state.is_failed()
    assert state.message == (
        f"another run is using {tmp_path / 'warehouse.duckdb'}: wait for it to finish, or set "
        "VOC_DUCKDB_PATH (or VOC_HOME) to another file for this run"
    )
    (notice,) = messages
    assert notice["text"].startswith(f"{NOTICE}다른 실행이 같은 웨어하우스 파일을 쓰고 있어")
    assert "Traceback" not in run_records(state)[0]


@pytest.mark.parametrize("week_start", ["yesterday", "2026-02-30", "../../etc"])
def test_bad_week_start_parameter_fails_the_run_in_one_line(prefect_server: None, week_start: str) -> None:
    """As `prefect deployment run --param week_start=...` sends it: a string the flow parses."""
    state = voc_weekly_report(week_start=week_start, dry_run=True, return_state=True)
    assert state.is_failed()
    assert re.fullmatch(
        rf"week_start '{re.escape(week_start)}': (not a date|no such day); give .*", state.message or ""
    )


def test_source_named_with_quotes_and_braces_is_read_as_a_name(prefect_server: None, tmp_path: Path) -> None:
    """VOC_SOURCE_PATH reaches the view SQL of the on-run-start hook quoted: a ' or {{ }} is a name."""
    source = tmp_path / "it's {{ var('x') }}; --.parquet"
    write_source(tmp_path / "export.parquet", edge_case_rows()).rename(source)
    with scenario(tmp_path, source, SLACK_BOT_TOKEN="") as slack:
        state = voc_weekly_report(week_start=REPORT_WEEK, out_dir=str(tmp_path / "out"), return_state=True)
        assert slack.requests == []
    assert state.is_completed(), state.message
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert {c["category_label"]: c["severity"] for c in report["categories"]}[" / ".join(LOGIN)] == "CRITICAL"


def test_model_error_names_the_model_and_its_first_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`compare` runs plain dbt: a model that cannot be built is named with its first error line.

    (The source's columns are cast to the contract's types now, so no export breaks a model: the
    broken model is added to a copy of the project.)"""
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "broken_model.sql").write_text(
        "{{ config(materialized='table') }}\nselect cast('not a number' as integer) as n\n", encoding="utf-8"
    )
    export = write_source(tmp_path / "export.parquet", edge_case_rows())
    monkeypatch.chdir(tmp_path)
    env = {"VOC_SOURCE_PATH": str(export), "VOC_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
           "VOC_HOME": str(tmp_path / ".voc"), "VOC_DBT_PROJECT_DIR": str(project)}  # fmt: skip
    result = CliRunner().invoke(app, ["compare", "--week", "2026-11-18"], env=env)
    assert result.exit_code == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: dbt build failed: model broken_model failed: Conversion Error:"), last
    assert "Traceback" not in result.output


def test_a_failed_model_is_named_before_the_tests_that_fail_with_it_and_a_test_by_its_name() -> None:
    # An ephemeral model's error shows in every model and data test that inlines it, in whatever order
    # dbt's threads finish; a generic test's id ends with a hash, which names nothing.
    settings = VocSettings(_env_file=None)
    binder = "Binder Error: No function matches 'translate(VARCHAR[], …)'"
    echoes = [
        ("test.voc_weekly.not_null_stg_zendesk__voc_tickets_category_label.b71577e5f2", "error", binder),
        ("model.voc_weekly.voc_weekly_report_status", "error", binder),
        ("model.voc_weekly.int_voc_category_weeks_aggregated", "error", binder),
    ]
    assert str(dbt_failure(settings, ["build"], None, echoes)) == (
        f"dbt build failed: model int_voc_category_weeks_aggregated failed: {binder} (and 2 more)"
    )
    assert str(dbt_failure(settings, ["build"], None, echoes[:1])) == (
        f"dbt build failed: test not_null_stg_zendesk__voc_tickets_category_label failed: {binder}"
    )


def test_dbt_help_is_dbts_own_help() -> None:
    result = CliRunner().invoke(app, ["dbt", "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout and "build" in result.stdout


def test_a_rerun_replaces_only_the_files_it_wrote(tmp_path: Path) -> None:
    """--out: a folder this tool wrote before is refreshed; a file the user added there is kept."""
    out = tmp_path / "out"
    replace_files(out, {"01-summary.json": "{}", "02-reply-a-1.json": "{}", "report.json": "{}"}, False)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    replace_files(out, {"01-summary.json": '{"v": 2}', "report.json": '{"v": 2}'}, False)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [RECORD, "01-summary.json", "notes.txt", "report.json"]
    )
    assert (out / "report.json").read_text(encoding="utf-8") == '{"v": 2}'


@pytest.mark.parametrize("is_default", [False, True])
def test_regression_a_rerun_after_100_or_more_messages_leaves_none_of_them_behind(
    tmp_path: Path, is_default: bool
) -> None:
    """The record once recognised two-digit prefixes only: `100-reply-….json` survived every rerun."""
    out = tmp_path / "out"
    many = {f"{n:02d}-reply-{n}-1.json": "{}" for n in range(1, 1001)} | {"report.json": "{}"}
    replace_files(out, many, is_default)
    replace_files(out, {"01-summary.json": "{}", "report.json": "{}"}, is_default)
    assert sorted(p.name for p in out.iterdir()) == sorted([RECORD, "01-summary.json", "report.json"])


def voc_weekly_run(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A real `voc-weekly run` in its own process, on the edge-case export, with no ambient settings."""
    source = write_source(folder / "export.parquet", edge_case_rows())
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "SLACK_", "VOC_", "LAAS_", "OPENAI_"))
    }
    clean |= {
        "PREFECT_HOME": str(folder / "prefect-home"),
        "VOC_SOURCE_PATH": str(source),
        "VOC_HOME": str(folder / ".voc"),
        "VOC_DUCKDB_PATH": str(folder / "warehouse.duckdb"),
        **env,
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / "voc-weekly"), "run", "--week", "2026-11-18"],
        cwd=folder, env=clean, capture_output=True, text=True, timeout=400,
    )  # fmt: skip


def test_prefect_home_that_does_not_exist_yet_is_created_and_a_locked_run_exits_2(tmp_path: Path) -> None:
    """A real `voc-weekly run`: the temporary Prefect server starts in a new PREFECT_HOME, and a
    warehouse held by another run ends it with the one-line message, exit code 2, no stack trace."""
    home = tmp_path / "new" / "prefect-home"
    with held_open(tmp_path / "warehouse.duckdb"):
        done = voc_weekly_run(tmp_path, PREFECT_HOME=str(home))
    assert done.returncode == 2, done.stderr[-3000:]
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(f"error: another run is using {tmp_path / 'warehouse.duckdb'}: wait for it")
    assert "Traceback" not in done.stderr
    assert (home / "prefect.db").exists()


def test_a_run_with_prefect_api_url_reports_to_that_server_and_starts_none(
    prefect_server: None, tmp_path: Path
) -> None:
    """The CLI's Prefect defaults only shape a temporary server: with PREFECT_API_URL set, none starts
    and the flow run is recorded on the server the user named."""
    api_url = str(PREFECT_API_URL.value())
    done = voc_weekly_run(tmp_path, PREFECT_API_URL=api_url)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "temporary server" not in done.stdout + done.stderr
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    assert any(str(run.parameters.get("week_start")) == "2026-11-16" for run in runs)


def test_a_temporary_prefect_server_that_does_not_start_in_time_is_one_line(tmp_path: Path) -> None:
    """Regression: on a busy machine Prefect's RuntimeError and its stack trace reached the user."""
    done = voc_weekly_run(tmp_path, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0")  # gives up at once
    assert done.returncode == 2, done.stderr[-3000:]
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith("error: Prefect's temporary server did not start within 0 s: run one with")
    assert "PREFECT_API_URL" in error and "Traceback" not in done.stderr


def test_a_domain_scoped_source_table_is_split_into_its_three_parts(tmp_path: Path) -> None:
    """VOC_BQ_SOURCE_TABLE may name a `domain.com:project`: its dots do not split the project."""
    from flows.settings import VocSettings
    from flows.warehouse.dbt import invoke_dbt

    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    settings = VocSettings(
        _env_file=None,
        VOC_DBT_TARGET="prod",
        VOC_BQ_PROJECT="dummy-project",
        VOC_BQ_DATASET="voc_weekly",
        VOC_BQ_SOURCE_TABLE="example.com:voc-project.zendesk_v2.voc-classified",
        VOC_DBT_PROJECT_DIR=str(project),
        VOC_HOME=str(tmp_path / ".voc"),
    )
    invoke_dbt(settings, ["parse"])
    manifest = json.loads((project / "target" / "manifest.json").read_text(encoding="utf-8"))
    source = manifest["sources"]["source.voc_weekly.zendesk.zendesk_voc_classified"]
    assert source["relation_name"] == "`example.com:voc-project`.`zendesk_v2`.`voc-classified`"


def test_a_week_start_older_than_the_limit_fails_the_run_in_one_line(
    prefect_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (issue 16): `week_start` years back started a run that read every partition since."""
    monkeypatch.setenv("VOC_MAX_WEEKS_BACK", "52")
    state = voc_weekly_report(week_start="2020-01-06", dry_run=True, return_state=True)
    assert state.is_failed()
    assert re.fullmatch(
        r"week_start 2020-01-06: the week 2020-01-06 ~ 2020-01-12 is \d+ weeks back, older than the 52 "
        r"weeks VOC_MAX_WEEKS_BACK allows .*",
        state.message or "",
    )
