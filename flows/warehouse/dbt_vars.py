"""The dbt vars a user may set (`voc-weekly backtest --vars`, `voc-weekly dbt --vars`), in one place.

Their names and defaults are dbt_project.yml's `vars` (tests/warehouse/test_dbt_vars.py keeps the two in step:
a var added there must be added here, with its type and range). dbt splices a var's value into the
SQL as text, so every value is checked here first: a name not on the list, a value of another type
or out of its range is refused in one line naming it, and what reaches dbt is the checked value
written out again (a number as a number), never the text the user typed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.errors import VocError
from flows.settings import allowed_text


class DbtVars(BaseModel):
    """Every var of dbt_project.yml with its type and allowed range (defaults as there)."""

    # Strict: '50' or true is not a number, 20.0 is not a whole number (a float var takes 20).
    model_config = ConfigDict(extra="forbid", strict=True)

    report_week: date | None = Field(None, strict=False, description="the reported week, any day of it")
    scan_weeks: int = Field(2, ge=1, le=520, description="weeks an incremental run re-aggregates")
    baseline_weeks: int = Field(8, ge=1, le=52, description="weeks of the evidence's baseline")
    fdr_alpha: float = Field(0.05, gt=0, lt=1, description="false-discovery rate of a significant flag")
    default_dispersion: float = Field(0.1, ge=0, le=10, description="dispersion without history")
    comparison_weeks: int = Field(1, ge=1, le=260, description="reported weeks one run computes")
    critical_increase_pct: float = Field(30, ge=0, le=10_000, description="CRITICAL: increase, %")
    critical_neg_ratio_delta_pp: float = Field(20, ge=0, le=100, description="CRITICAL: neg. share rise, %p")
    critical_min_volume: int = Field(20, ge=0, le=1_000_000, description="CRITICAL: least volume")
    monitor_increase_pct: float = Field(20, ge=0, le=10_000, description="MONITOR: increase, %")
    monitor_neg_ratio_delta_pp: float = Field(10, ge=0, le=100, description="MONITOR: neg. share rise, %p")
    monitor_min_volume: int = Field(10, ge=0, le=1_000_000, description="MONITOR: least volume")
    improved_decrease_pct: float = Field(20, ge=0, le=100, description="IMPROVED: decrease, %")
    improved_min_volume: int = Field(10, ge=0, le=1_000_000, description="IMPROVED: least volume")
    samples_per_week: int = Field(10, ge=1, le=100, description="sample tickets per category and week")
    sample_text_max_chars: int = Field(300, ge=20, le=5000, description="length of a sample's text")
    coverage_tolerance_hours: int = Field(12, ge=0, le=168, description="how early the data may end")
    # The team's feedback (VOC_SNOOZE_WEEKS, VOC_FEEDBACK_WEEKS, VOC_FOLLOW_UPS pass them to dbt).
    snooze_weeks: int = Field(4, ge=0, le=7, description="reported weeks a 🔕 snoozes its category for")
    feedback_weeks: int = Field(12, ge=0, le=52, description="weeks of team feedback a run rebuilds")
    follow_ups: Literal["all", "significant"] = Field("all", description="which flags get a reply")


def check_vars(given: Mapping[Any, Any], option: str = "--vars") -> dict[str, Any]:
    """The vars in `given`, checked, as JSON-ready values; anything else fails in one line."""
    unknown = [str(name) for name in given if name not in DbtVars.model_fields]
    if unknown:
        raise VocError(f"{option}: {'; '.join(_unknown_text(name) for name in unknown)}")
    try:
        checked = DbtVars.model_validate(dict(given))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0])
            shown = repr(error["input"]) if isinstance(error["input"], str) else str(error["input"])
            problems.append(f"{name}={shown[:40]}: {_allowed(name)}")
        raise VocError(f"{option}: {'; '.join(problems)}") from None
    values = checked.model_dump(mode="json", include=set(given))
    # A whole number stays whole (50, not 50.0): the marts keep thresholds in integer columns.
    return {name: int(value) if isinstance(given[name], int) else value for name, value in values.items()}


def _allowed(name: str) -> str:
    if name == "report_week":
        return "must be a day as YYYY-MM-DD"
    return allowed_text(DbtVars.model_fields[name])


def _unknown_text(name: str) -> str:
    """'no var X (did you mean Y?)', or the list of vars when nothing is close."""
    close = difflib.get_close_matches(name, DbtVars.model_fields, n=1)
    hint = f"did you mean {close[0]}?" if close else "the vars are " + ", ".join(DbtVars.model_fields)
    return f"no var {name!r} ({hint})"
