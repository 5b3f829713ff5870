"""Hostile input, table-driven: every bad source, week, setting or text a user (or an adversary) can
give ends the command with exit code 2 and one line on stderr, posts nothing and touches no user file.

Each row runs the real command line (typer's CliRunner) with a working Slack configuration pointed at
the loopback Slack server, and an `--out` folder holding a user's own files, so a row that got past
its check would post or write and fail the assertions below.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.errors import SettingsError, SourceError
from flows.outcome import unused_rows_text
from flows.report import WeeklyReport
from flows.settings import VocSettings
from flows.slack.messages import build_summary, preview
from flows.warehouse.source import SOURCE_COLUMNS, check_source_file
from tests.servers.slack import VALID_TOKEN, SlackServer
from tests.sources import edge_case_rows, write_source

USER_FILES = {"01-mynotes.json": '{"mine": true}', "report.json": '{"my": "report"}'}
WEEK = "2026-11-18"


@dataclass
class Workspace:
    """A folder with a valid export, a user's own folder, and a configured Slack."""

    root: Path
    source: Path
    user_out: Path
    slack: SlackServer


@pytest.fixture(scope="module")
def valid_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_source(tmp_path_factory.mktemp("hostile-source") / "export.parquet", edge_case_rows())


@pytest.fixture
def workspace(tmp_path: Path, valid_export: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    slack = SlackServer().start()
    user_out = tmp_path / "my-folder"
    user_out.mkdir()
    for name, text in USER_FILES.items():
        (user_out / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "VOC_HOME": str(tmp_path / ".voc"),
        "VOC_SOURCE_PATH": str(valid_export),
        "VOC_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        "VOC_SLACK_API_URL": slack.url,
        "VOC_SLACK_CHANNEL": "C0VOCWEEKLY",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        yield Workspace(tmp_path, valid_export, user_out, slack)
    finally:
        slack.stop()


def assert_refused_in_one_line(ws: Workspace, args: list[str], env: dict[str, str], expected: str) -> None:
    """Exit code 2, one non-empty stderr line containing `expected`, nothing posted, nothing lost."""
    result = CliRunner().invoke(app, args, env=env)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert VALID_TOKEN not in result.output
    assert "chat.postMessage" not in ws.slack.requests
    for name, text in USER_FILES.items():
        assert (ws.user_out / name).read_text(encoding="utf-8") == text
    assert sorted(p.name for p in ws.user_out.iterdir()) == sorted(USER_FILES)
    assert not (ws.root / ".voc" / "out").exists() and not (ws.root / "new-out").exists()


# --- bad sources -------------------------------------------------------------------------------

Maker = Callable[[Path], Path]


def _missing(folder: Path) -> Path:
    return folder / "nope.csv"


def _directory(folder: Path) -> Path:
    (folder / "export-dir.csv").mkdir()
    return folder / "export-dir.csv"


def _parquet_times(times: list[Any]) -> Maker:
    """A Parquet export whose event_create_time column holds `times` as written (text or numbers)."""

    def make(folder: Path) -> Path:
        columns: dict[str, list[Any]] = {name: ["x"] * len(times) for name in SOURCE_COLUMNS}
        columns["id"] = [str(number) for number in range(len(times))]
        columns["event_create_time"] = times
        path = folder / "times.parquet"
        pq.write_table(pa.table(columns), path)
        return path

    return make


def _written(name: str, content: bytes) -> Maker:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return folder / name

    return make


HEADER = "id,event_create_time,title,detail,category1,category2,category3,overall_emotion,main_topic,keywords"

BAD_SOURCES: list[tuple[str, Maker, str]] = [
    ("missing file", _missing, "no such file"),
    ("a directory", _directory, "no such file"),
    ("empty file", _written("empty.csv", b""), "the file is empty"),
    ("empty parquet", _written("empty.parquet", b""), "the file is empty"),
    ("wrong columns", _written("cols.csv", b"ticket,created\n1,2026-11-16 10:00\n"), "missing column(s) id"),
    (
        "timestamp as text",
        _written("text-time.csv", f"{HEADER}\n1,yesterday,t,d,a,b,c,,,\n".encode()),
        "event_create_time on line 2 is not a time ('yesterday')",
    ),
    (
        "CSV: a non-time after good lines, offsets and none",
        _written(
            "late-bad.csv",
            (
                f"{HEADER}\n1,2026-11-16 10:00:00,t,d,a,b,c,,,\n2,2026-11-16T10:00:00+09:00,t,d,a,b,c,,,\n"
                "3,2026-11-17,t,d,a,b,c,,,\n4,17/11/2026 10:00,t,d,a,b,c,,,\n"
            ).encode(),
        ),
        "event_create_time on line 5 is not a time ('17/11/2026 10:00')",
    ),
    (
        "CSV: a line with too many columns",
        _written(
            "wide.csv",
            "\n".join(
                [
                    HEADER,
                    *[f"{n},2026-11-16 10:00:00,t,d,a,b,c,,," for n in range(20)],
                    "x,2026-11-16,t,d,a,b,c,,,,x,y",
                ]
            ).encode(),
        ),
        "line 22 cannot be read as CSV (too many columns)",
    ),
    (
        "Parquet: times as text that do not parse",
        _parquet_times(["2026-11-16T10:00:00+09:00", "어제"]),
        "event_create_time in row 2 is not a time ('어제')",
    ),
    (
        "Parquet: times as numbers",
        _parquet_times([1_795_000_000, 1_795_000_600]),
        "event_create_time is BIGINT, not a time",
    ),
    ("binary garbage", _written("garbage.parquet", bytes(range(256)) * 40), "cannot be read"),
    ("truncated parquet", _written("cut.parquet", b"PAR1\x00\x00\x00"), "cannot be read"),
    ("a JSON file", _written("export.json", b'[{"id": 1}]'), "missing column(s)"),
    ("header only, one column", _written("one.csv", b"id\n"), "missing column(s) event_create_time"),
    ("quote and SQL in the name", _missing, "no such file"),
]


@pytest.mark.parametrize(("case", "make", "expected"), BAD_SOURCES, ids=[row[0] for row in BAD_SOURCES])
def test_bad_source_is_refused_before_anything_runs(
    workspace: Workspace, case: str, make: Maker, expected: str
) -> None:
    source = make(workspace.root)
    if case == "quote and SQL in the name":
        source = workspace.root / "x.csv'; drop table t; --{{ env_var('SLACK_BOT_TOKEN') }}"
    args = ["run", "--week", WEEK, "--out", str(workspace.root / "new-out")]
    assert_refused_in_one_line(workspace, args, {"VOC_SOURCE_PATH": str(source)}, expected)


def test_bad_source_messages_name_the_setting(workspace: Workspace) -> None:
    result = CliRunner().invoke(app, ["run"], env={"VOC_SOURCE_PATH": str(workspace.root / "nope.csv")})
    assert result.stderr.startswith(f"error: VOC_SOURCE_PATH={workspace.root / 'nope.csv'}: no such file")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(f"\ufeff{HEADER}\n1,2026-11-16 10:00:00,t,d,a,b,c,부정,,k\n", id="utf-8 BOM"),
        pytest.param(
            f"{HEADER.replace(',', ';')}\n1;2026-11-16 10:00:00;t;d;a;b;c;부정;;k\n", id="semicolons"
        ),
    ],
)
def test_csv_with_bom_or_semicolons_is_read_not_refused(tmp_path: Path, content: str) -> None:
    """DuckDB's CSV sniffer reads both as exported by Excel: they are valid sources."""
    path = tmp_path / "excel.csv"
    path.write_text(content, encoding="utf-8")
    check_source_file(path)  # raises SourceError if the contract columns are not found


