"""Read the report marts of one week, from DuckDB or BigQuery, into a WeeklyReport."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import duckdb

from flows.errors import SourceError
from flows.report import (
    CategoryChange,
    CategoryOwners,
    Coverage,
    FeedbackWeek,
    KeywordChange,
    Rollup,
    Sample,
    Thresholds,
    WeeklyReport,
)
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


def read_report(
    warehouse: Warehouse, relations: dict[str, str], week: date, feedback_weeks: int = 12
) -> WeeklyReport:
    """Read one reported week from the marts: coverage, all categories, roll-ups, samples and
    keywords, the categories' owners, and the team's feedback on the `feedback_weeks` weeks before it."""
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
        order by category_label, category1, category2, category3, sample_week, sample_rank""",
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
    owners = warehouse.fetch(
        f"""select * from {relations["voc_weekly_category_owners"]}
        where report_week_start = {week_param} and owners is not null""",
        week,
    )
    return WeeklyReport(
        coverage=Coverage.model_validate(status_rows[0]),
        thresholds=Thresholds.model_validate(status_rows[0]),
        categories=tuple(CategoryChange.model_validate(row) for row in categories),
        samples=tuple(Sample.model_validate(row) for row in samples),
        keywords=tuple(KeywordChange.model_validate(row) for row in keywords),
        rollups=tuple(Rollup.model_validate(row) for row in rollups),
        owners=tuple(CategoryOwners.model_validate(row) for row in owners),
        feedback=read_feedback_weeks(warehouse, relations, week, feedback_weeks),
        feedback_weeks=feedback_weeks,
    )


def read_feedback_weeks(
    warehouse: Warehouse, relations: dict[str, str], week: date, weeks: int
) -> tuple[FeedbackWeek, ...]:
    """voc_weekly_feedback for the `weeks` reported weeks before `week`, oldest first."""
    first = week - timedelta(weeks=weeks)
    rows = warehouse.fetch(
        f"""select * from {relations["voc_weekly_feedback"]}
        where report_week_start < {warehouse.week_parameter}
        order by report_week_start""",
        week,
    )
    return tuple(FeedbackWeek.model_validate(row) for row in rows if row["report_week_start"] >= first)


def read_feedback_table(settings: VocSettings, end_week: date, weeks: int) -> list[FeedbackWeek]:
    """voc_weekly_feedback for the `weeks` reported weeks ending with `end_week`, as the last run left it."""
    from flows.errors import VocError

    if settings.dbt_target == "dev":
        relation, where = "main.voc_weekly_feedback", str(settings.duckdb_file)
        missing: tuple[type[Exception], ...] = (duckdb.CatalogException,)
        if not settings.duckdb_file.exists():
            raise VocError(f"no warehouse at {where} yet: run `voc-weekly run` first")
    else:
        from google.api_core.exceptions import NotFound

        relation = f"`{settings.bq_project}.{settings.bq_dataset}.voc_weekly_feedback`"
        where, missing = f"{settings.bq_project}.{settings.bq_dataset}", (NotFound,)
    warehouse = open_warehouse(settings)
    first = end_week - timedelta(weeks=weeks - 1)
    try:
        rows = warehouse.fetch(
            f"""select * from {relation} where report_week_start <= {warehouse.week_parameter}
            order by report_week_start""",
            end_week,
        )
    except missing:
        raise VocError(
            f"no feedback table in {where} yet: `voc-weekly run` builds voc_weekly_feedback"
        ) from None
    return [FeedbackWeek.model_validate(row) for row in rows if row["report_week_start"] >= first]
