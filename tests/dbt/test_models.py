"""The dbt layer on real DuckDB: marts built from small sources made here, and the tricky inputs."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
import yaml

from flows.errors import SourceError, WeekError
from flows.report import WeeklyReport, check_coverage
from flows.settings import PACKAGE_ROOT, VocSettings
from flows.warehouse.dbt import build_week, dbt_environment, invoke_dbt, mart_relations, with_report_week
from flows.warehouse.readers import open_warehouse, read_report
from flows.warehouse.source import check_source_file, prepare_source
from tests.factories import as_reported, make_settings
from tests.sources import CANCEL, EVENT, LOGIN, POSTING, REFUND, edge_case_rows, label, write_source

REPORT_WEEK = date(2026, 11, 16)  # the previous week: 2026-11-09
EARLIER_WEEK = date(2026, 11, 9)  # its previous week, 2026-11-02, has no tickets at all


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The edge-case source built twice into one warehouse: the reported week with every data and
    unit test, then an earlier week incrementally, as a scheduled run would."""
    tmp = tmp_path_factory.mktemp("edge")
    settings = make_settings(tmp, write_source(tmp / "export.parquet", edge_case_rows()))
    prepare_source(settings)
    invoke_dbt(settings, ["build", "--vars", json.dumps({"report_week": str(REPORT_WEEK)})])
    staging_sql = {REPORT_WEEK: _compiled_staging_sql(settings.dbt_project_dir)}
    relations = build_week(settings, EARLIER_WEEK)
    staging_sql[EARLIER_WEEK] = _compiled_staging_sql(settings.dbt_project_dir)
    warehouse = open_warehouse(settings)
    return {
        "settings": settings,
        "relations": relations,
        "staging_sql": staging_sql,
        "report": read_report(warehouse, relations, REPORT_WEEK),
        "earlier": read_report(warehouse, relations, EARLIER_WEEK),
        "warehouse": warehouse,
    }


def _compiled_staging_sql(project_dir: Path) -> str:
    """The staging SQL of the last run: ephemeral, so inlined into the aggregate that reads it."""
    path = (
        project_dir
        / "target/compiled/voc_weekly/models/intermediate/voc/int_voc_category_weeks_aggregated.sql"
    )
    return path.read_text(encoding="utf-8")


def by_label(report: WeeklyReport) -> dict[str, Any]:
    return {change.category_label: change for change in report.categories}


def test_every_category_gets_the_severity_of_its_change(built: dict[str, Any]) -> None:
    severities = {name: c.severity for name, c in by_label(built["report"]).items()}
    assert severities == {
        label(LOGIN): "CRITICAL",
        label(CANCEL): "MONITOR",
        label(EVENT): "MONITOR",
        label(REFUND): "IMPROVED",
        label(POSTING): "STABLE",
        "(미분류) / (미분류) / (미분류)": "STABLE",
    }


def test_sunday_2330_kst_counts_in_that_week_not_the_next(built: dict[str, Any]) -> None:
    login = by_label(built["report"])[label(LOGIN)]
    assert (login.previous_tickets, login.reported_tickets) == (10, 21)  # 19 + Sunday 23:30 + PII ticket


def test_whitespace_emotions_are_trimmed_and_blanks_are_not_negative(built: dict[str, Any]) -> None:
    cancel = by_label(built["report"])[label(CANCEL)]
    assert (cancel.previous_negative_tickets, cancel.reported_negative_tickets) == (1, 3)
    assert cancel.neg_ratio_delta_pp == pytest.approx(20.0)


def test_duplicate_ids_are_counted_once(built: dict[str, Any]) -> None:
    posting = by_label(built["report"])[label(POSTING)]
    assert (posting.previous_tickets, posting.reported_tickets) == (5, 5)


def test_null_and_blank_categories_become_unclassified(built: dict[str, Any]) -> None:
    unclassified = by_label(built["report"])["(미분류) / (미분류) / (미분류)"]
    assert (unclassified.previous_tickets, unclassified.reported_tickets) == (2, 1)