def test_a_newline_in_the_source_name_stays_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as raised:
        check_source_file(tmp_path / "a\nb.csv")
    assert "\n" not in str(raised.value) and "'" in str(raised.value)


# --- bad weeks -----------------------------------------------------------------------------------

BAD_WEEKS: list[tuple[str, str]] = [
    ("2026-02-30", "no such day"),
    ("2026-13-01", "no such day"),
    ("yesterday", "not a date"),
    ("../../etc", "not a date"),
    ("'; drop table x; --", "not a date"),
    ('"', "not a date"),
    ("", "is empty"),
    ("   ", "is empty"),
    ("2026-11-16T00:00", "not a date"),
    ("2026-11-16\nINJECTED", "not a date"),
    ("\x1b[31mred", "not a date"),
    ("2099-01-07", "has not ended yet"),
]
COMMANDS = [("run", "--week"), ("compare", "--week"), ("demo-data", "--end-week")]


@pytest.mark.parametrize(("text", "expected"), BAD_WEEKS, ids=[repr(w) for w, _ in BAD_WEEKS])
@pytest.mark.parametrize(("command", "option"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_bad_week_is_one_line_naming_the_option(
    workspace: Workspace, command: str, option: str, text: str, expected: str
) -> None:
    args = [command, option, text]
    if command == "demo-data":
        args += ["--out", str(workspace.root / "demo.parquet")]
    assert_refused_in_one_line(workspace, args, {}, f"error: {option} ")
    assert_refused_in_one_line(workspace, args, {}, expected)
    assert not (workspace.root / "demo.parquet").exists()


# --- bad settings --------------------------------------------------------------------------------

BAD_SETTINGS: list[tuple[str, str, str]] = [
    ("VOC_DBT_TARGET", "staging", "must be one of dev, prod"),
    ("VOC_DBT_PROJECT_DIR", "<a file>", "must be a folder"),
    ("VOC_HOME", "<a file>", "must be a folder"),
    ("VOC_DUCKDB_PATH", "<a folder>", "must be a file path"),
    ("VOC_BQ_PROJECT", "My_Project", "BigQuery project id"),
    ("VOC_BQ_PROJECT", "proj`; drop", "BigQuery project id"),
    ("VOC_BQ_DATASET", "voc-mart", "BigQuery dataset"),
    ("VOC_BQ_LOCATION", "asia northeast3", "BigQuery location"),
    ("VOC_BQ_SOURCE_TABLE", "wanted-data.wanted_ml.t` union all select 1 --", "project.dataset.table"),
    ("VOC_BQ_SOURCE_TABLE", "wanted_ml.zendesk", "project.dataset.table"),
    ("VOC_BQ_SOURCE_TABLE", "wanted-data.wanted_ml.a.b", "project.dataset.table"),
    ("VOC_SLACK_API_URL", "ftp://slack.example/api/", "http:// or https:// URL"),
    ("VOC_SLACK_API_URL", "slack.com/api", "http:// or https:// URL"),
    # A token over plain HTTP: refused unless the host is loopback or it is allowed explicitly.
    ("VOC_SLACK_API_URL", "http://slack.example/api/", "sends the token over plain HTTP"),
    ("VOC_SLACK_API_URL", "HTTP://10.0.0.8:8080/api/", "sends the token over plain HTTP"),
    ("LAAS_BASE_URL", "http://api-laas.wanted.co.kr", "sends the token over plain HTTP"),
    ("LAAS_BASE_URL", "http://localhost.evil.example", "sends the token over plain HTTP"),
    ("OPENAI_BASE_URL", "http://llm.example/v1", "sends the token over plain HTTP"),
    ("VOC_ALLOW_INSECURE_HTTP", "sometimes", "must be true or false"),
    ("VOC_DASHBOARD_URL", "javascript:alert(1)", "http:// or https:// URL"),
    ("VOC_DASHBOARD_URL", "https://x.example/|<!channel>", "http:// or https:// URL"),
    ("VOC_POST_QUIET_WEEKS", "maybe", "must be true or false"),
    ("VOC_SUMMARY_MAX_PER_SEVERITY", "0", "whole number from 1 to 100"),
    ("VOC_SUMMARY_MAX_PER_SEVERITY", "101", "whole number from 1 to 100"),
    ("VOC_SUMMARY_MAX_PER_SEVERITY", "2.5", "whole number from 1 to 100"),
    ("LAAS_BASE_URL", "localhost:8080", "http:// or https:// URL"),
    ("LAAS_PROJECT", "WANTED DATA", "printable ASCII without spaces"),
    ("LAAS_PRESET_HASH", "abc\r\nX-Injected: 1", "printable ASCII without spaces"),
    ("VOC_LLM_CONCURRENCY", "0", "whole number from 1 to 64"),
    ("VOC_LLM_CONCURRENCY", "-1", "whole number from 1 to 64"),
    ("VOC_LLM_CONCURRENCY", "abc", "whole number from 1 to 64"),
    ("VOC_LLM_CONCURRENCY", "65", "whole number from 1 to 64"),
    ("VOC_LLM_TIMEOUT_SECONDS", "0", "number greater than 0"),
    ("VOC_LLM_TIMEOUT_SECONDS", "-5", "number greater than 0"),
    ("VOC_LLM_TIMEOUT_SECONDS", "soon", "number greater than 0"),
    ("VOC_LLM_TIMEOUT_SECONDS", "inf", "number greater than 0"),
    ("VOC_LLM_TIMEOUT_SECONDS", "nan", "number greater than 0"),
    ("VOC_LLM_MAX_ATTEMPTS", "0", "whole number from 1 to 10"),
    ("VOC_LLM_MAX_ATTEMPTS", "11", "whole number from 1 to 10"),
    ("VOC_MAX_WEEKS_BACK", "0", "whole number from 1 to 520"),
    ("VOC_MAX_WEEKS_BACK", "many", "whole number from 1 to 520"),
    ("VOC_LLM", "gpt", "must be one of auto, laas, openai, builtin"),
    ("OPENAI_BASE_URL", "api.openai.com/v1", "http:// or https:// URL"),
    ("OPENAI_BASE_URL", "https://x.example/v1\r\nX-Injected: 1", "http:// or https:// URL"),
    ("VOC_LLM_MODEL", "gpt 4", "printable ASCII without spaces"),
    ("VOC_DOCS_URL", "javascript:alert(1)", "http:// or https:// URL"),
    ("VOC_DOCS_URL", "https://x.example/docs|<!channel>", "http:// or https:// URL"),
]


@pytest.mark.parametrize(
    ("name", "value", "expected"), BAD_SETTINGS, ids=[f"{n}={v!r}" for n, v, _ in BAD_SETTINGS]
)
def test_bad_setting_is_one_line_naming_the_variable_and_what_it_may_be(
    workspace: Workspace, name: str, value: str, expected: str
) -> None:
    placeholders = {"<a file>": str(workspace.source), "<a folder>": str(workspace.user_out)}
    value = placeholders.get(value, value)
    args = ["run", "--week", WEEK, "--out", str(workspace.root / "new-out")]
    assert_refused_in_one_line(workspace, args, {name: value}, f"error: {name}")
    assert_refused_in_one_line(workspace, args, {name: value}, expected)


@pytest.mark.parametrize(
    "env",
    [
        {"VOC_SLACK_API_URL": "http://127.0.0.1:8000/api/", "LAAS_BASE_URL": "http://localhost:9000"},
        {"VOC_SLACK_API_URL": "http://[::1]:8000/api/", "LAAS_BASE_URL": "http://127.8.9.10"},
        {"VOC_SLACK_API_URL": "http://slack-mock.ci:8000/api/", "VOC_ALLOW_INSECURE_HTTP": "true"},
        {"LAAS_BASE_URL": "http://laas.staging.internal", "VOC_ALLOW_INSECURE_HTTP": "true"},
        {"OPENAI_BASE_URL": "http://localhost:11434/v1"},  # a local Ollama
    ],
)
def test_plain_http_is_accepted_on_loopback_or_when_allowed_explicitly(env: dict[str, str]) -> None:
    settings = VocSettings(_env_file=None, **env)  # type: ignore[arg-type]
    assert settings.slack_api_url == env.get("VOC_SLACK_API_URL", "https://slack.com/api/")
    assert settings.laas_base_url == env.get("LAAS_BASE_URL", "https://api-laas.wanted.co.kr")
    assert settings.openai_base_url == env.get("OPENAI_BASE_URL", "https://api.openai.com/v1")


def test_plain_http_refusal_says_how_to_fix_it_in_one_line() -> None:
    with pytest.raises(SettingsError) as refused:
        VocSettings(_env_file=None, VOC_SLACK_API_URL="http://slack.example/api/")  # type: ignore[call-arg]
    assert str(refused.value) == (
        "VOC_SLACK_API_URL='http://slack.example/api/': sends the token over plain HTTP; use https://, "
        "or set VOC_ALLOW_INSECURE_HTTP=true (loopback addresses are always allowed)"
    )


def test_several_bad_settings_are_named_on_the_same_line(workspace: Workspace) -> None:
    env = {"VOC_LLM_CONCURRENCY": "0", "VOC_DBT_TARGET": "staging"}
    result = CliRunner().invoke(app, ["compare"], env=env)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "VOC_LLM_CONCURRENCY='0'" in result.stderr and "VOC_DBT_TARGET='staging'" in result.stderr


# --- hostile options and texts ---------------------------------------------------------------------

HOSTILE_OPTIONS: list[tuple[str, list[str], str]] = [
    ("--out is someone's folder", ["run", "--week", WEEK, "--out", "<user>"], "did not write"),
    ("--out is a file", ["run", "--week", WEEK, "--out", "<user>/report.json"], "is a file"),
    ("--llm is unknown", ["run", "--week", WEEK, "--llm", "gpt"], "'gpt' is not one of"),
    ("--llm laas without a key", ["run", "--week", WEEK, "--llm", "laas"], "--llm laas needs LAAS_API_KEY"),
    (
        "--llm openai without a key",
        ["run", "--week", WEEK, "--llm", "openai"],
        "--llm openai needs OPENAI_API_KEY",
    ),
    ("unknown option", ["run", "--weeks", WEEK], "No such option: --weeks"),
    ("--week without a value", ["run", "--week"], "requires an argument"),
    ("unknown command", ["report"], "No such command 'report'"),
    ("demo-data --out is a folder", ["demo-data", "--out", "<user>"], "is a folder"),
    ("bot --port out of range", ["bot", "--port", "70000"], "less than or equal to 65535"),
]


@pytest.mark.parametrize(
    ("case", "args", "expected"), HOSTILE_OPTIONS, ids=[row[0] for row in HOSTILE_OPTIONS]
)
def test_hostile_option_is_one_line(workspace: Workspace, case: str, args: list[str], expected: str) -> None:
    args = [arg.replace("<user>", str(workspace.user_out)) for arg in args]
    assert_refused_in_one_line(workspace, args, {}, expected)


def test_debug_shows_the_traceback_a_developer_asks_for(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import errors

    monkeypatch.setattr(errors, "show_tracebacks", False)  # restored after the test: --debug sets it
    result = CliRunner().invoke(app, ["--debug", "run", "--week", "yesterday"])
    assert result.exit_code != 0 and result.exception is not None
    assert "not a date" in str(result.exception)


def test_prefect_home_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    """PREFECT_HOME under a regular file: refused at once, naming the variable (no two-minute wait)."""
    import subprocess
    import sys

    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    env = {**os.environ, "PREFECT_HOME": str(blocker / "home")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "voc-weekly"), "run", "--week", WEEK],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: PREFECT_HOME={blocker / 'home'}: cannot create that folder (Not a directory)"
    ]


# --- bad --vars, weeks too far back, a .env that is not UTF-8 --------------------------------------

BAD_VARS: list[tuple[str, str]] = [
    (
        '{"critical_increse_pct": 50}',
        "--vars: no var 'critical_increse_pct' (did you mean critical_increase_pct?)",
    ),
    ('{"fdr_alpha": 2}', "--vars: fdr_alpha=2: must be a number greater than 0 and less than 1"),
    ('{"fdr_alpha": -1}', "--vars: fdr_alpha=-1: must be a number greater than 0 and less than 1"),
    ('{"fdr_alpha": "abc"}', "--vars: fdr_alpha='abc': must be a number"),
    (
        '{"critical_min_volume": "20 or 1=1"}',
        "--vars: critical_min_volume='20 or 1=1': must be a whole number",
    ),
]


@pytest.mark.parametrize(("given", "expected"), BAD_VARS, ids=[given for given, _ in BAD_VARS])
@pytest.mark.parametrize("command", [["backtest", "--week", WEEK], ["dbt", "build"]], ids=["backtest", "dbt"])
def test_bad_vars_are_refused_in_one_line_naming_the_var(
    workspace: Workspace, command: list[str], given: str, expected: str
) -> None:
    """Regression (issue 21): misspelled vars were ignored, fdr_alpha 2 or -1 accepted, and text
    reached the SQL (`Binder Error: Referenced column "abc"`)."""
    assert_refused_in_one_line(workspace, [*command, "--vars", given], {}, expected)
    assert not (workspace.root / "warehouse.duckdb").exists(), "dbt never ran"


TOO_OLD = "2020-01-06"  # ~360 weeks back: every partition since then would be read


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--week", TOO_OLD],
        ["compare", "--week", TOO_OLD],
        ["backtest", "--week", TOO_OLD],
        ["dbt", "build", "--vars", f"{{report_week: {TOO_OLD}}}"],
    ],
    ids=["run", "compare", "backtest", "dbt"],
)
def test_a_week_older_than_the_limit_is_refused_in_one_line(workspace: Workspace, args: list[str]) -> None:
    """Regression (issue 16): a week years back scanned every partition from then until now."""
    env = {"VOC_MAX_WEEKS_BACK": "52"}
    assert_refused_in_one_line(workspace, args, env, "older than the 52 weeks VOC_MAX_WEEKS_BACK allows")
    assert not (workspace.root / "warehouse.duckdb").exists(), "dbt never ran"


