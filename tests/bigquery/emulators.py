"""Local BigQuery emulators for the prod-target tests, each run from its own venv (see the Makefile).

- crucible (`crucible-emulator`): faithful to BigQuery's SQL rules, fast; no scripting (so no
  incremental merge), no query parameters, CSV loads only, partitioned tables only through DDL.
- bqemulator: scripting, static `insert_overwrite`, query parameters, Parquet loads; its SQL
  translation has gaps (tests/bigquery/bqemulator_main.py corrects the one the product meets).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from flows.warehouse.source import SOURCE_COLUMNS
from tests.servers.processes import free_port, serving

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "voc-test"
SOURCE_DATASET = "raw"
SOURCE_TABLE = f"{PROJECT}.{SOURCE_DATASET}.zendesk_voc_classified"
LOCATION = "asia-northeast3"
SOURCE_SCHEMA = [  # the source contract's columns, as the production table types them
    bigquery.SchemaField(name, "TIMESTAMP" if name == "event_create_time" else "STRING")
    for name in SOURCE_COLUMNS
]


@dataclass(frozen=True)
class Emulator:
    """A running emulator: its REST endpoint (what BIGQUERY_EMULATOR_HOST names)."""

    name: str
    url: str

    def client(self) -> bigquery.Client:
        """An admin client for setting up datasets and data (the product uses its own credentials)."""
        return bigquery.Client(
            project=PROJECT,
            location=LOCATION,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=self.url),
        )


def _command(name: str, port: int) -> list[str]:
    venv = ROOT / f".venv-bq-{name}"
    if not (venv / ".installed").exists():
        raise RuntimeError(f"{venv} is missing: run `make {venv.name}/.installed` (make test does it)")
    if name == "crucible":
        launcher = ROOT / "tests" / "bigquery" / "crucible_main.py"
        return [
            str(venv / "bin" / "python"),
            str(launcher),
            "serve",
            "--dialect",
            "bigquery",
            "--port",
            str(port),
        ]
    launcher = ROOT / "tests" / "bigquery" / "bqemulator_main.py"
    return [
        str(venv / "bin" / "python"),
        str(launcher),
        "start",
        "--rest-port",
        str(port),
        "--grpc-port",
        "0",
        "--project",
        PROJECT,
        "--log-level",
        "warning",
    ]


def prod_env(
    emulator_url: str, dataset: str, *, source_table: str = SOURCE_TABLE, **auth: str
) -> dict[str, str]:
    """What an operator sets for the prod target, pointed at an emulator (a token unless `auth`)."""
    return {
        "VOC_DBT_TARGET": "prod",
        "VOC_BQ_PROJECT": PROJECT,
        "VOC_BQ_DATASET": dataset,
        "VOC_BQ_SOURCE_TABLE": source_table,
        "BIGQUERY_EMULATOR_HOST": emulator_url,
        **(auth or {"VOC_BQ_AUTH_METHOD": "oauth-secrets", "VOC_BQ_TOKEN": "emulator-token"}),
    }


@contextmanager
def running(name: str, log: Path, timeout: float = 90) -> Iterator[Emulator]:
    """Start emulator `name` on a free loopback port, wait until it answers, stop it afterwards."""
    port = free_port()
    env = {**os.environ, "HOME": str(ROOT / f".venv-bq-{name}" / "home")}  # bqemulator's DuckDB extensions
    emulator = Emulator(name, f"http://127.0.0.1:{port}")
    health_url = f"{emulator.url}/bigquery/v2/projects/{PROJECT}/datasets"
    with serving(name, _command(name, port), health_url, log, timeout, env):
        yield emulator


def create_source_table(emulator: Emulator, table: str = SOURCE_TABLE) -> None:
    """The production source's shape: day-partitioned on event_create_time."""
    client = emulator.client()
    client.create_dataset(table.rsplit(".", 1)[0], exists_ok=True)
    if emulator.name == "crucible":  # crucible partitions only through DDL
        columns = ", ".join(f"{field.name} {field.field_type}" for field in SOURCE_SCHEMA)
        ddl = f"create table `{table}` ({columns}) partition by timestamp_trunc(event_create_time, day)"
        client.query(ddl).result()
        return
    # bqemulator ignores a DDL partition clause; the tables API sets it.
    partitioned = bigquery.Table(table, schema=SOURCE_SCHEMA)
    partitioned.time_partitioning = bigquery.TimePartitioning(field="event_create_time")
    client.create_table(partitioned)


def load_source(emulator: Emulator, parquet: Path, table: str = SOURCE_TABLE) -> int:
    """Append a Parquet export (tests/sources.py, demo data) to the source table; return its rows."""
    config = bigquery.LoadJobConfig(schema=SOURCE_SCHEMA, write_disposition="WRITE_APPEND")
    if emulator.name == "crucible":  # crucible loads CSV only
        import duckdb

        upload = parquet.with_suffix(".csv")
        duckdb.sql(f"copy (select * from '{parquet}') to '{upload}' (header true)")
        config.source_format = bigquery.SourceFormat.CSV
        config.skip_leading_rows = 1
    else:
        upload = parquet
        config.source_format = bigquery.SourceFormat.PARQUET
    with upload.open("rb") as data:
        job = emulator.client().load_table_from_file(data, table, job_config=config)
    return int(job.result().output_rows or 0)
