"""The LLM prompt for a category's follow-up analysis, filled from the template in `prompts/`.

Plain functions, no I/O beyond reading the packaged template, so the prompt is testable as text.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from string import Template

from flows.formatting import (
    baseline_weeks_text,
    keyword_text,
    neg_ratio_text,
    q_text,
    streak_text,
    ticket_change_text,
)
from flows.report import CategoryChange, CategoryKey, Sample, Thresholds, WeeklyReport
from flows.weeks import week_range_text

TEMPLATE = "follow_up.md"
DATA_START = "<<<VOC 데이터 시작>>>"
DATA_END = "<<<VOC 데이터 끝>>>"
TOP_KEYWORDS = 10
# Anything that looks like a fence marker: customer text must not be able to close the data block.
_FENCE_LIKE = re.compile(r"<{3,}|>{3,}")


@cache
def prompt_template() -> Template:
    """The follow-up prompt template shipped in `flows/llm/prompts/`."""
    text = files("flows.llm").joinpath("prompts", TEMPLATE).read_text(encoding="utf-8")
    return Template(text)


def build_prompt(report: WeeklyReport, change: CategoryChange) -> str:
    """The prompt for one CRITICAL/MONITOR category: its figures and both weeks' masked samples."""
    return prompt_template().substitute(
        category=as_data(change.category_label),
        severity=change.severity,
        previous_week=week_range_text(report.previous_week),
        report_week=week_range_text(report.report_week),
        ticket_change=ticket_change_text(change),
        neg_ratio=neg_ratio_text(change),
        baseline=baseline_text(change),
        significance=significance_sentence(change, report.thresholds),
        data_start=DATA_START,
        data_end=DATA_END,
        keywords=_keyword_lines(report, change.category),
        # 비교주 = the reported week, 기준주 = the week before (the original bot swapped these).
        reported_samples=_sample_lines(report.samples_of(change.category, "reported")),
        previous_samples=_sample_lines(report.samples_of(change.category, "previous")),
    )


def baseline_text(change: CategoryChange) -> str:
    """The baseline weeks against this week, or why there is none."""
    if change.baseline_weeks_used == 0:
        return "이전 주 데이터가 없어 비교할 기준선이 없습니다"
    return baseline_weeks_text(change)


def significance_sentence(change: CategoryChange, thresholds: Thresholds) -> str:
    """Whether the change is beyond normal week-to-week variation, in one Korean sentence."""
    level = f"FDR {thresholds.fdr_alpha * 100:g}%, {q_text(change.q_value)}"
    if change.baseline_weeks_used == 0 or change.q_value is None:
        verdict = "판단 불가 — 기준선이 없어 통계적 유의성을 계산하지 못했습니다"
    elif change.is_significant:
        verdict = f"유의함 — 평소 주간 변동으로 설명하기 어려운 변화입니다 ({level})"
    else:
        verdict = f"유의하지 않음 — 평소 주간 변동 범위 안의 변화일 수 있습니다 ({level})"
    streak = streak_text(change)
    return f"{verdict}{f' · {streak}' if streak else ''}"


def as_data(text: str) -> str:
    """Customer-derived text flattened to one line, with anything fence-like removed."""
    # A space, not nothing: deleting '>>>' from '<<>>><' would leave a new '<<<'.
    return " ".join(_FENCE_LIKE.sub(" ", text).split())


def _keyword_lines(report: WeeklyReport, category: CategoryKey) -> str:
    growing = [kw for kw in report.keywords_of(category) if kw.ticket_change > 0][:TOP_KEYWORDS]
    if not growing:
        return "(늘어난 키워드 없음)"
    return "\n".join(
        f"- {as_data(keyword_text(kw.keyword))}: {kw.previous_tickets} → {kw.reported_tickets}"
        f" (+{kw.ticket_change})"
        for kw in growing
    )


def _sample_lines(samples: list[Sample]) -> str:
    if not samples:
        return "(해당 주 샘플 없음)"
    return "\n".join(f"{number}. {_sample_text(sample)}" for number, sample in enumerate(samples, start=1))


def _sample_text(sample: Sample) -> str:
    """'[부정] title — detail', one line; already masked and clipped by dbt."""
    emotion = f"[{as_data(sample.emotion)}] " if sample.emotion and sample.emotion.strip() else ""
    parts = [as_data(part) for part in (sample.title, sample.detail) if part and part.strip()]
    return emotion + (" — ".join(part for part in parts if part) or "(내용 없음)")
