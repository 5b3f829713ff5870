"""Read the report marts of one week, from DuckDB or BigQuery, into a WeeklyReport."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Protocol

import duckdb

from flows.errors import SourceError
from flows.report import CategoryChange, Coverage, KeywordChange, Rollup, Sample, Thresholds, WeeklyReport
from flows.settings import VocSettings
from flows.warehouse.bigquery import bigquery_client
from flows.warehouse.dbt import LOCK_ERROR, warehouse_locked


class Warehouse(Protocol):
    """Runs a read-only query with the report week bound as a query parameter, never spliced in.

    Queries name it by `week_parameter`, in the warehouse's own syntax.
    """

    week_parameter: str

    def fetch(self, sql: str, week: date) -> list[dict[str, Any]]: ...


class DuckDBWarehouse:
    """The embedded warehouse file dbt built."""

    week_parameter = "$week"

    def __init__(self, path: Path) -> None:
        self.path = path

    def fetch(self, sql: str, week: date) -> list[dict[str, Any]]:
        # Not read_only: dbt-duckdb keeps its connection to the file open in this process, and
        # DuckDB refuses a second connection with a different configuration.
        try:
            con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if LOCK_ERROR in str(exc):
                raise warehouse_locked(self.path) from None
            raise
        with con:
            cursor = con.execute(sql, {"week": week})
            columns = [description[0] for description in cursor.description or ()]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


class BigQueryWarehouse:
    """The production warehouse."""

    week_parameter = "@week"

    def __init__(self, client: Any) -> None:
        self.client = client

    def fetch(self, sql: str, week: date) -> list[dict[str, Any]]:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter("week", "DATE", week)]
        )
        rows = self.client.query(sql, job_config=config).result()
        return [dict(row.items()) for row in rows]


def open_warehouse(settings: VocSettings) -> Warehouse:
    """The warehouse the dbt target wrote to."""
    if settings.dbt_target == "dev":
        return DuckDBWarehouse(settings.duckdb_file)
    # The same credentials dbt was given: one VOC_BQ_AUTH_METHOD for the build and the read.
    return BigQueryWarehouse(bigquery_client(settings))


def read_report(warehouse: Warehouse, relations: dict[str, str], week: date) -> WeeklyReport:
    """Read one reported week from the marts: coverage, all categories, roll-ups, samples and keywords."""
    week_param = warehouse.week_parameter  # bound to `week`, never spliced in
    status_rows = warehouse.fetch(
        f"select * from {relations['voc_weekly_report_status']} where report_week_start = {week_param}",
        week,
    )
    if not status_rows:
        raise SourceError(
            f"no report status for week {week}: run dbt build for that week first",
            slack_text=f"{week} 주의 집계가 없습니다. 그 주의 dbt build를 먼저 실행해 주세요.",
        )
    categories = warehouse.fetch(
        f"""select * from {relations["voc_weekly_comparison"]}
        where report_week_start = {week_param}
        order by severity_rank, abs(ticket_change) desc, category_label, category1, category2, category3""",
        week,
    )
    samples = warehouse.fetch(
        f"""select * from {relations["voc_weekly_samples"]}
        where report_week_start = {week_param}
        order by category_label, category1, category2, category3, week_role, sample_rank""",
        week,
    )
    keywords = warehouse.fetch(
        f"""select * from {relations["voc_weekly_keyword_changes"]}
        where report_week_start = {week_param}
        order by category_label, category1, category2, category3, growth_rank""",
        week,
    )
    rollups = warehouse.fetch(
        f"""select * from {relations["voc_weekly_rollups"]}
        where report_week_start = {week_param}
        order by q_value asc nulls last, level, rollup_label""",
        week,
    )
    return WeeklyReport(
        coverage=Coverage.model_validate(status_rows[0]),
        thresholds=Thresholds.model_validate(status_rows[0]),
        categories=tuple(CategoryChange.model_validate(row) for row in categories),
        samples=tuple(Sample.model_validate(row) for row in samples),
        keywords=tuple(KeywordChange.model_validate(row) for row in keywords),
        rollups=tuple(Rollup.model_validate(row) for row in rollups),
    )
