"""Two builds of different weeks in one BigQuery dataset at the same time, on bqemulator.

A scheduled run and an @mention for another week (or an analyst's `voc-weekly compare` on prod) can
build into the same dataset at once. The overlap is made deterministic: the build of one week
stops just before its baselines, the build of the other week runs from start to end in another
process, then the first one goes on. Each must end with exactly the rows of a build made alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from flows.settings import VocSettings
from flows.warehouse.dbt import dbt_environment, invoke_dbt
from tests.bigquery.conftest import NEXT_WEEK, REPORT_WEEK
from tests.bigquery.emulators import Emulator, prod_env

# Every stored model whose rows belong to a reported week, and that week's column.
WEEKLY_MODELS = {
    "int_voc_category_baselines_computed": "report_week_start",
    "voc_weekly_comparison": "report_week_start",
    "voc_weekly_rollups": "report_week_start",
    "voc_weekly_samples": "report_week_start",
    "voc_weekly_keyword_changes": "report_week_start",
    "voc_weekly_report_status": "report_week_start",
}
PAUSE_BEFORE = "model.voc_weekly.int_voc_category_baselines_computed"


@pytest.fixture
def prod_settings(bqemulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], VocSettings]:
    """Prod settings on bqemulator for a dataset of the test's choosing (the source is shared)."""

    def settings(dataset: str) -> VocSettings:
        for name, value in prod_env(bqemulator.url, dataset).items():
            monkeypatch.setenv(name, value)
        return VocSettings(_env_file=None)

    return settings


def run_args(week: date) -> list[str]:
    """A scheduled run's models for `week` (`dbt run`: the data tests' verdict is the rows below)."""
    return ["--quiet", "run", "--vars", json.dumps({"report_week": week.isoformat()})]


def run_week_overlapped(
    settings: VocSettings, week: date, other_week: date, other_project: Path, meanwhile: Callable[[], None]
) -> None:
    """`dbt run` for `week`; when it is about to build its baselines, a whole run for `other_week`
    (another process, another checkout of the project, the same dataset) runs first, then
    `meanwhile()`, and only then does the first run go on."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.base_types import EventMsg

    # The other run gets the environment an operator gives it, not this run's dbt environment.
    other_env = {**os.environ, "VOC_DBT_PROJECT_DIR": str(other_project)}
    others: list[subprocess.CompletedProcess[str]] = []

    def run_the_other_week(event: EventMsg) -> None:
        # No assert here: an exception inside a dbt callback would stall the paused run.
        if event.info.name == "NodeStart" and event.data.node_info.unique_id == PAUSE_BEFORE:
            voc_weekly = Path(sys.executable).with_name("voc-weekly")
            command = [str(voc_weekly), "dbt", *run_args(other_week)]
            others.append(subprocess.run(command, env=other_env, capture_output=True, text=True, timeout=900))
            if others[-1].returncode == 0:
                meanwhile()

    project = settings.dbt_project_dir
    dirs = ["--project-dir", str(project), "--profiles-dir", str(project)]
    with dbt_environment(settings):
        result = dbtRunner(callbacks=[run_the_other_week]).invoke([*run_args(week), *dirs])
    assert [other.returncode for other in others] == [0], [other.stderr for other in others]
    assert result.success, result.exception


def weekly_rows(emulator: Emulator, dataset: str) -> dict[str, dict[date, list[str]]]:
    """Each weekly model's rows by week, each row as sorted text (so lists compare field by field),
    floats to 12 significant digits: a sum over a roll-up's categories may add them in another order."""
    client = emulator.client()
    by_model: dict[str, dict[date, list[str]]] = {}
    for model, week_column in WEEKLY_MODELS.items():
        by_week: dict[date, list[str]] = {}
        for row in client.query(f"select * from {dataset}.{model}").result():
            fields = sorted((k, float(f"{v:.12g}") if isinstance(v, float) else v) for k, v in row.items())
            by_week.setdefault(row[week_column], []).append(repr(fields))
        by_model[model] = {week: sorted(rows) for week, rows in by_week.items()}
    return by_model


def temporary_tables(project: Path) -> set[str]:
    """The temporary tables the builds of a project created, from dbt's log of the SQL it ran."""
    log = (project / "logs" / "dbt.log").read_text(encoding="utf-8")
    return set(re.findall(r"`(\w+__dbt_tmp\d+)`", log))


@pytest.fixture
def other_project(tmp_path: Path) -> Path:
    """A second checkout of the dbt project, as another worker or an analyst's laptop has."""
    project = tmp_path / "other" / "dbt_project"
    shutil.copytree(
        VocSettings(_env_file=None).dbt_project_dir, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    return project


def test_overlapping_builds_of_two_weeks_each_keep_exactly_their_own_rows(
    prod_settings: Callable[[str], VocSettings], bqemulator: Emulator, other_project: Path
) -> None:
    # The dataset has its tables already, as in production after the first week (two builds that
    # both create a new model's table are the one overlap not covered: README, "Two builds at once").
    # The interrupted week is the one with flagged categories, so it has samples and keywords too.
    interrupted, other = NEXT_WEEK, REPORT_WEEK
    settings = prod_settings("voc_overlap")
    invoke_dbt(settings, ["--quiet", "seed"])  # the owners seed, loaded once like the other tables
    invoke_dbt(settings, run_args(interrupted))
    alone = weekly_rows(bqemulator, "voc_overlap")
    assert all(alone[model][interrupted] for model in WEEKLY_MODELS)
    other_done: dict[str, dict[date, list[str]]] = {}

    def remember_the_other_week() -> None:
        other_done.update(weekly_rows(bqemulator, "voc_overlap"))

    run_week_overlapped(settings, interrupted, other, other_project, remember_the_other_week)

    got = weekly_rows(bqemulator, "voc_overlap")
    assert set(got["voc_weekly_comparison"]) == {interrupted, other}
    # dbt-bigquery's temporary tables (incremental models, on_schema_change) are named with the
    # time to the microsecond, never one fixed name two builds could both write.
    ours, theirs = temporary_tables(settings.dbt_project_dir), temporary_tables(other_project)
    assert theirs and not ours & theirs
    for model in WEEKLY_MODELS:
        # The interrupted run wrote exactly what it writes alone, and left the other week's rows be.
        assert got[model][interrupted] == alone[model][interrupted], model
        assert got[model].get(other) == other_done[model].get(other), model
