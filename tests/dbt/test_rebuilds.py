"""Right numbers under hostile sources: rebuilds that lose rows, future dates, colliding labels,
rows without an id and float precision, each on a real DuckDB built by dbt."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.errors import StaleSourceError
from flows.formatting import ticket_change_text
from flows.llm.followups import builtin_follow_up
from flows.outcome import report_summary
from flows.report import WeeklyReport, check_coverage
from flows.settings import VocSettings
from flows.slack.messages import build_follow_up_messages, build_summary, preview, reply_key
from flows.warehouse.dbt import build_week, invoke_dbt
from flows.warehouse.readers import open_warehouse, read_report
from flows.warehouse.source import prepare_source
from tests.factories import make_settings
from tests.sources import LOGIN, REFUND, ticket, write_source

REPORT_WEEK = date(2026, 11, 16)  # the previous week: 2026-11-09
MARTS = ("voc_weekly_comparison", "voc_weekly_samples", "voc_weekly_keyword_changes")


def tickets(
    prefix: str, count: int, created_kst: str, category: tuple[str, str, str], **kw: Any
) -> list[Any]:
    return [ticket(f"{prefix}{i}", created_kst, category, **kw) for i in range(count)]


def build(settings: VocSettings, rows: list[dict[str, Any]]) -> WeeklyReport:
    """Write the export the settings point at, build the report week with dbt and read it back."""
    write_source(settings.effective_source_path, rows)
    prepare_source(settings)
    return read_report(open_warehouse(settings), build_week(settings, REPORT_WEEK, quiet=True), REPORT_WEEK)


def week_rows(settings: VocSettings) -> dict[str, list[tuple[Any, ...]]]:
    """What the warehouse holds for the reported week (and, for the int model, its baseline too)."""
    with duckdb.connect(str(settings.duckdb_file)) as con:
        rows = {
            mart: con.execute(
                f"select category1, category2, category3 from {mart} "
                "where report_week_start = ? order by 1, 2, 3",
                [REPORT_WEEK],
            ).fetchall()
            for mart in MARTS
        }
        rows["int_voc_category_weeks_aggregated"] = con.execute(
            "select week_start, category3, ticket_count from int_voc_category_weeks_aggregated order by 1, 2"
        ).fetchall()
    return rows


def monday_0030() -> dict[str, Any]:
    """A ticket just after the reported week: the data reaches its end."""
    return ticket("next-monday", "2026-11-23 00:30", REFUND)


@pytest.fixture
def settings(tmp_path: Path) -> VocSettings:
    return make_settings(tmp_path, tmp_path / "export.parquet")


def test_rebuild_after_a_category_vanished_from_the_previous_week_reports_it_as_new(
    settings: VocSettings,
) -> None:
    # Regression: delete+insert keyed on the rows that exist kept the old previous-week row: 20 → 30 (+50%).
    login_report = tickets("login-r", 30, "2026-11-17 10:00", LOGIN, keywords="인증")
    first = build(
        settings, tickets("login-b", 20, "2026-11-10 10:00", LOGIN) + login_report + [monday_0030()]
    )
    assert ticket_change_text(first.categories[0]) == "20 → 30 (↑10) / +50.0%"

    second = build(settings, login_report + [monday_0030()])
    login = next(c for c in second.categories if c.category == LOGIN)
    assert ticket_change_text(login) == "0 → 30 (↑30) / 신규"
    assert (login.severity, login.is_up_from_zero) == ("CRITICAL", True)
    assert [row[:2] for row in week_rows(settings)["int_voc_category_weeks_aggregated"]] == [
        (date(2026, 11, 16), LOGIN[2]),  # no baseline row left behind
    ]


def test_rebuild_after_the_reported_week_emptied_keeps_no_row_of_it(settings: VocSettings) -> None:
    # Regression: samples, keyword changes and the int model kept the old week when a rebuild had none.
    baseline = tickets("login-b", 20, "2026-11-10 10:00", LOGIN)
    build(
        settings,
        baseline + tickets("login-r", 30, "2026-11-17 10:00", LOGIN, keywords="인증") + [monday_0030()],
    )
    assert all(week_rows(settings)[mart] for mart in MARTS)

    report = build(settings, baseline + [monday_0030()])
    rows = week_rows(settings)
    assert rows["voc_weekly_comparison"] == [LOGIN]  # 20 → 0, IMPROVED
    assert rows["voc_weekly_samples"] == [] and rows["voc_weekly_keyword_changes"] == []
    assert (date(2026, 11, 16), LOGIN[2], 30) not in rows["int_voc_category_weeks_aggregated"]
    assert [ticket_change_text(c) for c in report.categories] == ["20 → 0 (↓20) / -100.0%"]
    assert report.samples == () and report.keywords == ()


def test_future_dated_ticket_does_not_make_a_stale_week_look_loaded(settings: VocSettings) -> None:
    # Regression: data ending Monday 00:30 KST of the reported week plus one row dated 2099 was
    # reported as a calm (IMPROVED) week.
    rows = tickets("login-b", 20, "2026-11-10 10:00", LOGIN)
    rows += [ticket("start", "2026-11-16 00:30", LOGIN), ticket("typo", "2099-01-01 09:00", LOGIN)]
    report = build(settings, rows)
    coverage = report.coverage
    assert not coverage.is_report_week_complete
    assert str(coverage.last_ticket_at) == "2026-11-15 15:30:00"  # Monday 00:30 KST
    assert (coverage.future_tickets, str(coverage.last_future_ticket_at)) == (1, "2099-01-01 00:00:00")
    with pytest.raises(StaleSourceError) as error:
        check_coverage(report)
    assert "the source data ends at 2026-11-16 00:30 KST" in str(error.value)
    assert "1 ticket(s) dated after the run started, the latest 2099-01-01 09:00 KST" in str(error.value)


def test_categories_sharing_a_label_stay_two_categories_end_to_end(settings: VocSettings) -> None:
    # Regression: ('A / B', 'C', 'D') and ('A', 'B / C', 'D') both render 'A / B / C / D': the
    # uniqueness test failed mid-run.
    left, right = ("A / B", "C", "D"), ("A", "B / C", "D")
    rows = tickets("left-b", 10, "2026-11-10 10:00", left) + tickets("left-r", 25, "2026-11-17 10:00", left)
    rows += tickets("right-r", 12, "2026-11-18 10:00", right, keywords="오류") + [monday_0030()]
    report = build(settings, rows)

    flagged = {c.category: (c.category_label, ticket_change_text(c), c.severity) for c in report.follow_ups}
    assert flagged == {
        left: ("A / B / C / D", "10 → 25 (↑15) / +150.0%", "CRITICAL"),
        right: ("A / B / C / D", "0 → 12 (↑12) / 신규", "MONITOR"),
    }
    assert {s.ticket_id[:4] for s in report.samples_of(left, "reported")} == {"left"}
    assert {s.ticket_id[:5] for s in report.samples_of(right, "reported")} == {"right"}
    assert [k.keyword for k in report.keywords_of(right)] == ["오류"]
    replies = [build_follow_up_messages(builtin_follow_up(report, c))[0] for c in report.follow_ups]
    assert len({reply.key for reply in replies}) == 2
    assert reply_key(left) != reply_key(right)
    assert all("A / B / C / D" in preview(reply) for reply in replies)
    levels = [(c["category1"], c["category2"], c["category3"]) for c in report_summary(report)["categories"]]
    assert left in levels and right in levels  # report.json and the table artifact tell them apart


def test_rows_without_an_id_are_counted_per_week_and_named_in_the_summary(settings: VocSettings) -> None:
    # Regression: 10 null ids took a baseline from 20 to 10 with no word.
    rows = tickets("login-b", 10, "2026-11-10 10:00", LOGIN) + tickets(
        "login-r", 10, "2026-11-17 10:00", LOGIN
    )
    rows += [{**ticket("x", "2026-11-11 10:00", LOGIN), "id": None} for _ in range(10)]
    rows += [{**ticket("x", "2026-11-18 10:00", LOGIN), "id": None} for _ in range(3)]
    report = build(settings, rows + [monday_0030()])
    coverage = report.coverage
    assert (coverage.previous_tickets, coverage.reported_tickets) == (10, 10)
    assert (coverage.previous_rows_without_id, coverage.reported_rows_without_id) == (10, 3)
    footer = preview(build_summary(report)).splitlines()
    assert ":warning: ID가 없는 원본 행 13건은 집계에서 제외했습니다 (기준주 10건 · 비교주 3건)." in footer


def test_summary_footer_is_silent_when_no_row_was_left_out(settings: VocSettings) -> None:
    rows = tickets("login-b", 10, "2026-11-10 10:00", LOGIN) + tickets(
        "login-r", 10, "2026-11-17 10:00", LOGIN
    )
    report = build(settings, rows + [monday_0030()])
    assert report.coverage.rows_without_id == 0 and report.coverage.future_tickets == 0
    assert ":warning:" not in preview(build_summary(report))


def test_pct_change_is_double_precision(settings: VocSettings) -> None:
    # Regression: DuckDB's FLOAT is 32-bit, so 6 → 13 read 116.66666412 in report.json.
    rows = tickets("login-b", 6, "2026-11-10 10:00", LOGIN) + tickets(
        "login-r", 13, "2026-11-17 10:00", LOGIN
    )
    report = build(settings, rows + [monday_0030()])
    login = next(c for c in report.categories if c.category == LOGIN)
    assert login.pct_change == 116.66666666666667


def compiled_models(settings: VocSettings, week: date) -> dict[str, dict[str, Any]]:
    """Each model's compiled SQL and config for a reported week (`dbt compile`, models only)."""
    week_vars = json.dumps({"report_week": week.isoformat()})
    invoke_dbt(settings, ["--quiet", "compile", "--select", "resource_type:model", "--vars", week_vars])
    manifest = json.loads((settings.dbt_project_dir / "target/manifest.json").read_text(encoding="utf-8"))
    return {
        node["name"]: {"sql": node["compiled_code"], **node["config"]}
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def test_a_model_whose_sql_depends_on_the_week_is_inlined_or_replaces_only_its_weeks(
    settings: VocSettings,
) -> None:
    # Two builds of different weeks may share one BigQuery dataset (a schedule and a mention, an
    # analyst on prod): a view or table carrying one run's window would be read by the other run.
    write_source(settings.effective_source_path, tickets("login-b", 2, "2026-11-10 10:00", LOGIN))
    prepare_source(settings)
    one, other = compiled_models(settings, REPORT_WEEK), compiled_models(settings, date(2026, 11, 23))
    depends_on_the_week = {name for name in one if one[name]["sql"] != other[name]["sql"]}
    assert "int_voc_category_weeks_filled" in depends_on_the_week
    for name in depends_on_the_week:
        config = one[name]
        if config["materialized"] != "ephemeral":
            assert config["materialized"] == "incremental", name
            # Its own weeks, replaced; none of the other run's, whose rows may differ (counts as of
            # another week's end). The feedback mart rewrites the weeks before its own, with what any
            # run would write there: each week's flags and the team's reactions as they are now.
            shared = set(config["partitions"]) & set(other[name]["partitions"])
            assert not shared or name == "voc_weekly_feedback", (name, shared)
    stored_window_free = sorted(set(one) - depends_on_the_week)
    # The team's reactions, read whole; a join of the comparison with the owners seed: neither carries
    # a week. Everything between the weekly grid and the marts (the rule, the evidence, the flagged
    # categories and their tickets) carries the run's window.
    assert {
        "int_voc_category_weeks_classified",
        "int_voc_category_evidence",
        "int_voc_categories_flagged",
        "int_voc_category_tickets_flagged",
        "stg_zendesk__voc_tickets_compared",
    } <= depends_on_the_week
    assert stored_window_free == [
        "stg_slack__voc_flag_feedback",
        "voc_weekly_category_owners",
    ]


def test_a_build_of_a_later_week_never_changes_the_counts_an_earlier_weeks_build_reads(
    settings: VocSettings,
) -> None:
    # Two builds share a dataset. A ticket re-classified after the reported week counts where it
    # stood at the week's end; a later week's build counts it where it stands at its own. Here the
    # later build runs between this week's aggregation and the models that read it.
    moved = ticket("moved", "2026-11-10 11:00", LOGIN)
    reclassified = {**ticket("moved", "2026-11-24 09:00", REFUND)}
    rows = [
        *tickets("login-b", 4, "2026-11-10 10:00", LOGIN),
        moved,
        *tickets("login-r", 9, "2026-11-17 10:00", LOGIN),
        reclassified,
        ticket("two-weeks-on", "2026-11-30 00:30", REFUND),
    ]

    def comparison() -> list[tuple[Any, ...]]:
        with duckdb.connect(str(settings.duckdb_file)) as con:
            return con.execute(
                """select category3, previous_tickets, reported_tickets, severity, baseline_weeks_used
                from voc_weekly_comparison where report_week_start = ? order by 1""",
                [REPORT_WEEK],
            ).fetchall()

    build(settings, rows)
    alone = comparison()
    assert (LOGIN[2], 5, 9) in [row[:3] for row in alone]
    build_week(settings, date(2026, 11, 23), quiet=True)  # as of its end, "moved" is a refund
    week = json.dumps({"report_week": REPORT_WEEK.isoformat()})
    readers = ["int_voc_category_baselines_computed", "voc_weekly_comparison"]
    invoke_dbt(settings, ["--quiet", "run", "--select", *readers, "--vars", week])
    assert comparison() == alone


def test_the_followed_up_tickets_of_the_two_weeks_are_the_tickets_the_comparison_counts(
    settings: VocSettings,
) -> None:
    # The samples and keyword marts read only the two compared weeks of the source; a re-classified
    # ticket must land in the same week and category there as in the counts, whichever of its rows
    # lie outside those weeks (issue 17: they read 9 weeks to use 2).
    rows = [
        *tickets("login-b", 20, "2026-11-10 10:00", LOGIN),
        *tickets("login-r", 30, "2026-11-17 10:00", LOGIN),
        # Moved out of the category within the reported week: its older row is before the baseline.
        ticket("moved-out", "2026-11-03 10:00", LOGIN),
        ticket("moved-out", "2026-11-18 10:00", REFUND),
        # Re-classified after the reported week ended: the reported numbers keep the row before.
        ticket("late-change", "2026-11-11 10:00", LOGIN),
        ticket("late-change", "2026-11-24 10:00", REFUND),
        # An older row of a ticket whose latest row is in the baseline week.
        ticket("older-row", "2026-11-02 10:00", REFUND),
        ticket("older-row", "2026-11-12 10:00", LOGIN),
        # Moved within the baseline week.
        ticket("moved-in-week", "2026-11-10 11:00", LOGIN),
        ticket("moved-in-week", "2026-11-13 11:00", REFUND),
        monday_0030(),
    ]
    report = build(settings, rows)
    login = next(c for c in report.categories if c.category == LOGIN)
    assert (login.previous_tickets, login.reported_tickets, login.severity) == (22, 30, "CRITICAL")
    with duckdb.connect(str(settings.duckdb_file)) as con:
        keyword = con.execute(
            "select previous_tickets, reported_tickets from voc_weekly_keyword_changes "
            "where category3 = ? and keyword = '문의'",
            [LOGIN[2]],
        ).fetchall()
        sampled = con.execute(
            "select ticket_id from voc_weekly_samples where category3 = ? and ticket_id not like 'login-%'",
            [LOGIN[2]],
        ).fetchall()
    assert keyword == [(22, 30)]  # every ticket has the keyword: the same tickets as the counts
    assert sorted(sampled) == [("late-change",), ("older-row",)]
