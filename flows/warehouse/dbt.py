"""dbt on the configured target: the settings it is given, the build of a week, its one-line failures."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from flows.errors import DbtError, WarehouseLockedError
from flows.settings import VocSettings
from flows.warehouse.bigquery import dbt_profile_env
from flows.warehouse.dbt_vars import check_vars
from flows.weeks import last_complete_week

PROJECT_NAME = "voc_weekly"
REPORT_MODELS = (
    "voc_weekly_comparison",
    "voc_weekly_rollups",
    "voc_weekly_samples",
    "voc_weekly_keyword_changes",
    "voc_weekly_report_status",
    "voc_weekly_category_owners",
    "voc_weekly_feedback",
)


@contextmanager
def dbt_environment(settings: VocSettings) -> Iterator[None]:
    """Expose the settings to profiles.yml and sources.yml (env_var) for the duration of a dbt call.

    The project carries no defaults of its own: every value it reads is set here (and a setting
    that is not given is unset, so dbt never reads one left in the environment).
    """
    # A project may carry a `domain.com:` prefix with dots, so the table splits from the right.
    source_database, source_schema, source_identifier = settings.bq_source_table.rsplit(".", 2)
    values = {
        "VOC_DBT_TARGET": settings.dbt_target,
        "VOC_SOURCE_PATH": str(settings.effective_source_path),
        "VOC_DUCKDB_PATH": str(settings.duckdb_file),
        "VOC_BQ_PROJECT": settings.bq_project,
        "VOC_BQ_DATASET": settings.bq_dataset,
        "VOC_BQ_LOCATION": settings.bq_location,
        "VOC_BQ_SOURCE_DATABASE": source_database,
        "VOC_BQ_SOURCE_SCHEMA": source_schema,
        "VOC_BQ_SOURCE_IDENTIFIER": source_identifier,
        **dbt_profile_env(settings),
    }
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def invoke_dbt(settings: VocSettings, args: list[str], *, node_tasks: bool = True) -> None:
    """Run a dbt command on the configured target; a failing model or test raises a one-line DbtError.

    Inside a flow run it goes through prefect-dbt, so every node shows up as a Prefect task (unless
    VOC_DBT_NODE_TASKS is false, or `node_tasks` is: `docs generate` compiles every node, and a task
    each costs ~10 s a run).
    From the command line, plain dbt: no Prefect server needs to start just to build a table.
    """
    from prefect.context import FlowRunContext, TaskRunContext

    if settings.dbt_target == "dev":
        settings.duckdb_file.parent.mkdir(parents=True, exist_ok=True)
    project_dir = settings.dbt_project_dir
    with dbt_environment(settings):
        if node_tasks and settings.dbt_node_tasks and (FlowRunContext.get() or TaskRunContext.get()):
            _invoke_prefect_dbt(settings, project_dir, with_report_week(args))
            return
        from dbt.cli.main import dbtRunner

        dirs = ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
        # `dbt --help` / `dbt --version` take no directories (dbt would call them unknown options).
        top_level = all(arg.startswith("-") for arg in args)
        result = dbtRunner().invoke(args if top_level else [*with_report_week(args), *dirs])
    if not result.success:
        results = getattr(result.result, "results", None) or []
        outcomes = [(r.node.unique_id, str(r.status), r.message or "") for r in results]
        raise dbt_failure(settings, args, result.exception, outcomes)


def with_report_week(args: list[str]) -> list[str]:
    """dbt arguments that set var report_week: the caller's, or else the last complete KST week.

    The SQL takes the week only from this var. `--vars` are checked (flows/warehouse/dbt_vars.py)
    and passed as the checked values, merged into one option. `--vars` that are not a YAML mapping
    go to dbt untouched, for dbt to report.
    """
    week = last_complete_week().isoformat()
    found = _vars_option(args)
    if found is None:
        return (
            args
            if any(arg.partition("=")[0] == "--vars" for arg in args)
            else [*args, "--vars", json.dumps({"report_week": week})]
        )
    start, end, given = found
    merged = {**given, "report_week": given.get("report_week", week)}
    return [*args[:start], "--vars", json.dumps(merged), *args[end:]]


def requested_report_week(args: list[str]) -> str | None:
    """The report_week that `--vars` in dbt arguments set (checked), or None."""
    found = _vars_option(args)
    return found[2].get("report_week") if found else None


def _vars_option(args: list[str]) -> tuple[int, int, dict[str, Any]] | None:
    """Where `--vars` is in dbt arguments (start, end) and its vars, checked; None without one, or
    when it is not a YAML mapping (dbt's to report)."""
    from dbt.clients.yaml_helper import load_yaml_text  # how dbt itself reads --vars
    from dbt_common.exceptions import DbtValidationError

    for position, arg in enumerate(args):
        name, equals, inline = arg.partition("=")
        if name != "--vars":
            continue
        try:
            given = load_yaml_text(inline if equals else next(iter(args[position + 1 :]), ""))
        except DbtValidationError:
            return None
        if not isinstance(given, dict):
            return None
        return position, position + (1 if equals else 2), check_vars(given)
    return None


def _invoke_prefect_dbt(settings: VocSettings, project_dir: Path, args: list[str]) -> None:
    """prefect-dbt's runner; its run-end hook keeps dbt's own error and node results for the message."""
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings
    from prefect_dbt.core._hooks import DbtHookContext

    runner = PrefectDbtRunner(settings=PrefectDbtSettings(project_dir=project_dir, profiles_dir=project_dir))
    ended: list[DbtHookContext] = []
    runner.on_run_end(ended.append)
    try:
        runner.invoke(args)
    except ValueError:  # prefect-dbt's multi-line summary of what dbt already reported
        if not ended:
            raise
        end = ended[0]
        outcomes = [
            (node_id, str(result.get("status", "")), str(result.get("message") or ""))
            for node_id, result in (end.run_results or {}).items()
        ]
        raise dbt_failure(settings, args, end.error, outcomes) from None


FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


def dbt_failure(
    settings: VocSettings, args: list[str], error: BaseException | None, outcomes: list[tuple[str, str, str]]
) -> DbtError:
    """One line: a locked warehouse file, or the first failed model/test and its first error line."""
    command = next((arg for arg in args if not arg.startswith("-")), "dbt")
    if error is not None and LOCK_ERROR in str(error):
        return warehouse_locked(settings.duckdb_file)
    failed = [(node_id, message) for node_id, status, message in outcomes if status in FAILED_STATUSES]
    # A failed model is a cause, a failed test may be the echo of one (an ephemeral model's error
    # shows in every model and test that inlines it): models first, then by name, whatever the
    # order the threads finished in.
    failed.sort(key=lambda node: (not node[0].startswith("model."), node[0]))
    if not failed:
        reason = first_error_line(str(error)) if error is not None else "no reason given"
        return DbtError(
            f"dbt {command} failed: {reason}",
            slack_text="데이터 모델(dbt)을 만들지 못했습니다. 실행 기록에서 dbt 오류를 확인해 주세요.",
        )
    node_id, message = failed[0]
    kind, _package, name = node_id.split(".")[:3]  # a generic test's id goes on with a hash
    kind_ko = {"test": "데이터 테스트", "model": "모델"}.get(kind, kind)
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    return DbtError(
        f"dbt {command} failed: {kind} {name} failed: {first_error_line(message)}{more}",
        slack_text=f"dbt {kind_ko} `{name}`이(가) 실패해 리포트를 만들지 못했습니다. "
        "실행 기록에서 원인을 확인해 주세요.",
    )


def first_error_line(message: str) -> str:
    """The line of a dbt message that says what went wrong (not the 'Error in model x (path)' header)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    useful = [line for line in lines if not re.match(r"^[\w ]*Error in \w+ \S+ \(", line)]
    text = (useful or lines or ["no message"])[0]
    return text if len(text) <= 300 else text[:297] + "..."


LOCK_ERROR = "Could not set lock on file"


def warehouse_locked(path: Path) -> WarehouseLockedError:
    """Two runs share one DuckDB file: say which file and how to run them apart."""
    return WarehouseLockedError(
        f"another run is using {path}: wait for it to finish, or set VOC_DUCKDB_PATH "
        "(or VOC_HOME) to another file for this run",
        slack_text="다른 실행이 같은 웨어하우스 파일을 쓰고 있어 리포트를 만들지 못했습니다. "
        "그 실행이 끝난 뒤 다시 실행해 주세요.",
    )


def report_vars(settings: VocSettings) -> dict[str, object]:
    """The dbt vars that come from the settings (the team's feedback: SPEC §13)."""
    return {
        "snooze_weeks": settings.snooze_weeks,
        "feedback_weeks": settings.feedback_weeks,
        "follow_ups": settings.follow_ups,
    }


def build_week(settings: VocSettings, week: date, quiet: bool = False) -> dict[str, str]:
    """`dbt build` the models for a reported week; return the report marts' relation names."""
    invoke_dbt(
        settings,
        [
            *(["--quiet"] if quiet else []),
            "build",
            "--vars",
            json.dumps({**report_vars(settings), "report_week": week.isoformat()}),
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