@pytest.mark.parametrize(
    ("encoding", "named"),
    [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"), ("cp949", "CP949 (EUC-KR)")],
)
def test_an_env_file_that_is_not_utf8_is_one_line_naming_it_and_its_encoding(
    tmp_path: Path, encoding: str, named: str
) -> None:
    """Regression (issue 21): a .env saved as UTF-16 or CP949 gave an 80-line UnicodeDecodeError trace,
    in our settings and in Prefect's own (run as a subprocess: Prefect reads .env when imported)."""
    import subprocess
    import sys

    (tmp_path / ".env").write_text("# 주간 VOC 설정\nVOC_SLACK_CHANNEL=C0VOCWEEKLY\n", encoding=encoding)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "voc-weekly"), "run", "--week", WEEK],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.splitlines() == [
        f"error: {tmp_path / '.env'}: the file is saved as {named}, not UTF-8: save it as UTF-8 "
        "(VOC Weekly and Prefect read .env as UTF-8)"
    ]


def test_settings_read_in_a_flow_run_name_an_env_file_that_is_not_utf8(tmp_path: Path) -> None:
    from flows.errors import SettingsError
    from flows.settings import VocSettings

    env_file = tmp_path / ".env"
    env_file.write_text("VOC_SLACK_CHANNEL=C0VOCWEEKLY\n", encoding="utf-16")
    with pytest.raises(SettingsError, match=r"\.env: the file is saved as UTF-16, not UTF-8"):
        VocSettings(_env_file=env_file)