def test_categories_that_appear_or_vanish_count_zero_in_the_other_week(
    built: dict[str, Any],
) -> None:
    changes = by_label(built["report"])
    new, gone = changes[label(EVENT)], changes[label(REFUND)]
    assert (new.previous_tickets, new.reported_tickets, new.pct_change) == (0, 10, None)
    assert new.is_up_from_zero
    assert (gone.previous_tickets, gone.reported_tickets, gone.pct_change) == (12, 0, -100.0)
    assert new.neg_ratio_delta_pp is None and gone.neg_ratio_delta_pp is None


def test_week_whose_previous_week_has_no_tickets_reports_every_category_as_new(
    built: dict[str, Any],
) -> None:
    earlier = built["earlier"]
    assert earlier.coverage.previous_tickets == 0
    assert all(change.is_up_from_zero and change.previous_tickets == 0 for change in earlier.categories)
    assert {c.category_label: c.severity for c in earlier.follow_ups} == {
        label(LOGIN): "MONITOR",
        label(CANCEL): "MONITOR",
        label(REFUND): "MONITOR",
    }


def test_incremental_runs_keep_each_week_and_never_double_count(built: dict[str, Any]) -> None:
    with duckdb.connect(str(built["settings"].duckdb_file)) as con:
        weekly = con.execute(
            "select as_of_week_start, week_start, sum(ticket_count) from int_voc_category_weeks_aggregated "
            "group by all order by all"
        ).fetchall()
        reports = con.execute(
            "select report_week_start, count(*) from voc_weekly_comparison group by 1 order by 1"
        ).fetchall()
    # Each reported week's own copy of the counts (as of its end), each ticket once in it.
    assert weekly == [
        (EARLIER_WEEK, date(2026, 11, 9), 39),
        (REPORT_WEEK, date(2026, 11, 9), 39),
        (REPORT_WEEK, date(2026, 11, 16), 47),
    ]
    assert reports == [(EARLIER_WEEK, 5), (REPORT_WEEK, 6)]


def test_scheduled_run_reads_only_the_baseline_weeks_of_the_evidence(built: dict[str, Any]) -> None:
    # Monday 00:00 KST eight weeks (baseline_weeks) before each reported week, in UTC, as a literal
    # BigQuery can prune with: bounded, and enough to rebuild every week the evidence reads.
    assert (
        "event_create_time >= cast('2026-09-20 15:00:00' as timestamp)" in (built["staging_sql"][REPORT_WEEK])
    )
    assert (
        "event_create_time >= cast('2026-09-13 15:00:00' as timestamp)"
        in (built["staging_sql"][EARLIER_WEEK])
    )


def test_coverage_says_whether_the_data_reaches_the_end_of_the_week(built: dict[str, Any]) -> None:
    coverage = built["report"].coverage
    assert coverage.is_report_week_complete
    assert str(coverage.last_ticket_at) == "2026-11-22 15:30:00"  # Monday 00:30 KST
    assert (coverage.previous_tickets, coverage.reported_tickets) == (39, 47)


def test_samples_are_masked_negative_first_and_labelled_by_week(built: dict[str, Any]) -> None:
    report = built["report"]
    reported = report.samples_of(LOGIN, "reported")
    previous = report.samples_of(LOGIN, "previous")
    assert len(reported) == 10 and len(previous) == 10
    assert reported[0].ticket_id == "login-pii" and reported[0].is_negative
    assert {s.ticket_id[:7] for s in previous} == {"login-b"}
    text = f"{reported[0].title} {reported[0].detail}"
    assert "example.com" not in text and "010-1234-5678" not in text and "1234567" not in text
    assert "[이메일]" in text and "[전화번호]" in text and "[주민번호]" in text
    assert not report.samples_of(REFUND, "previous")  # IMPROVED: no follow-up samples


