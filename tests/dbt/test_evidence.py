"""The evidence on real DuckDB: a planted spike is significant, a wobbly category's flag is not,
streaks count, the baseline is rebuilt every run, the follow-up policy and the backtest."""

from __future__ import annotations

import csv
import json
import struct
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.flow import voc_weekly_report
from flows.llm.prompt import build_prompt
from flows.report import CategoryChange, WeeklyReport
from flows.warehouse.dbt import build_week
from flows.warehouse.readers import open_warehouse, read_report
from flows.warehouse.source import prepare_source
from tests.factories import as_reported, make_settings
from tests.servers.laas import API_KEY as LAAS_KEY
from tests.servers.laas import LaasServer
from tests.sources import CANCEL, EVENT, LOGIN, POSTING, REFUND, label, weekly_history_rows, write_source

REPORT_WEEK = date(2026, 11, 16)
SPIKE, WOBBLY, RISING, STEADY, SPIKED_BEFORE = LOGIN, CANCEL, EVENT, POSTING, REFUND
# Ten weeks ending 2026-11-16, oldest first.
HISTORY = {
    SPIKE: [20] * 9 + [60],  # steady, then three times as many: a real change
    WOBBLY: [12, 28] * 5,  # swings every week: +133% this week is its normal
    RISING: [10] * 8 + [20, 40],  # doubled two weeks running
    STEADY: [30] * 10,
    SPIKED_BEFORE: [20] * 3 + [60] + [20] * 5 + [40],  # a past spike inside the baseline, then 2x
}


@pytest.fixture(scope="module")
def history_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("history")
    return write_source(folder / "export.parquet", weekly_history_rows(HISTORY, "2026-11-16"))


