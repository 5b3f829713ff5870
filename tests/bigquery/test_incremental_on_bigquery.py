"""The incremental path on the prod target (insert_overwrite of week partitions), on bqemulator.

One dataset, three scheduled-style runs: the report week, the same week again after a category
vanished from the source (nothing of it may survive), then the next week (older weeks untouched).
The runs materialize the models only: the data tests pass on the prod target in test_prod_target.py,
and on bqemulator each of them is a slow query that says nothing about incremental replacement.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from flows.settings import VocSettings
from flows.warehouse.dbt import invoke_dbt
from tests.bigquery.conftest import NEXT_WEEK, REPORT_WEEK
from tests.bigquery.emulators import PROJECT, Emulator, create_source_table, load_source, prod_env

SOURCE = f"{PROJECT}.raw_incremental.zendesk_voc_classified"
DATASET = "voc_incremental"


@pytest.fixture
def prod(bqemulator: Emulator, demo_slice: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[VocSettings]:
    """Prod settings on bqemulator, with a source table of its own (this test deletes from it)."""
    create_source_table(bqemulator, SOURCE)
    load_source(bqemulator, demo_slice, SOURCE)
    for name, value in prod_env(bqemulator.url, DATASET, source_table=SOURCE).items():
        monkeypatch.setenv(name, value)
    yield VocSettings(_env_file=None)


def run_week(settings: VocSettings, week: date) -> None:
    """The comparison and every model it reads, as a scheduled run for `week` builds them (the other
    marts and the data tests are built in test_prod_target.py and test_concurrent_builds.py)."""
    run_vars = json.dumps({"report_week": week.isoformat()})
    invoke_dbt(settings, ["--quiet", "run", "--vars", run_vars, "--select", "+voc_weekly_comparison"])


def mart(emulator: Emulator, model: str, week_column: str) -> dict[date, list[dict[str, Any]]]:
    """A model's rows by week, sorted."""
    rows = emulator.client().query(f"select * from {DATASET}.{model}").result()
    by_week: dict[date, list[dict[str, Any]]] = {}
    for row in rows:
        by_week.setdefault(row[week_column], []).append(dict(row.items()))
    return {week: sorted(rows, key=repr) for week, rows in by_week.items()}


def test_rebuilds_replace_whole_weeks_and_leave_nothing_stale(
    prod: VocSettings, bqemulator: Emulator
) -> None:
    client = bqemulator.client()
    run_week(prod, REPORT_WEEK)
    first = mart(bqemulator, "voc_weekly_comparison", "report_week_start")

    # The same week again, after every ticket of one reported category left the source.
    keys = ("category1", "category2", "category3")
    classified = [row for row in first[REPORT_WEEK] if "(미분류)" not in row["category_label"]]
    vanished = tuple(classified[0][key] for key in keys)
    match = " and ".join(f"trim({key}) = '{value}'" for key, value in zip(keys, vanished, strict=True))
    client.query(f"delete from `{SOURCE}` where {match}").result()
    run_week(prod, REPORT_WEEK)
    again = mart(bqemulator, "voc_weekly_comparison", "report_week_start")
    aggregated = mart(bqemulator, "int_voc_category_weeks_aggregated", "week_start")
    stale = [row for rows in aggregated.values() for row in rows if tuple(row[k] for k in keys) == vanished]
    assert stale == []
    assert [row for row in again[REPORT_WEEK] if tuple(row[k] for k in keys) == vanished] == []
    assert len(again[REPORT_WEEK]) == len(first[REPORT_WEEK]) - 1

    # The next week: added beside the reported one, which stays as it was.
    run_week(prod, NEXT_WEEK)
    later = mart(bqemulator, "voc_weekly_comparison", "report_week_start")
    assert set(later) == {REPORT_WEEK, NEXT_WEEK}
    assert later[REPORT_WEEK] == again[REPORT_WEEK]
