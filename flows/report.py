"""The weekly report as read from the marts: typed rows, in the order the report shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from flows.errors import StaleSourceError, WeekError
from flows.weeks import kst_text, week_end_utc, week_range_text

Severity = Literal["CRITICAL", "MONITOR", "IMPROVED", "STABLE"]
SEVERITIES: tuple[Severity, ...] = ("CRITICAL", "MONITOR", "IMPROVED", "STABLE")
FOLLOW_UP_SEVERITIES: tuple[Severity, ...] = ("CRITICAL", "MONITOR")
# Which flagged categories get a thread reply: all of them, or only the significant ones.
FollowUpPolicy = Literal["all", "significant"]
WEEK_LABELS = {"previous": "기준주", "reported": "비교주"}
# A category is its three classification levels: labels can collide ('A / B', 'C' and 'A', 'B / C').
CategoryKey = tuple[str, str, str]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _CategoryRow(_Row):
    """A mart row about one category: its three levels are the key, the label is for display."""

    category_label: str
    category1: str
    category2: str
    category3: str

    @property
    def category(self) -> CategoryKey:
        return (self.category1, self.category2, self.category3)


class _Change(_Row):
    """The figures a category and a roll-up share: the reported week against the previous week, and
    the evidence against the multi-week baseline (SPEC §4 "Evidence")."""

    previous_tickets: int
    reported_tickets: int
    previous_negative_tickets: int = 0
    reported_negative_tickets: int = 0
    ticket_change: int
    pct_change: float | None = None
    previous_neg_ratio: float | None = None
    reported_neg_ratio: float | None = None
    baseline_weeks_used: int = 0
    baseline_weekly_tickets: str | None = None
    baseline_mean_tickets: float | None = None
    expected_tickets_low: float | None = None
    expected_tickets_high: float | None = None
    p_value_increase: float | None = None
    p_value_decrease: float | None = None
    p_value_negative_rise: float | None = None
    q_value: float | None = None
    is_significant: bool = False

    @property
    def baseline_counts(self) -> list[int]:
        """The baseline weeks' ticket counts, oldest first."""
        text = self.baseline_weekly_tickets or ""
        return [int(count) for count in text.split(",") if count.strip()]


class CategoryChange(_Change, _CategoryRow):
    """One row of voc_weekly_comparison: a category's two weeks, its severity and its evidence."""

    is_up_from_zero: bool
    neg_ratio_delta_pp: float | None
    volume: int
    severity: Severity
    baseline_neg_ratio: float | None = None
    baseline_dispersion: float | None = None
    flagged_weeks_in_a_row: int = 0
    previous_severity: Severity | None = None
    # The team's snooze (SPEC §13): no reply and no LLM call while snoozed, unless it got worse.
    is_snoozed: bool = False
    snoozed_until: date | None = None
    snooze_ended_by_escalation: bool = False


RollupDirection = Literal["increase", "decrease", "negative_rise"]


class _RollupRow(_Row):
    """A mart row about one roll-up: its level and categories are the key, the label is for display."""

    level: int
    category1: str
    category2: str | None = None
    rollup_label: str


class Rollup(_Change, _RollupRow):
    """One row of voc_weekly_rollups: a category1 (level 1) or category1 / category2 (level 2) as a whole."""

    direction: RollupDirection | None = None
    child_categories: int = 0
    significant_children: int = 0
    top_drivers: str | None = None
    is_explained_by_children: bool = False

    @property
    def is_news(self) -> bool:
        """Significant, and not already shown by significant children: the summary's 🔎 section."""
        return self.is_significant and not self.is_explained_by_children


class Sample(_CategoryRow):
    """One masked sample ticket of a flagged category (voc_weekly_samples)."""

    sample_week: Literal["previous", "reported"]
    sample_rank: int
    ticket_id: str
    created_at: datetime
    emotion: str | None
    is_negative: bool
    title: str | None
    detail: str | None
    keywords: str | None


class KeywordChange(_CategoryRow):
    """How often a keyword appeared in a flagged category in both weeks (voc_weekly_keyword_changes)."""

    keyword: str
    previous_tickets: int
    reported_tickets: int
    ticket_change: int
    growth_rank: int


class CategoryOwners(_CategoryRow):
    """Who gets asked about a category (voc_weekly_category_owners): Slack user and user-group IDs."""

    owners: str | None = None
    owners_rule: str | None = None


class FeedbackWeek(_Row):
    """One reported week of voc_weekly_feedback: the flags raised and what the team said about them."""

    report_week_start: date
    flags: int = 0
    significant_flags: int = 0
    snoozed_flags: int = 0
    replies_posted: int = 0
    replies_with_feedback: int = 0
    useful: int = 0
    false_alarm: int = 0
    handled: int = 0
    snoozed: int = 0


class Thresholds(_Row):
    """The severity thresholds dbt classified with (SPEC §4), as recorded in the status mart."""

    critical_increase_pct: float
    critical_neg_ratio_delta_pp: float
    critical_min_volume: float
    monitor_increase_pct: float
    monitor_neg_ratio_delta_pp: float
    monitor_min_volume: float
    improved_decrease_pct: float
    improved_min_volume: float
    baseline_weeks: int = 8
    fdr_alpha: float = 0.05


