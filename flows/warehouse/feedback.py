"""Writing the team's feedback into the warehouse table `voc_flag_feedback`, replacing whole weeks.

Each write makes the given weeks hold exactly the given rows (a removed reaction disappears), and
never touches other weeks: DuckDB deletes and inserts in one transaction; BigQuery loads the rows into
a scratch table (a load job, not streaming) and replaces the weeks' partitions with one MERGE.
The dbt hook `voc_create_feedback_table` creates the same table for builds no run has written to.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from flows.feedback import FeedbackRow
from flows.settings import VocSettings
from flows.warehouse.bigquery import bigquery_client
from flows.warehouse.dbt import LOCK_ERROR, warehouse_locked

TABLE = "voc_flag_feedback"
# The table's columns and their types (DuckDB, BigQuery), in order: as the dbt hook creates them.
FEEDBACK_COLUMNS: dict[str, tuple[str, str]] = {
    "report_week_start": ("date", "DATE"),
    "category1": ("varchar", "STRING"),
    "category2": ("varchar", "STRING"),
    "category3": ("varchar", "STRING"),
    "reaction": ("varchar", "STRING"),
    "user_id": ("varchar", "STRING"),
    "message_ts": ("varchar", "STRING"),
    "read_at": ("timestamp", "TIMESTAMP"),
}


def replace_feedback(settings: VocSettings, weeks: list[date], rows: list[FeedbackRow]) -> None:
    """Make `weeks` hold exactly `rows` in voc_flag_feedback (rows of other weeks are refused)."""
    stray = sorted({row.report_week_start for row in rows} - set(weeks))
    if stray:
        raise ValueError(f"feedback rows of week(s) {', '.join(map(str, stray))} outside the weeks replaced")
    if not weeks:
        return
    if settings.dbt_target == "dev":
        replace_in_duckdb(settings.duckdb_file, weeks, rows)
    else:
        dataset = f"{settings.bq_project}.{settings.bq_dataset}"
        replace_in_bigquery(bigquery_client(settings), dataset, weeks, rows)


def _values(row: FeedbackRow) -> list[Any]:
    return [getattr(row, column) for column in FEEDBACK_COLUMNS]


def replace_in_duckdb(path: Path, weeks: list[date], rows: list[FeedbackRow]) -> None:
    """Delete the weeks and insert the rows in one transaction (in the target's default schema)."""
    columns = ", ".join(f"{name} {types[0]}" for name, types in FEEDBACK_COLUMNS.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))  # not read_only: dbt-duckdb may hold the file in this process
    except duckdb.IOException as exc:
        if LOCK_ERROR in str(exc):
            raise warehouse_locked(path) from None
        raise
    with con:
        con.execute(f"create table if not exists {TABLE} ({columns})")
        con.begin()
        con.execute(
            f"delete from {TABLE} where report_week_start in (select unnest($weeks))", {"weeks": weeks}
        )
        if rows:
            placeholders = ", ".join("?" for _ in FEEDBACK_COLUMNS)
            con.executemany(f"insert into {TABLE} values ({placeholders})", [_values(row) for row in rows])
        con.commit()


def replace_in_bigquery(client: Any, dataset: str, weeks: list[date], rows: list[FeedbackRow]) -> None:
    """Load the rows into a scratch table, then one MERGE replaces the weeks' partitions with them."""
    from google.cloud import bigquery

    schema = [bigquery.SchemaField(name, types[1]) for name, types in FEEDBACK_COLUMNS.items()]
    table = bigquery.Table(f"{dataset}.{TABLE}", schema=schema)
    table.time_partitioning = bigquery.TimePartitioning(field="report_week_start")
    client.create_dataset(dataset, exists_ok=True)  # a dataset no dbt build has written yet
    client.create_table(table, exists_ok=True)

    # Literal dates only (from date objects, never from text), so the MERGE needs no parameters.
    replaced = ", ".join(f"date '{week.isoformat()}'" for week in weeks)
    if not rows:
        client.query(f"delete from `{dataset}.{TABLE}` where report_week_start in ({replaced})").result()
        return
    scratch = f"{dataset}.{TABLE}__load_{uuid.uuid4().hex[:12]}"
    config = bigquery.LoadJobConfig(
        schema=schema,
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
    )
    ndjson = "\n".join(json.dumps(row.model_dump(mode="json"), ensure_ascii=False) for row in rows)
    try:
        # A file of unknown size goes up as a resumable upload, as dbt's seeds do.
        client.load_table_from_file(io.BytesIO(ndjson.encode("utf-8")), scratch, job_config=config).result()
        # The pattern of dbt's insert_overwrite: one statement, so readers see the old weeks or the new.
        columns = ", ".join(FEEDBACK_COLUMNS)
        client.query(
            f"""merge `{dataset}.{TABLE}` as target
            using `{scratch}` as loaded
            on false
            when not matched by source and target.report_week_start in ({replaced}) then delete
            when not matched then insert ({columns}) values ({columns})"""
        ).result()
    finally:
        client.delete_table(scratch, not_found_ok=True)


def read_feedback(settings: VocSettings, first_week: date, last_week: date) -> list[FeedbackRow]:
    """The rows of voc_flag_feedback from `first_week` through `last_week` (none if no run wrote it)."""
    columns = ", ".join(FEEDBACK_COLUMNS)
    if settings.dbt_target == "dev":
        if not settings.duckdb_file.exists():
            return []
        with duckdb.connect(str(settings.duckdb_file)) as con:
            found = con.execute(
                "select count(*) from information_schema.tables where table_name = $table", {"table": TABLE}
            ).fetchone()
            if not found or not found[0]:
                return []
            cursor = con.execute(
                f"select {columns} from {TABLE} where report_week_start between $first and $last",
                {"first": first_week, "last": last_week},
            )
            records = [dict(zip(FEEDBACK_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    else:
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("first", "DATE", first_week),
                bigquery.ScalarQueryParameter("last", "DATE", last_week),
            ]
        )
        table = f"{settings.bq_project}.{settings.bq_dataset}.{TABLE}"
        try:
            result = bigquery_client(settings).query(
                f"select {columns} from `{table}` where report_week_start between @first and @last",
                job_config=config,
            )
            records = [dict(row.items()) for row in result.result()]
        except NotFound:
            return []
    return [FeedbackRow.model_validate(record) for record in records]
