"""The source the models read: the analyst's export (or the demo data) on DuckDB, checked before dbt."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from flows.errors import SourceError
from flows.settings import VocSettings

SOURCE_COLUMNS = (
    "id",
    "event_create_time",
    "title",
    "detail",
    "category1",
    "category2",
    "category3",
    "overall_emotion",
    "main_topic",
    "keywords",
)
# The types an export's event_create_time may have besides text (which is parsed): DuckDB's names.
TIME_TYPES = ("TIMESTAMP", "DATE")
_SOURCE_SETTING = "VOC_SOURCE_PATH"
_TIME_HINT = "export it as ISO 8601, e.g. 2026-11-16 09:30:00+09:00 (UTC when no offset is given)"


def is_parquet(path: Path) -> bool:
    """A `.parquet` export is read as Parquet, anything else as CSV (macros/voc_source.sql alike)."""
    return path.name.lower().endswith(".parquet")


def check_source_file(path: Path) -> None:
    """Fail in one line, naming the file and the setting, unless dbt's read of the export will work.

    The export is read as dbt's view reads it (declared types, never guessed ones): every column is
    text except event_create_time, whose first value that is not a time is named with its line.
    """
    text = str(path)
    where = f"{_SOURCE_SETTING}={text if text.isprintable() else repr(text)}"
    if not path.is_file():
        raise SourceError(
            f"{where}: no such file (set {_SOURCE_SETTING} to a CSV or Parquet export)",
            slack_text=f"원본 데이터 파일이 없습니다. {_SOURCE_SETTING} 설정을 확인해 주세요.",
        )
    if path.stat().st_size == 0:
        raise SourceError(
            f"{where}: the file is empty (export the tickets again)",
            slack_text="원본 데이터 파일이 비어 있습니다.",
        )
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")  # as dbt's session (profiles.yml): no offset means UTC
        # Rejects kept aside, DuckDB's sniffer tolerates a bad line instead of guessing another
        # dialect around it; the bad line is named below.
        reader = (
            f"read_parquet({_quote(path)})" if is_parquet(path) else _csv_reader(path, store_rejects="true")
        )
        try:
            described = con.execute(f"describe select * from {reader}").fetchall()
        except duckdb.Error as exc:
            raise SourceError(
                f"{where}: cannot be read as CSV or Parquet ({_first_line(exc)})",
                slack_text="원본 데이터 파일을 CSV나 Parquet으로 읽을 수 없습니다.",
            ) from exc
        types = {str(name): str(type_) for name, type_, *_ in described}
        missing = [column for column in SOURCE_COLUMNS if column not in types]
        if missing:
            raise SourceError(
                f"{where}: missing column(s) {', '.join(missing)} of the source contract",
                slack_text=f"원본 데이터에 필요한 열이 없습니다: {', '.join(missing)}",
            )
        problem = _parquet_time_problem(con, reader, types) if is_parquet(path) else _csv_problem(con, path)
    if problem:
        raise SourceError(
            f"{where}: {problem}",
            slack_text="원본 데이터의 event_create_time 열에 날짜·시각이 아닌 값이 있습니다.",
        )


def _csv_reader(path: Path, **options: str) -> str:
    """read_csv as the view reads it: a header row, RFC 4180 quotes (never guessed from a sample of
    rows that happen to have none), every column as text unless `options` says."""
    settings = "".join(f", {name} = {value}" for name, value in options.items())
    dialect = """header = true, quote = '"', escape = '"'"""
    return f"read_csv({_quote(path)}, {dialect}, all_varchar = true{settings})"


def _csv_problem(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """The first line DuckDB cannot read with event_create_time as a time, or None."""
    reader = _csv_reader(path, types="{'event_create_time': 'TIMESTAMPTZ'}", store_rejects="true")
    try:
        # Every column, in order: with only some read, DuckDB names the wrong column in reject_errors.
        con.execute(f"select count(columns(*)) from {reader}").fetchall()
    except duckdb.Error as exc:
        return f"cannot be read as CSV ({_first_line(exc)})"
    rejected = con.execute(
        "select line, column_name, error_type, error_message from reject_errors order by line limit 1"
    ).fetchone()
    if rejected is None:
        return None
    line, column, error_type, message = rejected
    if error_type == "CAST" and column == "event_create_time":
        value = str(message).split('string "', 1)[-1].split('" to', 1)[0]
        return f"event_create_time on line {line} is not a time ({value[:40]!r}): {_TIME_HINT}"
    return f"line {line} cannot be read as CSV ({error_type.lower()})"


def _parquet_time_problem(con: duckdb.DuckDBPyConnection, reader: str, types: dict[str, str]) -> str | None:
    """What is wrong with a Parquet export's event_create_time: its type, or its first value that is
    not a time (text is parsed as dbt's view parses it), or None."""
    time_type = types["event_create_time"]
    if time_type.startswith(TIME_TYPES):
        return None
    if time_type != "VARCHAR":
        return f"event_create_time is {time_type}, not a time: {_TIME_HINT}"
    bad = con.execute(
        f"""select row_number, event_create_time from (
            select row_number() over () as row_number, event_create_time from {reader}
        ) where event_create_time is not null and try_cast(event_create_time as timestamptz) is null
        order by row_number limit 1"""
    ).fetchone()
    if bad is None:
        return None
    return f"event_create_time in row {bad[0]} is not a time ({str(bad[1])[:40]!r}): {_TIME_HINT}"


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [""])[0]


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def prepare_source(settings: VocSettings, week: date | None = None) -> None:
    """Make sure DuckDB has a readable source: the analyst's export, or demo data ending with `week`.

    `week` is the reported week (default: the last complete one): the demo plants its examples of
    every severity in its last week, so a demo report of any week shows all four.
    """
    if settings.dbt_target != "dev":
        return  # BigQuery: the production table; dbt reports any problem with it
    if settings.uses_demo_data:
        from flows.demo.generator import ensure_demo_data
        from flows.weeks import last_complete_week

        ensure_demo_data(settings.demo_source_path, week or last_complete_week())
    check_source_file(settings.effective_source_path)
