"""What a run did: its outcome, report.json's summary of the week, and the Prefect artifacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.report import CategoryChange, Coverage, WeeklyReport, future_dated_note
from flows.slack.messages import SlackMessage, preview

ALREADY_POSTED = "the report was already in Slack: nothing posted (pass force to post it again)"
QUIET_WEEK = "quiet week: nothing posted (VOC_POST_QUIET_WEEKS=false)"
# The evidence columns of voc_weekly_comparison that report.json carries next to the figures.
EVIDENCE_FIELDS = (
    "baseline_weeks_used",
    "baseline_weekly_tickets",
    "baseline_mean_tickets",
    "baseline_neg_ratio",
    "baseline_dispersion",
    "expected_tickets_low",
    "expected_tickets_high",
    "p_value_increase",
    "p_value_decrease",
    "p_value_negative_rise",
    "q_value",
    "is_significant",
    "flagged_weeks_in_a_row",
    "previous_severity",
)
# The team's snooze (SPEC §13), decided in dbt: what the reply and the summary's 🔕 line follow.
SNOOZE_FIELDS = ("is_snoozed", "snoozed_until", "snooze_ended_by_escalation")


@dataclass
class Outcome:
    """What a run did, for the CLI, the flow run's state message and the artifacts."""

    week: date
    channel: str
    dry_run: bool
    posted: int = 0
    already_posted: int = 0
    follow_up_failures: int = 0
    out_dir: str | None = None
    preview: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def nothing_new(self) -> bool:
        """A delivery that found every message in Slack already."""
        return not self.dry_run and self.posted == 0

    def message(self) -> str:
        mode = "dry run" if self.dry_run else f"posted {self.posted} message(s) to {self.channel}"
        parts = [f"week {self.week}: {mode}"]
        if self.already_posted:
            parts.append(f"{self.already_posted} already posted earlier")
        if self.follow_up_failures:
            parts.append(f"{self.follow_up_failures} follow-up analysis failed")
        return "; ".join(parts + self.notes)


def messages_preview(messages: list[SlackMessage]) -> str:
    """The messages as a reader sees them, numbered in posting order (CLI output and artifact)."""
    return "\n\n".join(f"── {n:02d} {m.key} ──\n{preview(m)}" for n, m in enumerate(messages, start=1))


# report.json's floats carry 12 significant digits: more than any reading or decision needs, and
# what two warehouses agree on (their float sums differ in the last digits, so BigQuery and DuckDB
# would otherwise write different files for the same week).
FLOAT_DIGITS = 12


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    """The row with every float cut to FLOAT_DIGITS significant digits."""
    return {
        key: float(f"{value:.{FLOAT_DIGITS}g}") if isinstance(value, float) else value
        for key, value in row.items()
    }


# report.json's names before this release, kept one release for the scripts that read them, as the
# marts keep theirs (README, "Upgrading"): "baseline" now means only the multi-week history.
DEPRECATED_CATEGORY_NAMES = {
    "prev_tickets": "previous_tickets",
    "last_tickets": "reported_tickets",
    "prev_negative_tickets": "previous_negative_tickets",
    "last_negative_tickets": "reported_negative_tickets",
    "prev_neg_ratio": "previous_neg_ratio",
    "last_neg_ratio": "reported_neg_ratio",
}
DEPRECATED_ROLLUP_NAMES = {
    "baseline_tickets": "previous_tickets",
    "baseline_negative_tickets": "previous_negative_tickets",
    "negative_ratio": "reported_neg_ratio",
    "baseline_negative_ratio": "previous_neg_ratio",
}


def _with_deprecated_names(row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return row | {old: row[new] for old, new in names.items()}


def _category_row(change: CategoryChange) -> dict[str, Any]:
    """A category's figures, severity and evidence, as report.json gives them."""
    row = change.model_dump(
        mode="json",  # dates as YYYY-MM-DD: report.json and the ledger are JSON
        include={
            "category_label",
            "category1",  # the levels tell apart categories that share a label
            "category2",
            "category3",
            "previous_tickets",
            "reported_tickets",
            "previous_negative_tickets",
            "reported_negative_tickets",
            "pct_change",
            "previous_neg_ratio",
            "reported_neg_ratio",
            "neg_ratio_delta_pp",
            "severity",
            *EVIDENCE_FIELDS,
            *SNOOZE_FIELDS,
        },
    )
    return _with_deprecated_names(_rounded(row), DEPRECATED_CATEGORY_NAMES)


def report_summary(report: WeeklyReport) -> dict[str, Any]:
    """Every category of the week (figures, severity, evidence) and every roll-up (report.json)."""
    previous_week = report.previous_week.isoformat()
    return {
        "report_week": report.report_week.isoformat(),
        "previous_week": previous_week,
        "baseline_week": previous_week,  # deprecated name of previous_week
        "counts": report.counts(),
        "thresholds": report.thresholds.model_dump(),
        "categories": [_category_row(change) for change in report.categories],
        # The category hierarchy as a whole (voc_weekly_rollups), the strongest evidence first.
        "rollups": [
            _with_deprecated_names(_rounded(rollup.model_dump()), DEPRECATED_ROLLUP_NAMES)
            for rollup in report.rollups
        ],
    }


def warn_about_unused_rows(report: WeeklyReport) -> None:
    """Say in the run log which source rows the report left out (the summary footer says it too)."""
    logger = get_run_logger()
    for line in unused_rows_text(report.coverage):
        logger.warning(line)


def unused_rows_text(coverage: Coverage) -> list[str]:
    """The run log's lines about source rows left out of the counts, and tickets dated in the future."""
    lines = []
    if coverage.rows_without_id:
        previous, reported = coverage.previous_rows_without_id, coverage.reported_rows_without_id
        weeks = f"previous week {previous}, reported week {reported}"
        lines.append(
            f"{coverage.rows_without_id} source row(s) without an id left out of the counts ({weeks})"
        )
    if coverage.rows_without_create_time:
        lines.append(
            f"{coverage.rows_without_create_time} source row(s) without event_create_time left out of the "
            "counts (they belong to no week)"
        )
    if note := future_dated_note(coverage):
        lines.append(f"coverage judged on real tickets only{note}")
    return lines


def publish_table(summary: dict[str, Any]) -> None:
    """A Prefect table artifact with every category of the week and its severity, in the current
    names; a summary recorded in the ledger before the rename (a rerun's) has only the old ones."""
    previous_week = summary.get("previous_week", summary.get("baseline_week"))
    create_table_artifact(
        key=f"voc-weekly-categories-{summary['report_week']}",
        table=[
            {k: v for k, v in row.items() if DEPRECATED_CATEGORY_NAMES.get(k) not in row}
            for row in summary["categories"]
        ],
        description=f"VOC categories, 기준주 {previous_week} vs. 비교주 {summary['report_week']}",
    )


def publish_preview(outcome: Outcome) -> None:
    """A Prefect markdown artifact of the messages (what Slack shows, or would show)."""
    create_markdown_artifact(
        key=f"voc-weekly-message-{outcome.week.isoformat()}",
        markdown=f"### Weekly VOC 변화 — {outcome.message()}\n\n````text\n{outcome.preview}\n````\n",
        description="The Slack messages of this run",
    )