@pytest.fixture(scope="module")
def built(history_export: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The week built once; then an old week of the incremental table is corrupted and the week
    built again, as a scheduled run after a bad backfill would."""
    settings = make_settings(tmp_path_factory.mktemp("evidence"), history_export)
    prepare_source(settings)
    relations = build_week(settings, REPORT_WEEK, quiet=True)
    first = read_report(open_warehouse(settings), relations, REPORT_WEEK)
    with duckdb.connect(str(settings.duckdb_file)) as con:
        con.execute(
            "update int_voc_category_weeks_aggregated set ticket_count = 999 where week_start = '2026-10-05'"
        )
    relations = build_week(settings, REPORT_WEEK, quiet=True)
    return {"first": first, "again": read_report(open_warehouse(settings), relations, REPORT_WEEK)}


def of(report: WeeklyReport, category: tuple[str, str, str]) -> CategoryChange:
    return next(change for change in report.categories if change.category_label == label(category))


def test_a_planted_spike_is_significant_and_a_swinging_category_is_within_normal_variation(
    built: dict[str, Any],
) -> None:
    report = built["first"]
    spike, wobbly = of(report, SPIKE), of(report, WOBBLY)
    assert (spike.severity, wobbly.severity) == ("CRITICAL", "CRITICAL"), "the seed rules flag both"
    assert spike.baseline_weeks_used == 8
    assert spike.baseline_counts == [20] * 8
    assert spike.baseline_mean_tickets == pytest.approx(20.0)
    assert spike.expected_tickets_high is not None and spike.expected_tickets_high < 60
    assert spike.p_value_increase is not None and spike.p_value_increase < 1e-6
    assert spike.is_significant and spike.q_value is not None and spike.q_value < 0.05
    assert wobbly.baseline_counts == [28, 12] * 4
    assert wobbly.baseline_dispersion is not None and wobbly.baseline_dispersion > spike.baseline_dispersion
    assert wobbly.p_value_increase is not None and wobbly.p_value_increase > 0.05
    assert not wobbly.is_significant
    steady = of(report, STEADY)
    assert (steady.severity, steady.is_significant, steady.flagged_weeks_in_a_row) == ("STABLE", False, 0)


def test_a_past_spike_in_the_baseline_is_down_weighted_so_a_new_doubling_is_significant(
    built: dict[str, Any],
) -> None:
    """Regression: the spike six weeks ago raised the baseline mean to 25 and its wobble estimate
    with it, so this week's doubling read as normal variation (Farrington/Noufaily down-weighting)."""
    spiked = of(built["first"], SPIKED_BEFORE)
    assert spiked.baseline_counts == [20, 20, 60, 20, 20, 20, 20, 20]
    assert spiked.baseline_mean_tickets is not None and spiked.baseline_mean_tickets < 21
    assert spiked.expected_tickets_high is not None and spiked.expected_tickets_high < 40
    assert spiked.severity == "CRITICAL" and spiked.is_significant


def test_streaks_count_the_weeks_flagged_in_a_row(built: dict[str, Any]) -> None:
    report = built["first"]
    rising, spike, wobbly = of(report, RISING), of(report, SPIKE), of(report, WOBBLY)
    assert (rising.flagged_weeks_in_a_row, rising.previous_severity) == (2, "CRITICAL")
    assert (spike.flagged_weeks_in_a_row, spike.previous_severity) == (1, "STABLE")
    assert (wobbly.flagged_weeks_in_a_row, wobbly.previous_severity) == (1, "IMPROVED")
    assert rising.is_significant


def test_every_run_rebuilds_the_baseline_weeks_it_reads(built: dict[str, Any]) -> None:
    first, again = built["first"], built["again"]
    assert of(again, SPIKE).baseline_counts == [20] * 8, "the corrupted week was rescanned"
    assert as_reported(again.categories) == as_reported(first.categories)


def test_the_prompt_says_whether_the_change_is_significant(built: dict[str, Any]) -> None:
    report = built["first"]
    spike_prompt = build_prompt(report, of(report, SPIKE))
    assert (
        "- 기준선 (이전 주별 VOC 수, 오래된 주부터): 최근 8주 20, 20, 20, 20, 20, 20, 20, 20 → 이번 주 60"
        in spike_prompt
    )
    assert (
        "- 통계적 유의성: 유의함 — 평소 주간 변동으로 설명하기 어려운 변화입니다 (FDR 5%, q<0.001)"
        in spike_prompt
    )
    wobbly_prompt = build_prompt(report, of(report, WOBBLY))
    assert "- 통계적 유의성: 유의하지 않음 — 평소 주간 변동 범위 안의 변화일 수 있습니다" in wobbly_prompt


def test_significant_policy_replies_and_calls_the_llm_only_for_significant_flags(
    prefect_server: None, history_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    laas = LaasServer().start()
    env = {
        "VOC_HOME": str(tmp_path / ".voc"),
        "VOC_SOURCE_PATH": str(history_export),
        "VOC_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "VOC_FOLLOW_UPS": "significant",
        "LAAS_API_KEY": LAAS_KEY,
        "LAAS_BASE_URL": laas.url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        state = voc_weekly_report(
            week_start=REPORT_WEEK, dry_run=True, out_dir=str(tmp_path / "out"), return_state=True
        )
    finally:
        laas.stop()
    assert state.is_completed(), state.message
    replies = sorted((tmp_path / "out").glob("[0-9][0-9]-reply-*.json"))
    headings = [json.loads(path.read_text())["blocks"][0]["text"]["text"] for path in replies]
    titles = [next(line for line in h.split("\n") if line.startswith("*[")) for h in headings]
    assert titles == [  # (after the owners' mentions)
        f"*[CRITICAL] {label(SPIKE)}*",
        f"*[CRITICAL] {label(RISING)}*",
        f"*[CRITICAL] {label(SPIKED_BEFORE)}*",
    ], "the wobbly CRITICAL gets no reply"
    assert len(laas.requests) == 3
    assert all("판정: 유의" in heading for heading in headings)
    categories = json.loads((tmp_path / "out" / "report.json").read_text())["categories"]
    wobbly = next(row for row in categories if row["category_label"] == label(WOBBLY))
    assert wobbly["is_significant"] is False and wobbly["severity"] == "CRITICAL"
    assert {"q_value", "p_value_increase", "baseline_weekly_tickets", "flagged_weeks_in_a_row"} <= set(wobbly)
    rollups = {
        row["rollup_label"]: row
        for row in json.loads((tmp_path / "out" / "report.json").read_text())["rollups"]
    }
    assert {"개인회원", "개인회원 / 계정", "기업회원", "기업회원 / 결제"} <= set(rollups)
    account = rollups["개인회원 / 계정"]  # the spike is its only category: significant, and explained by it
    assert (account["level"], account["reported_tickets"], account["previous_tickets"]) == (2, 60, 20)
    assert account["is_significant"] and account["is_explained_by_children"]
    assert account["top_drivers"] == "로그인 오류 20→60"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_backtest_prints_flags_per_week_and_writes_csv_and_chart(
    history_export: Path, tmp_path: Path
) -> None:
    env = {
        "VOC_HOME": str(tmp_path / ".voc"),
        "VOC_SOURCE_PATH": str(history_export),
        "VOC_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
    }
    runner = CliRunner()
    args = ["backtest", "--weeks", "4", "--week", "2026-11-16", "--out", str(tmp_path / "bt")]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    with (tmp_path / "bt" / "backtest-2026-11-16-4w.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(r["report_week"], r["critical"], r["monitor"], r["improved"], r["stable"]) for r in rows] == [
        ("2026-10-26", "0", "0", "1", "4"),  # the swinging category drops
        ("2026-11-02", "1", "0", "0", "4"),
        ("2026-11-09", "1", "0", "1", "3"),  # rising doubles; the swing drops again
        ("2026-11-16", "4", "0", "0", "1"),
    ]
    assert rows[-1]["significant"] == "3", "the spikes and the rising category, not the swing"
    assert int(rows[-1]["significant_rollups"]) >= 3, "the groups of the spikes and the rising category"
    assert rows[-1]["unexplained_rollups"] == "0", "each is explained by its significant category"
    assert all(int(r["significant"]) <= int(r["flagged"]) for r in rows)
    assert "2026-11-16" in result.output and "total" in result.output
    assert png_size(tmp_path / "bt" / "backtest-2026-11-16-4w.png") == (1000, 400)
    assert not (tmp_path / "warehouse.duckdb").exists(), "the report's warehouse is not touched"

    stricter = runner.invoke(app, [*args, "--vars", '{"critical_increase_pct": 150}'], env=env)
    assert stricter.exit_code == 0, stricter.output
    with (tmp_path / "bt" / "backtest-2026-11-16-4w.csv").open(encoding="utf-8") as file:
        last = list(csv.DictReader(file))[-1]
    assert (last["critical"], last["monitor"]) == ("1", "3"), "+133% and +100% are MONITOR at 150%"


def test_backtest_refuses_bad_vars_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["backtest", "--vars", "{not json"], env={"VOC_HOME": str(tmp_path)})
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--vars is not valid JSON" in lines[0], result.output
