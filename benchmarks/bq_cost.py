"""BigQuery cost of a scheduled run, on paper, from the prod target's compiled SQL (`make bq-cost`).

Compiles the staging models for the prod target (ephemeral, inlined into their readers; offline:
compiling them needs no connection), reads the event_create_time bounds each puts on the source,
and prints per model which source partitions (those of the staging models it inlines) and columns its
query reads and the bytes BigQuery
on-demand would bill, at the seed team's scale (about 5,000 tickets a week, two years of history)
and at 100x that. Bytes per column are measured on the demo data with BigQuery's sizes (STRING =
2 + UTF-8 bytes, TIMESTAMP = 8).
Usage: python -m benchmarks.bq_cost [--week 2026-11-16] [--weekly-tickets 5000] [--history-weeks 104]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from flows.demo.generator import write_demo_data
from flows.settings import VocSettings
from flows.warehouse.dbt import invoke_dbt
from flows.warehouse.source import SOURCE_COLUMNS
from tests.bigquery.cost import (
    MIN_BYTES_PER_TABLE,
    SOURCE,
    SourceScan,
    models_reading_the_source,
    source_scan,
)

# The source columns behind each staging column. Staging deduplicates with a window over id,
# time, categories and emotion before any model filters, so those are read by every model.
STAGING_LINEAGE = {
    "title": ("title",),
    "detail": ("detail",),
    "main_topic": ("main_topic",),
    "keywords": ("keywords",),
}
ALWAYS_READ = ("id", "event_create_time", "category1", "category2", "category3", "overall_emotion")
SCHEDULE_KST = timedelta(days=7, hours=9)  # Monday 09:00 KST after the reported week (prefect.yaml)


Readers = dict[str, tuple[str, list[str]]]  # model -> its raw SQL, the staging models it inlines


def compile_staging(week: date, target: Path) -> tuple[dict[str, SourceScan], Readers]:
    """The source bounds of each staging model for `week` on the prod target, by name; and of every
    model that reads them, its raw SQL and the staging models it inlines, by name."""
    os.environ.update({"VOC_BQ_AUTH_METHOD": "oauth-secrets", "VOC_BQ_TOKEN": "offline"})
    settings = VocSettings(
        _env_file=None, VOC_DBT_TARGET="prod", VOC_BQ_PROJECT="voc-cost-estimate", VOC_BQ_DATASET="voc"
    )
    invoke_dbt(
        settings,
        [
            "--quiet",
            "compile",
            "--select",
            "config.materialized:ephemeral",  # staging (inlined into its readers): needs no connection
            "--no-populate-cache",
            "--vars",
            json.dumps({"report_week": week.isoformat()}),
            "--target-path",
            str(target),
        ],
    )
    readers = models_reading_the_source(target / "manifest.json", SOURCE)
    staging = {name for through in readers.values() for name in through}
    scans = {
        path.stem: scan
        for path in (target / "compiled").rglob("*.sql")
        if path.stem in staging
        and (scan := source_scan(path.read_text(encoding="utf-8"), "zendesk_voc_classified"))
    }
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    raw = {node["name"]: node["raw_code"] for node in nodes.values() if node["resource_type"] == "model"}
    return scans, {name: (raw[name], through) for name, through in readers.items()}


def bytes_per_ticket(folder: Path) -> dict[str, float]:
    """Average BigQuery bytes of each source column, measured on 14 weeks of demo data."""
    path = folder / "demo.parquet"
    write_demo_data(path, date(2026, 11, 16))
    sizes = ", ".join(
        "8.0" if name == "event_create_time" else f"avg(2 + coalesce(octet_length(encode({name})), 0))"
        for name in SOURCE_COLUMNS
    )
    row = duckdb.sql(f"select {sizes} from '{path}'").fetchall()[0]
    return dict(zip(SOURCE_COLUMNS, map(float, row), strict=True))


def columns_read(raw_sql: str) -> tuple[str, ...]:
    """Source columns a model's query needs through staging (the ones its SQL names, plus the window's)."""
    named = {
        source
        for column, sources in STAGING_LINEAGE.items()
        if re.search(rf"\b{column}\b", raw_sql)
        for source in sources
    }
    return ALWAYS_READ + tuple(c for c in SOURCE_COLUMNS if c in named)


def day_partitions(scan: SourceScan, run_at: datetime) -> int:
    """The UTC day partitions a scan reads, the first and last partial."""
    assert scan.since is not None
    end = scan.until or run_at
    return (end.date() - scan.since.date()).days + 1


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--week", type=date.fromisoformat, default=date(2026, 11, 16))
    parser.add_argument("--weekly-tickets", type=int, default=5_000)
    parser.add_argument("--history-weeks", type=int, default=104)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scans, models = compile_staging(args.week, Path(tmp) / "target")
        widths = bytes_per_ticket(Path(tmp))
    assert all(scan.since for scan in scans.values()), "the staging models must bound event_create_time"
    run_at = datetime.combine(args.week, datetime.min.time()) + SCHEDULE_KST - timedelta(hours=9)
    print(f"Report week {args.week}; scheduled run at {run_at} UTC.")
    for name, scan in sorted(scans.items()):
        until = scan.until or "newest"
        print(f"{name} reads event_create_time >= {scan.since} UTC and < {until}")
        days = day_partitions(scan, run_at)
        print(f"  = {days} day partitions of {args.history_weeks * 7} in two years of history.")
    print("\n| model | source columns read | day partitions | bytes/ticket | at 5k/week | at 500k/week |")
    print("|---|---|---|---|---|---|")
    totals = [0.0, 0.0]
    for name, (raw_sql, through) in sorted(models.items()):
        columns = columns_read(raw_sql)
        width = sum(widths[c] for c in columns)
        partitions = max(day_partitions(scans[staging], run_at) for staging in through)
        billed = []
        for scale, total in zip((1, 100), range(2), strict=True):
            tickets = args.weekly_tickets * scale / 7 * partitions
            bytes_ = max(MIN_BYTES_PER_TABLE, tickets * width)
            totals[total] += bytes_
            billed.append(human(bytes_))
        print(f"| {name} | {', '.join(columns)} | {partitions} | {width:,.0f} | {billed[0]} | {billed[1]} |")
    full = args.weekly_tickets * args.history_weeks * sum(widths.values())
    print(f"| **scheduled run, source reads** | | | | **{human(totals[0])}** | **{human(totals[1])}** |")
    print(f"| (one unpruned scan of the history, all columns) | | | | {human(full)} | {human(full * 100)} |")
    cost = totals[1] / 1024**4 * 6.25
    print(f"\nAt 100x that is ${cost:,.4f} a run at $6.25 per TiB on-demand. At the seed scale the")
    print("10 MB minimum per table referenced dominates; the marts and the aggregate table each query")
    print("reads are kilobytes, billed at that minimum too.")


if __name__ == "__main__":
    main()
