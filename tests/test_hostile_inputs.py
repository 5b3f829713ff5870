"""Hostile input, table-driven: every bad source, week, setting or text a user (or an adversary) can
give ends the command with exit code 2 and one line on stderr, posts nothing and touches no user file.

Each row runs the real command line (typer's CliRunner) with a working Slack configuration pointed at
the loopback Slack server, and an `--out` folder holding a user's own files, so a row that got past
its check would post or write and fail the assertions below.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.errors import SourceError
from flows.warehouse.source import check_source_file
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
        "event_create_time is VARCHAR, not a timestamp",
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
