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
_SOURCE_SETTING = "VOC_SOURCE_PATH"
_SOURCE_SETTING = "VOC_SOURCE_PATH"


def check_source_file(path: Path) -> None:
    """Fail in one line, naming the file and the setting, unless DuckDB can read the export."""
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
    try:
        with duckdb.connect() as con:
            described = con.execute(f"describe select * from {_quote(path)}").fetchall()
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        raise SourceError(
            f"{where}: cannot be read as CSV or Parquet ({reason})",
            slack_text="원본 데이터 파일을 CSV나 Parquet으로 읽을 수 없습니다.",
        ) from exc
    types = {str(name): str(type_) for name, type_, *_ in described}
    missing = [column for column in SOURCE_COLUMNS if column not in types]
    if missing:
        raise SourceError(
            f"{where}: missing column(s) {', '.join(missing)} of the source contract",
            slack_text=f"원본 데이터에 필요한 열이 없습니다: {', '.join(missing)}",
        )
    if not types["event_create_time"].startswith(("TIMESTAMP", "DATE")):
        raise SourceError(
            f"{where}: event_create_time is {types['event_create_time']}, not a timestamp "
            "(export it as ISO 8601, e.g. 2026-11-16 09:30:00+00)",
            slack_text="원본 데이터의 event_create_time 열이 날짜·시각 형식이 아닙니다.",
        )


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
