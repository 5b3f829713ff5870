"""Follow-up analyses of CRITICAL/MONITOR categories, and the built-in one used without an LLM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flows.formatting import keyword_text
from flows.report import WEEK_LABELS, CategoryChange, Sample, WeeklyReport
from flows.slack import mrkdwn
from flows.weeks import week_range_text

BUILTIN_MARK = "_자동 요약 (LLM 미설정)_"
EXAMPLES_PER_WEEK = 3
EXAMPLE_CHARS = 160
TOP_KEYWORDS = 5


@dataclass(frozen=True)
class FollowUp:
    """The thread reply body for one category, as escaped Slack mrkdwn."""

    category: CategoryChange
    body: str
    origin: Literal["laas", "openai", "builtin", "failed"]


def failed_follow_up(change: CategoryChange, reason: str) -> FollowUp:
    """The one-line reply for a category whose analysis could not be made (no trace, no secrets)."""
    text = f":warning: 후속 분석을 생성하지 못했습니다 (사유: {mrkdwn.escape(mrkdwn.clip(reason, 300))})"
    return FollowUp(category=change, body=text, origin="failed")


def builtin_follow_up(report: WeeklyReport, change: CategoryChange) -> FollowUp:
    """A deterministic analysis from the marts: growing keywords and examples of both weeks."""
    # The reply's heading already names the category and its figures (build_follow_up_messages).
    lines = [BUILTIN_MARK]
    growing = [kw for kw in report.keywords_of(change.category) if kw.ticket_change > 0]
    if growing:
        lines += ["", "*늘어난 키워드*"]
        lines += [
            f"• {mrkdwn.escape(keyword_text(kw.keyword))}: {kw.previous_tickets} → {kw.reported_tickets} "
            f"(+{kw.ticket_change})"
            for kw in growing[:TOP_KEYWORDS]
        ]
    lines += ["", "*대표 VOC 예시*"]
    for role, week in (("reported", report.report_week), ("previous", report.previous_week)):
        samples = report.samples_of(change.category, role)[:EXAMPLES_PER_WEEK]
        lines.append(f"{WEEK_LABELS[role]} ({week_range_text(week)}):")
        lines += [_example_line(sample) for sample in samples] or ["> (해당 주 VOC 없음)"]
    return FollowUp(category=change, body="\n".join(lines), origin="builtin")


def _example_line(sample: Sample) -> str:
    """A quoted, masked example: '> [부정] title — detail', clipped whole (every part is data)."""
    text = " — ".join(part.strip() for part in (sample.title, sample.detail) if part and part.strip())
    emotion = f"[{sample.emotion}] " if sample.emotion else ""
    flat = " ".join((emotion + text).split())
    return f"> {mrkdwn.escape(mrkdwn.clip(flat, EXAMPLE_CHARS))}"
