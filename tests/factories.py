"""Test data: settings for a temporary warehouse, and reports built directly from figures (no dbt)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flows.outcome import FLOAT_DIGITS
from flows.report import CategoryChange, Coverage, KeywordChange, Rollup, Sample, Thresholds, WeeklyReport
from flows.settings import VocSettings

REPORT_WEEK = date(2026, 11, 16)
BASELINE_WEEK = date(2026, 11, 9)
DEFAULT_THRESHOLDS = Thresholds(
    critical_increase_pct=30,
    critical_neg_ratio_delta_pp=20,
    critical_min_volume=20,
    monitor_increase_pct=20,
    monitor_neg_ratio_delta_pp=10,
    monitor_min_volume=10,
    improved_decrease_pct=20,
    improved_min_volume=10,
)


def levels(label: str) -> dict[str, str]:
    """The three category levels of a label made here ('a / b / c'; a bare name is its first level)."""
    parts = (label.split(" / ", 2) + ["", ""])[:3]
    return {"category_label": label, "category1": parts[0], "category2": parts[1], "category3": parts[2]}


def change(
    label: str,
    prev: int,
    last: int,
    severity: str,
    prev_neg: int = 0,
    last_neg: int = 0,
    **evidence: Any,
) -> CategoryChange:
    """A comparison row with the derived figures computed as the mart does; `evidence` sets the
    evidence columns (baseline_weekly_tickets, q_value, is_significant, ...)."""
    both = prev > 0 and last > 0
    return CategoryChange(
        **levels(label),
        previous_tickets=prev,
        reported_tickets=last,
        previous_negative_tickets=prev_neg,
        reported_negative_tickets=last_neg,
        ticket_change=last - prev,
        pct_change=100 * (last - prev) / prev if prev else None,
        is_up_from_zero=prev == 0,
        previous_neg_ratio=prev_neg / prev if prev else None,
        reported_neg_ratio=last_neg / last if last else None,
        neg_ratio_delta_pp=100 * (last_neg * prev - prev_neg * last) / (prev * last) if both else None,
        volume=max(prev, last),
        severity=severity,  # type: ignore[arg-type]
        **evidence,
    )


def rollup(
    label: str,
    before: int,
    after: int,
    q_value: float | None,
    *,
    explained: bool = False,
    drivers: str | None = None,
    children: int = 6,
    **fields: Any,
) -> Rollup:
    """A voc_weekly_rollups row for 'category1' (level 1) or 'category1 / category2' (level 2),
    significant when q_value <= 0.05."""
    parts = label.split(" / ")
    return Rollup(
        level=len(parts),
        category1=parts[0],
        category2=parts[1] if len(parts) > 1 else None,
        rollup_label=label,
        reported_tickets=after,
        previous_tickets=before,
        ticket_change=after - before,
        pct_change=100 * (after - before) / before if before else None,
        q_value=q_value,
        is_significant=q_value is not None and q_value <= 0.05,
        direction="increase" if after >= before else "decrease",
        child_categories=children,
        top_drivers=drivers,
        is_explained_by_children=explained,
        **fields,
    )


def sample(label: str, role: str, rank: int, title: str, detail: str, emotion: str = "부정") -> Sample:
    return Sample(
        **levels(label),
        sample_week=role,  # type: ignore[arg-type]
        sample_rank=rank,
        ticket_id=f"{role}-{rank}",
        created_at=datetime(2026, 11, 18, 1, 0),
        emotion=emotion,
        is_negative=emotion == "부정",
        title=title,
        detail=detail,
        keywords=None,
    )


def keyword(label: str, word: str, prev: int, last: int, rank: int) -> KeywordChange:
    return KeywordChange(
        **levels(label),
        keyword=word,
        previous_tickets=prev,
        reported_tickets=last,
        ticket_change=last - prev,
        growth_rank=rank,
    )


def weekly_report(
    changes: list[CategoryChange],
    samples: list[Sample] = (),
    keywords: list[KeywordChange] = (),  # type: ignore[assignment]
    rollups: list[Rollup] = (),  # type: ignore[assignment]
    **thresholds: Any,
) -> WeeklyReport:
    """A report for the week of 2026-11-16, categories ordered as the mart query orders them."""
    rank = {"CRITICAL": 1, "MONITOR": 2, "IMPROVED": 3, "STABLE": 4}
    ordered = sorted(changes, key=lambda c: (rank[c.severity], -abs(c.ticket_change), c.category_label))
    return WeeklyReport(
        coverage=Coverage(
            report_week_start=REPORT_WEEK,
            previous_week_start=BASELINE_WEEK,
            report_week_end_at=datetime(2026, 11, 22, 15, 0),
            previous_tickets=sum(c.previous_tickets for c in changes),
            reported_tickets=sum(c.reported_tickets for c in changes),
            first_ticket_at=datetime(2026, 11, 8, 15, 0),
            last_ticket_at=datetime(2026, 11, 22, 14, 59),
            is_report_week_complete=True,
        ),
        thresholds=DEFAULT_THRESHOLDS.model_copy(update=thresholds),
        categories=tuple(ordered),
        samples=tuple(samples),
        keywords=tuple(keywords),
        rollups=tuple(sorted(rollups, key=lambda r: (r.q_value is None, r.q_value or 0.0))),
    )


def make_settings(tmp: Path, source: Path | None, **overrides: Any) -> VocSettings:
    """Settings for the embedded default in a temporary folder, with no Slack or LLM configured."""
    values: dict[str, Any] = {
        "VOC_HOME": str(tmp / ".voc"),
        "VOC_SOURCE_PATH": str(source) if source else None,
        "VOC_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
    }
    values.update(overrides)
    return VocSettings(_env_file=None, **{k: v for k, v in values.items() if v is not None})


def as_reported(changes: Sequence[CategoryChange]) -> list[dict[str, Any]]:
    """The categories with floats to report.json's precision: DuckDB sums the pooled dispersion on
    two threads, in either order, so two builds of one week may differ in the last bits."""
    return [
        {k: float(f"{v:.{FLOAT_DIGITS}g}") if isinstance(v, float) else v for k, v in c.model_dump().items()}
        for c in changes
    ]
