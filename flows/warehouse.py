"""The warehouse side: check the source, build the dbt models for a week, read the report marts."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import duckdb

from flows.errors import DbtError, SourceError
from flows.report import CategoryChange, Coverage, KeywordChange, Sample, Thresholds, WeeklyReport
from flows.settings import VocSettings

PROJECT_NAME = "voc_weekly"
REPORT_MODELS = (
    "voc_weekly_comparison",
    "voc_weekly_samples",
    "voc_weekly_keyword_changes",
    "voc_weekly_report_status",
)
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


def check_source_file(path: Path) -> None:
    """Fail in one line, naming the file and the setting, unless DuckDB can read the export."""
    where = f"{_SOURCE_SETTING}={path}"
    if not path.is_file():
        raise SourceError(f"{where}: no such file (set {_SOURCE_SETTING} to a CSV or Parquet export)")
    try:
        with duckdb.connect() as con:
            described = con.execute(f"describe select * from {_quote(path)}").fetchall()
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        raise SourceError(f"{where}: cannot be read as CSV or Parquet ({reason})") from exc
    types = {str(name): str(type_) for name, type_, *_ in described}
    missing = [column for column in SOURCE_COLUMNS if column not in types]
    if missing:
        raise SourceError(f"{where}: missing column(s) {', '.join(missing)} of the source contract")
    if not types["event_create_time"].startswith(("TIMESTAMP", "DATE")):
        raise SourceError(
            f"{where}: event_create_time is {types['event_create_time']}, not a timestamp "
            "(export it as ISO 8601, e.g. 2026-11-16 09:30:00+00)"
        )


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@contextmanager
def dbt_environment(settings: VocSettings) -> Iterator[None]:
    """Expose the settings to profiles.yml and sources.yml (env_var) for the duration of a dbt call."""
    values = {
        "VOC_DBT_TARGET": settings.dbt_target,
        "VOC_SOURCE_PATH": str(settings.effective_source_path),
        "VOC_DUCKDB_PATH": str(settings.duckdb_file),
        "VOC_BQ_PROJECT": settings.bq_project,
        "VOC_BQ_DATASET": settings.bq_dataset,
        "VOC_BQ_LOCATION": settings.bq_location,
        "VOC_BQ_SOURCE_TABLE": settings.bq_source_table,
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update({name: value for name, value in values.items() if value is not None})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def invoke_dbt(settings: VocSettings, args: list[str]) -> None:
    """Run a dbt command on the configured target; any failing model or test raises.

    Inside a flow run it goes through prefect-dbt, so every node shows up as a Prefect task. From
    the command line, plain dbt: no Prefect server needs to start just to build a table.
    """
    from prefect.context import FlowRunContext, TaskRunContext

    if settings.dbt_target == "dev":
        settings.duckdb_file.parent.mkdir(parents=True, exist_ok=True)
    project_dir = settings.dbt_project_dir
    with dbt_environment(settings):
        if FlowRunContext.get() or TaskRunContext.get():
            from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

            settings_ = PrefectDbtSettings(project_dir=project_dir, profiles_dir=project_dir)
            PrefectDbtRunner(settings=settings_).invoke(args)  # raises on any failure
            return
        from dbt.cli.main import dbtRunner

        dirs = ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
        result = dbtRunner().invoke([*args, *dirs])
    if not result.success:
        raise DbtError(f"dbt {' '.join(args)} failed (see the dbt output above)")


def build_week(settings: VocSettings, week: date, quiet: bool = False) -> dict[str, str]:
    """`dbt build` the models for a reported week; return the report marts' relation names."""
    invoke_dbt(
        settings,
        [
            *(["--quiet"] if quiet else []),
            "build",
            "--vars",
            json.dumps({"report_week": week.isoformat()}),
            # Unit tests pin the SQL in CI; a scheduled run has no use for them.
            "--exclude-resource-type",
            "unit_test",
        ],
    )
    return mart_relations(settings.dbt_project_dir)


def mart_relations(project_dir: Path) -> dict[str, str]:
    """The warehouse names of the report marts, from the manifest of the last dbt run."""
    manifest = json.loads((project_dir / "target" / "manifest.json").read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    return {name: nodes[f"model.{PROJECT_NAME}.{name}"]["relation_name"] for name in REPORT_MODELS}


class Warehouse(Protocol):
    """Runs a read-only query with the report week bound to the parameter `@week`."""

    def fetch(self, sql: str, week: date) -> list[dict[str, Any]]: ...


class DuckDBWarehouse:
    """The embedded warehouse file dbt built."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fetch(self, sql: str, week: date) -> list[dict[str, Any]]:
        # Not read_only: dbt-duckdb keeps its connection to the file open in this process, and
        # DuckDB refuses a second connection with a different configuration.
        with duckdb.connect(str(self.path)) as con:
            cursor = con.execute(sql.replace("@week", "$week"), {"week": week})
            columns = [description[0] for description in cursor.description or ()]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


class BigQueryWarehouse:
    """The production warehouse; the week is a query parameter, never spliced into SQL."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def fetch(self, sql: str, week: date) -> list[dict[str, Any]]:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter("week", "DATE", week)]
        )
        return [dict(row.items()) for row in self.client.query(sql, job_config=config).result()]


def open_warehouse(settings: VocSettings) -> Warehouse:
    """The warehouse the dbt target wrote to."""
    if settings.dbt_target == "dev":
        return DuckDBWarehouse(settings.duckdb_file)
    from google.cloud import bigquery

    return BigQueryWarehouse(bigquery.Client(project=settings.bq_project, location=settings.bq_location))


def read_report(warehouse: Warehouse, relations: dict[str, str], week: date) -> WeeklyReport:
    """Read one reported week from the marts: coverage, all categories, samples and keywords."""
    status_rows = warehouse.fetch(
        f"select * from {relations['voc_weekly_report_status']} where report_week_start = @week",
        week,
    )
    if not status_rows:
        raise SourceError(f"no report status for week {week}: run dbt build for that week first")
    categories = warehouse.fetch(
        f"""select * from {relations["voc_weekly_comparison"]}
        where report_week_start = @week
        order by severity_rank, abs(ticket_change) desc, category_label, category1, category2, category3""",
        week,
    )
    samples = warehouse.fetch(
        f"""select * from {relations["voc_weekly_samples"]}
        where report_week_start = @week
        order by category_label, category1, category2, category3, week_role, sample_rank""",
        week,
    )
    keywords = warehouse.fetch(
        f"""select * from {relations["voc_weekly_keyword_changes"]}
        where report_week_start = @week
        order by category_label, category1, category2, category3, growth_rank""",
        week,
    )
    return WeeklyReport(
        coverage=Coverage.model_validate(status_rows[0]),
        thresholds=Thresholds.model_validate(status_rows[0]),
        categories=tuple(CategoryChange.model_validate(row) for row in categories),
        samples=tuple(Sample.model_validate(row) for row in samples),
        keywords=tuple(KeywordChange.model_validate(row) for row in keywords),
    )


def prepare_source(settings: VocSettings) -> None:
    """Make sure DuckDB has a readable source: the analyst's export, or up-to-date demo data."""
    if settings.dbt_target != "dev":
        return  # BigQuery: the production table; dbt reports any problem with it
    if settings.uses_demo_data:
        from flows.demo_data import ensure_demo_data
        from flows.weeks import last_complete_week

        ensure_demo_data(settings.demo_source_path, last_complete_week())
    check_source_file(settings.effective_source_path)