# --- messy exports: right numbers from real exports, whatever they hold ---------------------------

NFD = unicodedata.normalize("NFD", "시험")
NEGATIVE_NFD = unicodedata.normalize("NFD", "부정")


@dataclass(frozen=True)
class ExportClass:
    """One way real exports are messy: CSV lines for a category of its own, and the figures the
    report must show for it (baseline tickets, reported tickets, negative in the reported week)."""

    name: str
    category: tuple[str, str, str]
    lines: list[str]
    expected: tuple[int, int, int]


def csv_line(
    ticket_id: str,
    created: str,
    category: tuple[str, str, str],
    emotion: str = "중립",
    keywords: str = "키워드",
) -> str:
    quoted = [
        f'"{value}"' for value in (ticket_id, created, "제목", "본문", *category, emotion, "", keywords)
    ]
    return ",".join(quoted)


OFFSETS = ("시간대", "오프셋", "있음")
NO_OFFSET = ("시간대", "오프셋", "없음")
TEXT_IDS = ("아이디", "문자", "숫자 뒤")
DIGITS = ("123", "t", "false")
PLACEHOLDERS = ("아이디", "자리표시", "없음")
TRIMMED = ("아이디", "공백", "앞뒤")
UNICODE = ("시험", "유니코드", "정규화")
LATER_COPY = ("중복", "나중", "사본")
NANOSECONDS = ("시각", "나노초", "일요일")
MARKUP_AS_EXPORTED = ("결제 [/] [bold]", "ESC\x1b[2J\x1b]0;owned\x07", "x")
MARKUP = ("결제 [/] [bold]", "ESC[2J]0;owned", "x")  # control characters dropped, the rest kept as text
KEYWORDS = ("키워드", "공백", "유니코드")
# Keywords around commas with tabs, no-break and ideographic spaces: DuckDB's trim() removed only
# spaces, so '\t결제' and '결제' were two keywords (issue 16).
KEYWORD_SPELLINGS = ["로그인, 결제", "로그인,\t결제", "\u00a0로그인,결제\u3000", "로그인\u2003,\u200b결제 "]