def test_thresholds_in_force_are_recorded_with_the_week(built: dict[str, Any]) -> None:
    thresholds = built["report"].thresholds
    assert (thresholds.critical_increase_pct, thresholds.critical_min_volume) == (30, 20)
    assert (thresholds.monitor_neg_ratio_delta_pp, thresholds.improved_decrease_pct) == (10, 20)


def test_docs_generate_describes_every_model_and_column(built: dict[str, Any]) -> None:
    invoke_dbt(built["settings"], ["docs", "generate"])
    target = built["settings"].dbt_project_dir / "target"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    assert len(models) == len(list((built["settings"].dbt_project_dir / "models").rglob("*.sql")))
    for unique_id, node in models.items():
        assert "one row per" in node["description"].lower(), unique_id  # the grain is stated
        documented = {name for name, col in node["columns"].items() if col["description"]}
        if node["config"]["materialized"] == "ephemeral":  # no relation, so not in the catalog
            built_columns = set(ephemeral_columns(built["settings"], node))
        else:
            built_columns = {c.lower() for c in catalog["nodes"][unique_id]["columns"]}
        assert built_columns <= documented, (unique_id, built_columns - documented)
    assert "exposure.voc_weekly.weekly_voc_slack_report" in manifest["exposures"]


def test_each_old_mart_name_is_a_documented_alias_of_its_new_column(built: dict[str, Any]) -> None:
    # Issue 17: "baseline" meant both the week before and the multi-week history. The week before is
    # now "previous", the reported week "reported"; the old names stay one release for dashboards.
    marts_yml = built["settings"].dbt_project_dir / "models/marts/voc/_voc__marts.yml"
    aliases = {
        (model["name"], column["name"]): match.group(1)
        for model in yaml.safe_load(marts_yml.read_text(encoding="utf-8"))["models"]
        for column in model["columns"]
        if (match := re.match(r"Deprecated alias of `(\w+)`", column["description"]))
    }
    assert len(aliases) == 20
    relations = mart_relations(built["settings"].dbt_project_dir)
    with duckdb.connect(str(built["settings"].duckdb_file)) as con:
        for (model, old), new in aliases.items():
            differs = f"{old} is distinct from {new}"
            query = f"select count(*), count(*) filter (where {differs}) from {relations[model]}"
            [(rows, differing)] = con.execute(query).fetchall()
            assert rows > 0 and differing == 0, (model, old, new)
        query = f"select distinct sample_week, week_role from {relations['voc_weekly_samples']}"
        assert sorted(con.execute(query).fetchall()) == [("previous", "baseline"), ("reported", "reported")]


def test_no_data_test_reads_the_source(built: dict[str, Any]) -> None:
    # The staging models are ephemeral: on BigQuery a data test on one inlines the source read, a scan
    # of the run's window per test. Theirs could not fail anyway (ids deduplicated by row_number and
    # filtered non-null, weeks of a bounded time); the staging unit tests pin that logic instead.
    manifest_path = built["settings"].dbt_project_dir / "target/manifest.json"
    nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"]
    source = "source.voc_weekly.zendesk.zendesk_voc_classified"
    staging = {uid for uid, node in nodes.items() if source in node["depends_on"].get("nodes", [])}
    assert staging
    tests = [node["name"] for node in nodes.values() if node["resource_type"] == "test"]
    reading = [
        node["name"]
        for node in nodes.values()
        if node["resource_type"] == "test" and set(node["depends_on"]["nodes"]) & staging
    ]
    assert tests and reading == []


def ephemeral_columns(settings: VocSettings, node: dict[str, Any]) -> list[str]:
    """The columns an ephemeral model's compiled query returns, on the built warehouse."""
    with duckdb.connect(str(settings.duckdb_file)) as con:
        return con.sql(node["compiled_code"]).columns