class Coverage(_Row):
    """voc_weekly_report_status: the weeks compared and how far the source data reaches."""

    report_week_start: date
    previous_week_start: date
    report_week_end_at: datetime
    previous_tickets: int
    reported_tickets: int
    first_ticket_at: datetime | None
    last_ticket_at: datetime | None  # the newest ticket not dated after the dbt run started
    is_report_week_complete: bool
    previous_rows_without_id: int = 0  # source rows left out of every count
    reported_rows_without_id: int = 0
    rows_without_create_time: int = 0  # source rows in no week at all (any week of the source)
    future_tickets: int = 0  # tickets dated after the run started: counted, never proof of coverage
    last_future_ticket_at: datetime | None = None

    @property
    def rows_without_id(self) -> int:
        return self.previous_rows_without_id + self.reported_rows_without_id


class WeeklyReport(_Row):
    """Everything one week's Slack report is made of."""

    coverage: Coverage
    thresholds: Thresholds
    categories: tuple[CategoryChange, ...]  # severity order, then the largest change first
    samples: tuple[Sample, ...] = ()
    keywords: tuple[KeywordChange, ...] = ()
    rollups: tuple[Rollup, ...] = ()  # significance order (smallest q-value first)
    owners: tuple[CategoryOwners, ...] = ()
    feedback: tuple[FeedbackWeek, ...] = ()  # the VOC_FEEDBACK_WEEKS weeks before this one
    feedback_weeks: int = 12

    @property
    def report_week(self) -> date:
        return self.coverage.report_week_start

    @property
    def previous_week(self) -> date:
        return self.coverage.previous_week_start

    def with_severity(self, severity: Severity) -> list[CategoryChange]:
        """The categories of one severity, largest change first."""
        return [change for change in self.categories if change.severity == severity]

    def counts(self) -> dict[Severity, int]:
        """How many categories have each severity (STABLE included)."""
        return {severity: len(self.with_severity(severity)) for severity in SEVERITIES}

    @property
    def follow_ups(self) -> list[CategoryChange]:
        """The flagged categories that may get a thread reply: CRITICAL, then MONITOR."""
        return [c for severity in FOLLOW_UP_SEVERITIES for c in self.with_severity(severity)]

    def follow_ups_for(self, policy: FollowUpPolicy) -> list[CategoryChange]:
        """The categories that get a reply and an analysis under the policy (VOC_FOLLOW_UPS); never a
        snoozed one."""
        awake = [change for change in self.follow_ups if not change.is_snoozed]
        if policy == "significant":
            return [change for change in awake if change.is_significant]
        return awake

    @property
    def snoozed(self) -> list[CategoryChange]:
        """The CRITICAL/MONITOR categories the team snoozed: counted, listed on one line, no reply."""
        return [change for change in self.follow_ups if change.is_snoozed]

    def owners_of(self, category: CategoryKey) -> str | None:
        """The owners' Slack IDs of a category, space-separated, if anyone owns it."""
        return next((row.owners for row in self.owners if row.category == category), None)

    @property
    def rollup_news(self) -> list[Rollup]:
        """Significant roll-ups that no significant child explains, the strongest first."""
        return [rollup for rollup in self.rollups if rollup.is_news]

    def samples_of(self, category: CategoryKey, week: str) -> list[Sample]:
        """A category's samples from one week ('previous' or 'reported'), in sample order."""
        return [s for s in self.samples if s.category == category and s.sample_week == week]

    def keywords_of(self, category: CategoryKey) -> list[KeywordChange]:
        """A category's keywords, the fastest growing first."""
        return [kw for kw in self.keywords if kw.category == category]


def check_coverage(report: WeeklyReport) -> None:
    """Refuse a week the data does not cover: a stale source would look like a calm (IMPROVED) week."""
    coverage = report.coverage
    weeks = f"{week_range_text(report.previous_week)} and {week_range_text(report.report_week)}"
    if coverage.reported_tickets == 0 and coverage.previous_tickets == 0:
        raise WeekError(
            f"no tickets in the weeks {weeks}: the source has no data for them "
            "(is week_start before the data begins?)",
            slack_text=f"{weeks.replace(' and ', ', ')} 두 주에 VOC가 한 건도 없습니다. "
            "요청한 주가 데이터가 시작되기 전인지 확인해 주세요.",
        )
    if not coverage.is_report_week_complete:
        last = coverage.last_ticket_at
        last_text = "no data" if last is None else f"{kst_text(last)} KST"
        week_end = f"{kst_text(week_end_utc(report.report_week))} KST"
        last_ko = "데이터가 없어" if last is None else f"데이터가 {kst_text(last)} KST까지만 있어"
        future_ko = (
            f" (실행 이후 날짜가 찍힌 {coverage.future_tickets}건은 빼고 봤습니다.)"
            if coverage.future_tickets
            else ""
        )
        raise StaleSourceError(
            f"the source data ends at {last_text}, before the end of the reported week "
            f"{week_range_text(report.report_week)} ({week_end})"
            f"{future_dated_note(coverage)}: no report sent; rerun when the data has been loaded",
            slack_text=f"원본 {last_ko} 보고 주간 {week_range_text(report.report_week)}"
            f"({week_end} 종료)을 다 담지 못했습니다.{future_ko} 데이터가 적재된 뒤 다시 실행해 주세요.",
        )


def future_dated_note(coverage: Coverage) -> str:
    """' (not counting N ticket(s) dated in the future, the latest …)', or '' when there are none."""
    if not coverage.future_tickets or coverage.last_future_ticket_at is None:
        return ""
    return (
        f" (not counting {coverage.future_tickets} ticket(s) dated after the run started, "
        f"the latest {kst_text(coverage.last_future_ticket_at)} KST)"
    )