EXPORT_CLASSES = [
    ExportClass(
        "UTC offsets honoured after 25,000 rows without one",
        OFFSETS,
        [
            csv_line("tz-b", "2026-11-15T20:00:00+09:00", OFFSETS),  # Sunday 20:00 KST: the baseline week
            csv_line("tz-r1", "2026-11-16T00:30:00+09:00", OFFSETS),
            csv_line("tz-r2", "2026-11-16T08:00:00+09:00", OFFSETS),
            csv_line("tz-r3", "2026-11-22T23:00:00+09:00", OFFSETS),  # dropped offset: the next week
            csv_line("tz-r4", "2026-11-18T01:00:00Z", OFFSETS),
            csv_line("tz-r5", "2026-11-17T20:00:00-05:00", OFFSETS),
            csv_line("tz-r6", "2026-11-22T14:00:00+00:00", OFFSETS),
        ],
        (1, 6, 0),
    ),
    ExportClass(
        "a time without an offset is UTC",
        NO_OFFSET,
        [
            csv_line("utc-b", "2026-11-15 14:00:00", NO_OFFSET),
            csv_line("utc-r", "2026-11-15 16:00:00", NO_OFFSET),
        ],
        (1, 1, 0),
    ),
    ExportClass(
        "text ids after 25,000 numeric ones",
        TEXT_IDS,
        [csv_line(f"ZD-{n}", "2026-11-18 01:00:00", TEXT_IDS) for n in range(3)],
        (0, 3, 0),
    ),
    ExportClass(
        "categories of digits or true/false are text",
        DIGITS,
        [csv_line(f"digits-{n}", "2026-11-18 01:00:00", DIGITS) for n in range(2)],
        (0, 2, 0),
    ),
    ExportClass(
        "blank and placeholder ids are rows without an id",
        PLACEHOLDERS,
        [csv_line(f"real-{n}", "2026-11-18 01:00:00", PLACEHOLDERS) for n in range(3)]
        + [
            csv_line(i, "2026-11-18 01:00:00", PLACEHOLDERS)
            for i in ("", " ", "None", "nan", "null", "NULL", "N/A")
        ],
        (0, 3, 0),
    ),
    ExportClass(
        "ids are trimmed",
        TRIMMED,
        [
            csv_line(i, f"2026-11-18 0{n}:00:00", TRIMMED)
            for n, i in enumerate(("D13", " D13", "D13 ", "\ufeffD13"))
        ],
        (0, 1, 0),
    ),
    ExportClass(
        "NFD, zero-width spaces and BOMs are one category and one emotion",
        UNICODE,
        [
            csv_line("nfc", "2026-11-18 01:00:00", UNICODE, "부정"),
            csv_line("nfd", "2026-11-18 01:00:00", (NFD, *UNICODE[1:]), NEGATIVE_NFD),
            csv_line("zwsp", "2026-11-18 01:00:00", ("시\u200b험", "유니코드\u200b", "정규화"), "부\u200b정"),
            csv_line("bom", "2026-11-18 01:00:00", ("\ufeff시험", *UNICODE[1:]), "\ufeff부정"),
        ],
        (0, 4, 4),
    ),
    ExportClass(
        "a later copy of an id leaves a reported week as it was",
        LATER_COPY,
        [csv_line(f"copy-{n}", "2026-11-10 01:00:00", LATER_COPY) for n in range(10)]
        + [
            csv_line("copy-0", "2026-11-24 01:00:00", LATER_COPY),
            csv_line("copy-1", "2027-01-05 01:00:00", LATER_COPY),
        ],
        (10, 0, 0),
    ),
    ExportClass(
        "nanoseconds are truncated, never rounded into the next week",
        NANOSECONDS,
        [
            csv_line("ns-b", "2026-11-15T14:59:59.999999999Z", NANOSECONDS),  # Sunday 23:59:59.999999999 KST
            csv_line("ns-r", "2026-11-22T14:59:59.999999999Z", NANOSECONDS),
        ],
        (1, 1, 0),
    ),
    ExportClass(
        "markup and control characters in a label are text",
        MARKUP,
        [csv_line("markup", "2026-11-18 01:00:00", MARKUP_AS_EXPORTED)],
        (0, 1, 0),
    ),
    ExportClass(
        "keywords are trimmed of any whitespace (a new category with 12 tickets: MONITOR)",
        KEYWORDS,
        [
            csv_line(f"kw-{n}", "2026-11-18 01:00:00", KEYWORDS, keywords=KEYWORD_SPELLINGS[n % 4])
            for n in range(12)
        ],
        (0, 12, 0),
    ),
]
FILLER_ROWS = 25_000  # more than DuckDB's sniffer samples: the types it would guess come from these


