"""The `voc-weekly` command line on its happy paths (the refusals are in test_hostile_inputs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from flows.cli import app
from flows.demo.generator import DEMO_WEEKS

WEEK = "2026-11-16"


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "compare", "backtest", "feedback", "dbt", "bot", "demo-data", "unlock"):
        assert re.search(rf"^\W*{command}\b", result.stdout, re.MULTILINE), command


def test_demo_data_writes_the_export_and_says_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "demo.parquet"
    result = CliRunner().invoke(app, ["demo-data", "--out", str(out), "--end-week", "2026-11-18"])
    assert result.exit_code == 0, result.output
    rows = pq.read_metadata(out).num_rows
    said = " ".join(result.stdout.split())
    assert f"Wrote {rows:,} tickets ({DEMO_WEEKS} weeks through 2026-11-16 ~ 2026-11-22)" in said


def test_compare_prints_every_category_of_the_demo_week_with_its_severity(tmp_path: Path) -> None:
    env = {"VOC_HOME": str(tmp_path / ".voc"), "COLUMNS": "250"}
    result = CliRunner().invoke(app, ["compare", "--week", WEEK], env=env)
    assert result.exit_code == 0, result.output
    assert "기준주 2026-11-09 ~ 2026-11-15 vs. 비교주 2026-11-16 ~ 2026-11-22" in result.stdout
    # The demo plants one example of every severity in the reported week.
    for severity in ("CRITICAL", "MONITOR", "IMPROVED", "STABLE"):
        assert re.search(rf"{severity} [1-9]\d*건", result.stdout), severity
    assert "개인회원 / 계정 / 로그인 오류" in result.stdout
    assert "not a report" not in result.stdout  # the demo week is complete


def test_compare_level_2_lists_each_category1_category2_as_a_whole_strongest_first() -> None:
    from rich.console import Console

    from flows.cli import rollup_table
    from tests.factories import change, rollup, weekly_report

    report = weekly_report(
        [change("기업회원 / 채용공고 / 공고 등록", 10, 15, "MONITOR")],
        rollups=[
            rollup("기업회원 / 결제", 60, 61, 0.9, children=3),
            rollup("기업회원 / 채용공고", 90, 126, 0.003, drivers="공고 등록 10→15, 공고 수정 9→14"),
            rollup("기업회원", 150, 187, 0.004, explained=True, children=2),
        ],
    )
    console = Console(record=True, width=250)
    console.print(rollup_table(report, 2))
    lines = console.export_text().splitlines()
    rows = [line for line in lines if "기업회원 /" in line]
    assert [row.split("│")[1].strip() for row in rows] == ["기업회원 / 채용공고", "기업회원 / 결제"]
    assert "90 → 126 (↑36) / +40.0%" in rows[0] and "유의 (q=0.003)" in rows[0]
    assert "공고 등록 10→15, 공고 수정 9→14" in rows[0]
    assert "변동 범위 내 (q=0.900)" in rows[1]
    assert "기업회원 │" not in "\n".join(lines), "level 1 is not listed at level 2"


def test_compare_refuses_a_level_outside_1_to_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["compare", "--level", "4"], env={"VOC_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "--level" in result.output
