"""The LLM prompt for a category's follow-up analysis, filled from the template in `prompts/`.

Plain functions, no I/O beyond reading the packaged template, so the prompt is testable as text.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from string import Template

from flows.formatting import neg_ratio_text, ticket_change_text
from flows.report import CategoryChange, CategoryKey, Sample, WeeklyReport
from flows.weeks import week_range_text

TEMPLATE = "follow_up.md"
DATA_START = "<<<VOC 데이터 시작>>>"
DATA_END = "<<<VOC 데이터 끝>>>"
TOP_KEYWORDS = 10
# Anything that looks like a fence marker: customer text must not be able to close the data block.
_FENCE_LIKE = re.compile(r"<{3,}|>{3,}")


@cache
def prompt_template() -> Template:
    """The follow-up prompt template shipped in `flows/prompts/`."""
    text = files("flows").joinpath("prompts", TEMPLATE).read_text(encoding="utf-8")
    return Template(text)


def build_prompt(report: WeeklyReport, change: CategoryChange) -> str:
    """The prompt for one CRITICAL/MONITOR category: its figures and both weeks' masked samples."""
    return prompt_template().substitute(
        category=as_data(change.category_label),
        severity=change.severity,
        baseline_week=week_range_text(report.baseline_week),
        report_week=week_range_text(report.report_week),
        ticket_change=ticket_change_text(change),
        neg_ratio=neg_ratio_text(change),
        data_start=DATA_START,
        data_end=DATA_END,
        keywords=_keyword_lines(report, change.category),
        # 비교주 = the reported week, 기준주 = the week before (the original bot swapped these).
        reported_samples=_sample_lines(report.samples_of(change.category, "reported")),
        baseline_samples=_sample_lines(report.samples_of(change.category, "baseline")),
    )


def as_data(text: str) -> str:
    """Customer-derived text flattened to one line, with anything fence-like removed."""
    # A space, not nothing: deleting '>>>' from '<<>>><' would leave a new '<<<'.
    return " ".join(_FENCE_LIKE.sub(" ", text).split())


def _keyword_lines(report: WeeklyReport, category: CategoryKey) -> str:
    growing = [kw for kw in report.keywords_of(category) if kw.ticket_change > 0][:TOP_KEYWORDS]
    if not growing:
        return "(늘어난 키워드 없음)"
    return "\n".join(
        f"- {as_data(kw.keyword)}: {kw.prev_tickets} → {kw.last_tickets} (+{kw.ticket_change})"
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