def test_unit_test_fixtures_know_the_columns_of_every_ephemeral_model(built: dict[str, Any]) -> None:
    # dbt reads a fixture's column types from the input's relation; an ephemeral model has none, so
    # voc_ephemeral_model_columns lists them (macros/unit_tests/get_fixture_sql.sql) and must match.
    from dbt.cli.main import dbtRunner

    settings = built["settings"]
    invoke_dbt(settings, ["--quiet", "compile", "--select", "config.materialized:ephemeral"])
    manifest = json.loads((settings.dbt_project_dir / "target/manifest.json").read_text(encoding="utf-8"))
    ephemeral = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "ephemeral"
    }
    project = [
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
    ]
    inline = "{{ tojson(voc_ephemeral_model_columns()) }}"
    with dbt_environment(settings):
        result = dbtRunner().invoke(["--quiet", "compile", "--inline", inline, *with_report_week(project)])
    assert result.success, result.exception
    listed = json.loads(result.result.results[0].node.compiled_code)
    assert set(listed) == set(ephemeral)
    for name, node in ephemeral.items():
        assert list(listed[name]) == ephemeral_columns(settings, node), name


def test_csv_export_gives_the_same_comparison(tmp_path: Path, built: dict[str, Any]) -> None:
    settings = make_settings(tmp_path, write_source(tmp_path / "export.csv", edge_case_rows()))
    prepare_source(settings)
    relations = build_week(settings, REPORT_WEEK)
    report = read_report(open_warehouse(settings), relations, REPORT_WEEK)
    assert as_reported(report.categories) == as_reported(built["report"].categories)