def messy_export(path: Path) -> Path:
    """A CSV export as real ones come: 25,000 old rows whose texts look like numbers and booleans
    and whose times have no offset, then the rows of every ExportClass, rows without a time, and a
    ticket after the reported week (the data reaches its end)."""
    lines = [HEADER]
    lines += [f"{n},2020-01-0{1 + n % 7} 00:00:00,{n},{n},{n},t,{n},부정,,{n}" for n in range(FILLER_ROWS)]
    for export_class in EXPORT_CLASSES:
        lines += export_class.lines
    lines += [f'"no-time-{n}","",제목,본문,a,b,c,,,' for n in range(2)]
    lines.append(csv_line("coverage", "2026-11-23T00:30:00+09:00", ("기타", "기타", "기타")))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class MessyRun:
    report: WeeklyReport
    printed: str


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory: pytest.TempPathFactory) -> MessyRun:
    """`voc-weekly compare` on the messy export, as a subprocess (what a terminal shows), and the
    report it built, read from its warehouse."""
    import subprocess
    import sys

    from flows.warehouse.dbt import mart_relations
    from flows.warehouse.readers import open_warehouse, read_report
    from tests.factories import make_settings

    folder = tmp_path_factory.mktemp("messy")
    settings = make_settings(folder, messy_export(folder / "export.csv"))
    env = {
        **os.environ,
        "VOC_HOME": str(settings.home),
        "VOC_SOURCE_PATH": str(settings.effective_source_path),
        "VOC_DUCKDB_PATH": str(settings.duckdb_file),
        "COLUMNS": "400",
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "voc-weekly"), "compare", "--week", WEEK],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    relations = mart_relations(settings.dbt_project_dir)
    return MessyRun(read_report(open_warehouse(settings), relations, date(2026, 11, 16)), done.stdout)


