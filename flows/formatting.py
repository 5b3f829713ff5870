"""How a category's figures read, the same in the terminal, the Slack report and the prompt."""

from __future__ import annotations

from flows.report import CategoryChange, Rollup, Thresholds

KEYWORD_CHARS = 60  # a keyword is a word or two; anything longer is clipped wherever it is shown


def keyword_text(keyword: str) -> str:
    """A keyword as shown (Slack reply, prompt): at most KEYWORD_CHARS, the cut marked with '…'."""
    return keyword if len(keyword) <= KEYWORD_CHARS else keyword[: KEYWORD_CHARS - 1] + "…"


def ticket_change_text(change: CategoryChange) -> str:
    """'20 → 26 (↑6) / +30.0%', or '0 → 12 (↑12) / 신규' for a category new this week."""
    arrow = "↑" if change.ticket_change > 0 else "↓" if change.ticket_change < 0 else "±"
    pct = "신규" if change.pct_change is None else f"{change.pct_change:+.1f}%"
    counts = f"{change.previous_tickets} → {change.reported_tickets}"
    return f"{counts} ({arrow}{abs(change.ticket_change)}) / {pct}"


def ratio_text(ratio: float | None) -> str:
    """A 0–1 share as '12.5%', or 'n/a' for a week without tickets."""
    return "n/a" if ratio is None else f"{ratio * 100:.1f}%"


def neg_ratio_text(change: CategoryChange) -> str:
    """'10.0% → 30.0% (+20.0p)'; the delta only when both weeks have tickets."""
    text = f"{ratio_text(change.previous_neg_ratio)} → {ratio_text(change.reported_neg_ratio)}"
    if change.neg_ratio_delta_pp is not None:
        text += f" ({change.neg_ratio_delta_pp:+.1f}p)"
    return text


def _number(value: float) -> str:
    return f"{value:g}"


def criteria_text(thresholds: Thresholds) -> str:
    """The severity rules actually in force, in one line of Korean."""
    t = thresholds
    return (
        f"CRITICAL: (증가≥{_number(t.critical_increase_pct)}% 또는 부정비율 "
        f"+{_number(t.critical_neg_ratio_delta_pp)}%p) & VOC≥{_number(t.critical_min_volume)} · "
        f"MONITOR: (증가≥{_number(t.monitor_increase_pct)}% 또는 부정비율 "
        f"+{_number(t.monitor_neg_ratio_delta_pp)}%p) & VOC≥{_number(t.monitor_min_volume)} · "
        f"IMPROVED: 감소≥{_number(t.improved_decrease_pct)}% & VOC≥{_number(t.improved_min_volume)}"
        " (VOC = 기준주·비교주 중 큰 값)"
    )


SPARK_LEVELS = "▁▂▃▄▅▆▇█"
SPARK_WEEKS = 8
WITHIN_NORMAL_TEXT = "변동 범위 내"


def sparkline(counts: list[int]) -> str:
    """Weekly counts as bars scaled from 0 to the largest: [0, 4, 8] -> '▁▅█'."""
    top = max(counts, default=0)
    if top == 0:
        return SPARK_LEVELS[0] * len(counts)
    return "".join(SPARK_LEVELS[round(count / top * (len(SPARK_LEVELS) - 1))] for count in counts)


def recent_counts(change: CategoryChange) -> list[int]:
    """The last SPARK_WEEKS weekly counts, this week last."""
    return [*change.baseline_counts, change.reported_tickets][-SPARK_WEEKS:]


def q_text(q_value: float | None) -> str:
    """'q=0.003', 'q<0.001' for anything smaller."""
    if q_value is None:
        return "q 없음"
    return "q<0.001" if q_value < 0.001 else f"q={q_value:.3f}"


def streak_text(change: CategoryChange) -> str:
    """'3주 연속' from the second flagged week on, else ''."""
    return f"{change.flagged_weeks_in_a_row}주 연속" if change.flagged_weeks_in_a_row >= 2 else ""


def significance_text(change: CategoryChange) -> str:
    """'유의 (q=0.003)', '변동 범위 내 (q=0.420)' or '이력 부족' without a baseline."""
    if change.baseline_weeks_used == 0 or change.q_value is None:
        return "이력 부족"
    verdict = "유의" if change.is_significant else WITHIN_NORMAL_TEXT
    return f"{verdict} ({q_text(change.q_value)})"


def expected_band_text(change: CategoryChange) -> str:
    """'예상 8–16건' from the baseline's band, or '' without a baseline."""
    low, high = change.expected_tickets_low, change.expected_tickets_high
    if low is None or high is None:
        return ""
    return f"예상 {low:.0f}–{high:.0f}건"


def evidence_line(change: CategoryChange) -> str:
    """One compact line: sparkline, verdict, streak: '▁▂▁▃█ · 유의 (q=0.003) · 3주 연속'."""
    spark = sparkline(recent_counts(change)) if change.baseline_weeks_used > 0 else ""
    parts = [spark, significance_text(change), streak_text(change)]
    return " · ".join(part for part in parts if part)


def baseline_weeks_text(change: CategoryChange) -> str:
    """'최근 8주 12, 9, 14, … → 이번 주 21 (예상 8–16건)', the baseline against this week."""
    counts = ", ".join(str(count) for count in change.baseline_counts) or "없음"
    band = expected_band_text(change)
    return f"최근 {change.baseline_weeks_used}주 {counts} → 이번 주 {change.reported_tickets}" + (
        f" ({band})" if band else ""
    )


def evidence_footer_text(thresholds: Thresholds) -> str:
    """The evidence rules in force: baseline weeks and the false-discovery level."""
    return (
        f"근거: 최근 {thresholds.baseline_weeks}주 기준선 대비 · FDR {thresholds.fdr_alpha * 100:g}% "
        "(Benjamini–Hochberg) · 유의 = 평소 변동으로 설명하기 어려운 변화 · "
        f"{WITHIN_NORMAL_TEXT} = 규칙상 플래그지만 평소 변동 수준"
    )


ROLLUP_LEVEL_TEXT = {1: "대분류", 2: "중분류"}


def rollup_change_text(rollup: Rollup) -> str:
    """'90 → 126 (↑36) / +40.0%', and for a negative-share rise '부정비율 10.0% → 30.0%' too."""
    arrow = "↑" if rollup.ticket_change > 0 else "↓" if rollup.ticket_change < 0 else "±"
    pct = "신규" if rollup.pct_change is None else f"{rollup.pct_change:+.1f}%"
    change = f"{arrow}{abs(rollup.ticket_change)}"
    text = f"{rollup.previous_tickets} → {rollup.reported_tickets} ({change}) / {pct}"
    if rollup.direction == "negative_rise":
        text += (
            f" · 부정비율 {ratio_text(rollup.previous_neg_ratio)} → {ratio_text(rollup.reported_neg_ratio)}"
        )
    return text


def rollup_drivers_text(rollup: Rollup) -> str:
    """'주요: 공고 등록 10→15, 공고 수정 9→14' (negative tickets for a negative-share rise), or ''."""
    if not rollup.top_drivers:
        return ""
    measure = "부정 " if rollup.direction == "negative_rise" else ""
    return f"주요 {measure}{rollup.top_drivers}"
