"""How a category's figures read, the same in the terminal, the Slack report and the prompt."""

from __future__ import annotations

from flows.report import CategoryChange, Thresholds


def ticket_change_text(change: CategoryChange) -> str:
    """'20 → 26 (↑6) / +30.0%', or '0 → 12 (↑12) / 신규' for a category new this week."""
    arrow = "↑" if change.ticket_change > 0 else "↓" if change.ticket_change < 0 else "±"
    pct = "신규" if change.pct_change is None else f"{change.pct_change:+.1f}%"
    return f"{change.prev_tickets} → {change.last_tickets} ({arrow}{abs(change.ticket_change)}) / {pct}"


def ratio_text(ratio: float | None) -> str:
    """A 0–1 share as '12.5%', or 'n/a' for a week without tickets."""
    return "n/a" if ratio is None else f"{ratio * 100:.1f}%"


def neg_ratio_text(change: CategoryChange) -> str:
    """'10.0% → 30.0% (+20.0p)'; the delta only when both weeks have tickets."""
    text = f"{ratio_text(change.prev_neg_ratio)} → {ratio_text(change.last_neg_ratio)}"
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
