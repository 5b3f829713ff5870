"""KST report weeks: which week is the last complete one, and which weeks may be reported."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from flows.errors import WeekError
from flows.weeks import kst_text, last_complete_week, resolve_report_week, week_end_utc


@pytest.mark.parametrize(
    ("now_utc", "expected"),
    [
        (datetime(2026, 11, 22, 14, 59, tzinfo=UTC), date(2026, 11, 9)),  # Sunday 23:59 KST
        (datetime(2026, 11, 22, 15, 0, tzinfo=UTC), date(2026, 11, 16)),  # Monday 00:00 KST
        (datetime(2026, 11, 23, 0, 0, tzinfo=UTC), date(2026, 11, 16)),  # Monday 09:00 KST schedule
    ],
)
def test_last_complete_week_turns_over_at_monday_midnight_kst(now_utc: datetime, expected: date) -> None:
    assert last_complete_week(now_utc) == expected


def test_any_day_of_a_week_reports_that_weeks_monday() -> None:
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert resolve_report_week("2026-11-22", now) == date(2026, 11, 16)
    assert resolve_report_week(date(2026, 11, 10), now) == date(2026, 11, 9)
    assert resolve_report_week(None, now) == date(2026, 11, 16)


def test_a_week_that_has_not_ended_is_refused() -> None:
    with pytest.raises(
        WeekError, match=r"^week_start 2026-11-24: the week 2026-11-23 ~ 2026-11-29 has not ended"
    ):
        resolve_report_week("2026-11-24", datetime(2026, 11, 25, 3, 0, tzinfo=UTC))


def test_week_end_is_next_monday_midnight_kst() -> None:
    assert week_end_utc(date(2026, 11, 16)) == datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    assert kst_text(datetime(2026, 11, 22, 14, 30)) == "2026-11-22 23:30"
