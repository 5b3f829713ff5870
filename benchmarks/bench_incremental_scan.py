"""Scheduled-run cost vs. history size (SPEC §12): 1M and 10M tickets of synthetic history.

Each history has the same weekly volume (10,000 tickets a week); only its length differs. For each,
the script builds the warehouse once, then times the scheduled run for the last complete week (what
Monday's flow does), and for contrast a run that re-aggregates the whole history. Plain dbt, no
Prefect, on the embedded DuckDB target. Usage: python -m benchmarks.bench_incremental_scan [--sizes 1e6,1e7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from flows.settings import VocSettings
from flows.warehouse.dbt import invoke_dbt

WEEKLY_TICKETS = 10_000
REPORT_WEEK = date(2026, 11, 16)


def write_history(path: Path, tickets: int) -> int:
    """`tickets` synthetic tickets ending with REPORT_WEEK, sorted by time (as a partitioned table is)."""
    weeks = max(2, tickets // WEEKLY_TICKETS)
    start = REPORT_WEEK - timedelta(weeks=weeks - 1)
    seconds = weeks * 7 * 24 * 3600
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select
                    cast(i as varchar) as id,
                    timestamp '{start} 00:00:00' - interval 9 hour
                        + to_seconds(cast(i * {seconds} / {tickets} as bigint)) as event_create_time,
                    '문의 ' || i as title,
                    '내용 ' || (i % 997) || ' 연락처 010-1234-5678' as detail,
                    '개인회원' as category1,
                    '분류' || (i % 5) as category2,
                    '항목' || (i % 23) as category3,
                    case when i % 4 = 0 then '부정' else '중립' end as overall_emotion,
                    null as main_topic,
                    '키워드' || (i % 7) as keywords
                from range({tickets}) as t(i)
                order by event_create_time
            ) to '{path}' (format parquet, row_group_size 100000)
            """
        )
    return weeks


def timed_build(settings: VocSettings, scan_weeks: int) -> float:
    started = time.perf_counter()
    invoke_dbt(
        settings,
        [
            "--quiet", "build", "--exclude-resource-type", "unit_test",
            "--vars", json.dumps({"report_week": str(REPORT_WEEK), "scan_weeks": scan_weeks}),
        ],
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1e6,1e7", help="history sizes in tickets, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="scheduled runs timed per size (best kept)")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"| history | weeks | scheduled run (best of {args.repeat}) | full re-aggregation |")
    print("|---|---|---|---|")
    for size in (int(float(s)) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "history.parquet"
            weeks = write_history(source, size)
            settings = VocSettings(
                _env_file=None,  # type: ignore[call-arg]
                VOC_HOME=folder,
                VOC_SOURCE_PATH=str(source),
                VOC_DUCKDB_PATH=str(Path(folder) / "bench.duckdb"),
            )
            timed_build(settings, 2)  # first build: creates the tables (and warms the parse)
            scheduled = min(timed_build(settings, 2) for _ in range(args.repeat))
            full = timed_build(settings, weeks)
            print(f"| {size:,} tickets | {weeks} | {scheduled:.1f} s | {full:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