def test_missing_source_file_names_the_path_and_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.parquet"
    with pytest.raises(SourceError) as error:
        prepare_source(make_settings(tmp_path, missing))
    message = str(error.value)
    assert "\n" not in message
    assert f"VOC_SOURCE_PATH={missing}" in message and "no such file" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PAR1 this is not parquet", "cannot be read as CSV or Parquet"),
        (b"id,title\n1,hello\n", "missing column(s) event_create_time"),
    ],
)
def test_unreadable_source_file_is_a_one_line_error(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / ("export.parquet" if content.startswith(b"PAR1") else "export.csv")
    path.write_bytes(content)
    with pytest.raises(SourceError) as error:
        check_source_file(path)
    assert "\n" not in str(error.value)
    assert str(error.value).startswith(f"VOC_SOURCE_PATH={path}: ") and expected in str(error.value)


def test_demo_data_week_shows_all_four_severities(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, None)
    assert settings.uses_demo_data
    prepare_source(settings)  # writes the demo export for the last complete KST week
    from flows.weeks import last_complete_week

    week = last_complete_week()
    report = read_report(open_warehouse(settings), build_week(settings, week), week)
    assert all(n > 0 for n in report.counts().values()), report.counts()
    assert report.coverage.is_report_week_complete


PROD_ENV = {
    "VOC_DBT_TARGET": "prod",
    "VOC_BQ_PROJECT": "dummy-project",
    "VOC_BQ_DATASET": "voc_weekly",
}


def prod_settings(tmp_path: Path) -> VocSettings:
    return make_settings(tmp_path, None, **PROD_ENV)


def test_prod_bigquery_target_parses_without_reaching_bigquery(tmp_path: Path) -> None:
    settings = prod_settings(tmp_path)
    invoke_dbt(settings, ["parse"])
    manifest = json.loads((settings.dbt_project_dir / "target/manifest.json").read_text(encoding="utf-8"))
    source = manifest["sources"]["source.voc_weekly.zendesk.zendesk_voc_classified"]
    assert source["relation_name"] == "`wanted-data`.`wanted_ml`.`zendesk_voc_classified`"


def test_the_bigquery_token_reaches_dbt_only_as_a_secret_dbt_masks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # dbt masks the values of DBT_ENV_SECRET_* variables in all it logs and refuses them to models
    # and macros; under any other name a model, a macro or an error message could print the token.
    token = "ya29.a-short-lived-token-only-dbt-may-see"
    monkeypatch.setenv("VOC_BQ_AUTH_METHOD", "oauth-secrets")
    monkeypatch.setenv("VOC_BQ_TOKEN", token)
    settings = prod_settings(tmp_path)
    with dbt_environment(settings):
        holding = {name for name, value in os.environ.items() if value == token}
    assert holding == {"DBT_ENV_SECRET_VOC_BQ_TOKEN"}

    capsys.readouterr()
    probe = 'select \'{{ env_var("VOC_BQ_TOKEN", "unset") }}\' as token'
    invoke_dbt(settings, ["compile", "--no-populate-cache", "--inline", probe])
    printed = capsys.readouterr().out
    assert "select 'unset' as token" in printed
    assert token not in printed
    assert token not in (settings.dbt_project_dir / "logs" / "dbt.log").read_text(encoding="utf-8")


def test_bigquery_rendering_of_every_dispatch_macro_is_valid_bigquery_sql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # run-operation opens a connection when it ends: a dummy access token opens one offline.
    monkeypatch.setenv("VOC_BQ_AUTH_METHOD", "oauth-secrets")
    monkeypatch.setenv("VOC_BQ_TOKEN", "dummy-token")
    capsys.readouterr()
    week = json.dumps({"report_week": "2026-11-18"})  # any day of the week of 2026-11-16
    settings = prod_settings(tmp_path)
    invoke_dbt(settings, ["--quiet", "run-operation", "voc_render_dispatch_macros", "--vars", week])
    rendered: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    macro_files = (settings.dbt_project_dir / "macros").rglob("*.sql")
    macros = "\n".join(path.read_text(encoding="utf-8") for path in macro_files)
    dispatched = set(re.findall(r"adapter\.dispatch\('(\w+)'", macros))
    assert dispatched == set(rendered), "voc_render_dispatch_macros must render every dispatch macro"

    assert rendered.pop("voc_register_source") == ""  # BigQuery reads its table directly
    # Static partitions: the baseline and reported weeks are overwritten whole, emptied ones included.
    replaced = rendered.pop("voc_replace_weeks")
    assert replaced == {
        "incremental_strategy": "insert_overwrite",
        "partition_by": {"field": "report_week_start", "data_type": "date", "granularity": "day"},
        "partitions": ["cast('2026-11-09' as date)", "cast('2026-11-16' as date)"],
    }
    predicate = f"select 1 from t where report_week_start in ({', '.join(replaced['partitions'])})"
    sqlglot.parse_one(predicate, read="bigquery")
    for name, sql in rendered.items():
        statement = sqlglot.parse_one(sql, read="bigquery")  # raises on invalid BigQuery SQL
        assert statement.sql(dialect="bigquery"), name
    assert "isoweek" in rendered["voc_kst_week_start"].lower()
    assert "r'" in rendered["voc_regexp_replace"]
    assert "float64" in rendered["voc_type_double"].lower()  # raw strings keep the regex backslashes
    assert "normalize(" in rendered["voc_nfc"].lower() and "nfc_normalize" not in rendered["voc_nfc"]
    assert rendered["voc_feedback_table_options"].endswith("partition by report_week_start")


def test_week_before_the_data_is_a_clear_error_not_an_empty_report(built: dict[str, Any]) -> None:
    week = date(2025, 1, 6)
    report = read_report(built["warehouse"], build_week(built["settings"], week), week)
    with pytest.raises(WeekError, match=r"^no tickets in the weeks 2024-12-30 ~ 2025-01-05 and 2025-01-06"):
        check_coverage(report)


MISSING_WEEK = (
    "var report_week is not set: pass --vars '{report_week: YYYY-MM-DD}' (any day of the week to "
    "report) or run dbt through `voc-weekly dbt`, which passes the last complete week"
)


def test_voc_weekly_dbt_reports_the_last_complete_week_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`voc-weekly dbt` passes var report_week (the SQL never reads the clock); other vars are merged."""
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.weeks import last_complete_week

    monkeypatch.setenv("VOC_HOME", str(tmp_path / ".voc"))
    built = CliRunner().invoke(app, ["dbt", "build", "--select", "+voc_weekly_report_status"])
    assert built.exit_code == 0, built.output
    rerun = CliRunner().invoke(
        app, ["dbt", "run", "--select", "voc_weekly_report_status", "--vars", "{critical_increase_pct: 50}"]
    )
    assert rerun.exit_code == 0, rerun.output

    # Not read_only: dbt-duckdb keeps its connection to the file open in this process.
    with duckdb.connect(str(tmp_path / ".voc" / "warehouse.duckdb")) as con:
        rows = con.execute("select report_week_start, critical_increase_pct from voc_weekly_report_status")
        assert rows.fetchall() == [(last_complete_week(), 50)]


def test_an_empty_report_week_stops_dbt_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setenv("VOC_HOME", str(tmp_path / ".voc"))
    result = CliRunner().invoke(app, ["dbt", "parse", "--vars", '{"report_week": ""}'])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --vars: report_week='': must be a day as YYYY-MM-DD"
    ]


def bare_dbt(tmp_path: Path, args: list[str]) -> str:
    """`dbt <args>` run by hand inside a copy of the project, as a user would: its error, if any."""
    from dbt.cli.main import dbtRunner

    project = tmp_path / "dbt_project"
    shutil.copytree(PACKAGE_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    result = dbtRunner().invoke([*args, "--project-dir", str(project), "--profiles-dir", str(project)])
    return "" if result.success else str(result.exception)


def test_bare_dbt_without_the_week_names_the_var_and_both_ways_to_give_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tmp_path / "export.parquet")
    with dbt_environment(settings):
        error = bare_dbt(tmp_path, ["parse"])
    assert MISSING_WEEK in error


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "VOC_DBT_TARGET"),
        ({"VOC_DBT_TARGET": "dev"}, "VOC_DUCKDB_PATH"),
        (
            {"VOC_DBT_TARGET": "prod", "VOC_BQ_AUTH_METHOD": "oauth", "VOC_BQ_PROJECT": "dummy-project",
             "VOC_BQ_DATASET": "voc_weekly", "VOC_BQ_LOCATION": "US"},
            "VOC_BQ_SOURCE_DATABASE",
        ),
    ],
)  # fmt: skip
def test_bare_dbt_without_the_settings_says_which_one_is_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], missing: str
) -> None:
    """The project has no defaults of its own: without voc-weekly's environment dbt names what is
    missing instead of reading a table nobody chose."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    error = bare_dbt(tmp_path, ["parse", "--vars", json.dumps({"report_week": str(REPORT_WEEK)})])
    assert f"Env var required but not provided: '{missing}'" in error


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["build"], ["build", "--vars", '{"report_week": "<week>"}']),
        (
            ["build", "--vars", "{report_week: 2026-11-18}"],
            ["build", "--vars", '{"report_week": "2026-11-18"}'],
        ),
        (
            ["build", "--vars", "{critical_increase_pct: 50}", "-s", "x"],
            ["build", "--vars", '{"critical_increase_pct": 50, "report_week": "<week>"}', "-s", "x"],
        ),
        (
            ["run", "--vars={fdr_alpha: 0.1}"],
            ["run", "--vars", '{"fdr_alpha": 0.1, "report_week": "<week>"}'],
        ),
        (["build", "--vars", "{not yaml"], ["build", "--vars", "{not yaml"]),  # dbt's to report
    ],
)
def test_dbt_vars_get_the_week_unless_the_caller_gave_one(args: list[str], expected: list[str]) -> None:
    from flows.weeks import last_complete_week

    week = last_complete_week().isoformat()
    assert with_report_week(args) == [arg.replace("<week>", week) for arg in expected]