@pytest.mark.parametrize("export_class", EXPORT_CLASSES, ids=[c.name for c in EXPORT_CLASSES])
def test_a_messy_export_gives_the_right_figures(messy_run: MessyRun, export_class: ExportClass) -> None:
    """Regression (issue 21): offsets were dropped (a category counted 0 → 3, not 1 → 6), text ids
    after numeric ones failed the build, 90 placeholder-id rows became 4 tickets, NFD '부정' was not
    negative, a later copy of an id moved a ticket out of the baseline, and …59.999999999 was
    rounded into the next week."""
    [found] = [c for c in messy_run.report.categories if c.category == export_class.category]
    counted = (found.previous_tickets, found.reported_tickets, found.reported_negative_tickets)
    assert counted == export_class.expected


def test_a_messy_export_counts_the_rows_it_could_not_use(messy_run: MessyRun) -> None:
    coverage = messy_run.report.coverage
    assert (coverage.previous_rows_without_id, coverage.reported_rows_without_id) == (0, 7)
    assert coverage.rows_without_create_time == 2
    footer = preview(build_summary(messy_run.report)).splitlines()
    assert ":warning: ID가 없는 원본 행 7건은 집계에서 제외했습니다 (기준주 0건 · 비교주 7건)." in footer
    assert (
        ":warning: 생성 시각(event_create_time)이 없는 원본 행 2건은 어느 주에도 집계하지 않았습니다."
        in footer
    )
    assert unused_rows_text(coverage) == [  # the run log
        "7 source row(s) without an id left out of the counts (previous week 0, reported week 7)",
        "2 source row(s) without event_create_time left out of the counts (they belong to no week)",
    ]


def test_keywords_are_one_keyword_whatever_whitespace_surrounds_them(messy_run: MessyRun) -> None:
    """Regression (issue 16): keywords were trimmed with trim(), spaces only on DuckDB."""
    keywords = messy_run.report.keywords_of(KEYWORDS)
    counted = {kw.keyword: (kw.previous_tickets, kw.reported_tickets) for kw in keywords}
    assert counted == {"로그인": (0, 12), "결제": (0, 12)}


def test_one_category_per_label_whatever_its_unicode_form(messy_run: MessyRun) -> None:
    labels = [change.category_label for change in messy_run.report.categories]
    assert len(labels) == len(set(labels)), labels
    assert "시험 / 유니코드 / 정규화" in labels


def test_compare_prints_labels_as_text_never_markup_or_terminal_codes(messy_run: MessyRun) -> None:
    """Regression (issue 16): a label containing '[/]' made `compare` print a MarkupError traceback;
    (issue 21) one containing ESC sequences reached the terminal raw."""
    assert "결제 [/] [bold] / ESC[2J]0;owned / x" in messy_run.printed
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", messy_run.printed.replace("\x1b", "")), "raw"
    assert "\x1b]0;" not in messy_run.printed and "\x1b[2J" not in messy_run.printed


def test_nanosecond_parquet_times_are_truncated_never_rounded(tmp_path: Path) -> None:
    """Regression (issue 21): a TIMESTAMP_NS export (pandas' default) was rounded, moving
    …59.999999999 on a Sunday into the next week."""
    from flows.warehouse.dbt import build_week
    from flows.warehouse.readers import open_warehouse, read_report
    from tests.factories import make_settings

    sunday_end = 1_795_359_599_999_999_999  # 2026-11-22 14:59:59.999999999 UTC: Sunday, last instant
    times = [sunday_end - 7 * 86_400 * 10**9, sunday_end, sunday_end + 2 * 3_600 * 10**9]
    columns: dict[str, Any] = {name: ["x"] * 3 for name in SOURCE_COLUMNS}
    columns.update(id=["b", "r", "next-week"], overall_emotion=["중립"] * 3)
    columns["event_create_time"] = pa.array(times, pa.timestamp("ns"))
    path = tmp_path / "ns.parquet"
    pq.write_table(pa.table(columns), path)
    settings = make_settings(tmp_path, path)
    report = read_report(
        open_warehouse(settings), build_week(settings, date(2026, 11, 16), quiet=True), date(2026, 11, 16)
    )
    [category] = report.categories
    assert (category.previous_tickets, category.reported_tickets) == (1, 1)


def test_a_backtest_longer_than_the_data_says_so_and_starts_where_it_begins(
    messy_run: MessyRun, tmp_path: Path
) -> None:
    """Regression (issue 21): 26 weeks on 3 weeks of data listed 23 empty weeks as 0-flag weeks and
    flagged every category in the first data week (against an empty baseline) with no word."""
    source = tmp_path / "export.csv"
    messy_export(source)
    env = {"VOC_HOME": str(tmp_path / ".voc"), "VOC_SOURCE_PATH": str(source), "COLUMNS": "200"}
    out = tmp_path / "bt"
    result = CliRunner().invoke(
        app, ["backtest", "--weeks", "26", "--week", WEEK, "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert (
        "Note: the source has tickets in 2 of the 26 weeks replayed: the table starts at 2026-11-16, "
        "the first week whose previous week has tickets." in said
    )
    with (out / "backtest-2026-11-16-26w.csv").open(encoding="utf-8") as file:
        weeks = [row["report_week"] for row in csv.DictReader(file)]
    assert weeks == ["2026-11-16"]
