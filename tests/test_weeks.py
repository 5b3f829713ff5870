"""KST report weeks: which week is the last complete one, which weeks may be reported, and the weeks
a Slack mention's text names."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from flows.errors import WeekError
from flows.weeks import (
    WeekTextError,
    WeekTooOldError,
    has_ended,
    kst_text,
    last_complete_week,
    resolve_report_week,
    week_end_utc,
    week_from_text,
)

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 14:00 KST: the last complete week is 11-16


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


@pytest.mark.parametrize(
    ("week", "now_utc", "ended"),
    [
        (
            date(2026, 11, 16),
            datetime(2026, 11, 22, 14, 59, 59, 999999, tzinfo=UTC),
            False,
        ),  # Sun 23:59:59 KST
        (date(2026, 11, 16), datetime(2026, 11, 22, 15, 0, tzinfo=UTC), True),  # Monday 00:00 KST
        (date(2026, 11, 22), datetime(2026, 11, 22, 15, 0, tzinfo=UTC), True),  # any day names its week
        (date(2026, 11, 23), datetime(2026, 11, 22, 15, 0, tzinfo=UTC), False),  # the week just begun
        (date(2026, 11, 9), datetime(2026, 11, 22, 14, 59, tzinfo=UTC), True),
        (date(2998, 12, 31), NOW, False),
    ],
)
def test_a_week_has_ended_from_the_next_monday_midnight_kst(
    week: date, now_utc: datetime, ended: bool
) -> None:
    assert has_ended(week, now_utc) is ended


@pytest.mark.parametrize(
    ("text", "now", "week"),
    [
        ("", NOW, None),
        ("   ", NOW, None),
        ("2026-11-16", NOW, date(2026, 11, 16)),
        ("2026-11-22", NOW, date(2026, 11, 16)),  # any day names its Monday–Sunday week
        ("2026-1-5", NOW, date(2026, 1, 5)),
        ("2999-01-01", NOW, date(2998, 12, 31)),  # parsed; the bot says it has not ended
        ("11/16", NOW, date(2026, 11, 16)),
        ("11/25", NOW, date(2026, 11, 23)),  # today (KST) is this year's
        ("11/26", NOW, date(2025, 11, 24)),  # tomorrow has not come: last year's
        ("12/25", NOW, date(2025, 12, 22)),
        ("2/29", datetime(2029, 3, 1, tzinfo=UTC), date(2028, 2, 28)),  # only last year has it
        ("지난주", NOW, date(2026, 11, 16)),
        ("지난 주?", NOW, date(2026, 11, 16)),
        ("저번주", NOW, date(2026, 11, 16)),
        ("1주 전", NOW, date(2026, 11, 16)),  # = 지난주
        ("2주 전", NOW, date(2026, 11, 9)),  # the week before the last complete one
        ("2주전", NOW, date(2026, 11, 9)),
        ("  4 주 전 ", NOW, date(2026, 10, 26)),
        ("이번주", NOW, date(2026, 11, 23)),  # the current week (refused by the bot)
        ("0주 전", NOW, date(2026, 11, 23)),
        # Sunday 23:59 KST the current week has not ended; a minute later it is 지난주.
        ("지난주", datetime(2026, 11, 29, 14, 59, tzinfo=UTC), date(2026, 11, 16)),
        ("지난주", datetime(2026, 11, 29, 15, 0, tzinfo=UTC), date(2026, 11, 23)),
        ("11/29", datetime(2026, 11, 29, 15, 0, tzinfo=UTC), date(2026, 11, 23)),  # 11-30 KST: 11-29 is past
    ],
)
def test_week_from_text(text: str, now: datetime, week: date | None) -> None:
    assert week_from_text(text, now) == week


@pytest.mark.parametrize(
    "text",
    [
        "리포트 좀 보여줘",
        "지난주 리포트",
        "2026-11-16 2026-11-23",
        "2026-02-30",
        "13/1",
        "2/29",  # neither 2026 nor 2025 has one
        "2026/11/16",
        "지난달",
        "1000주 전",
        "-1주 전",
    ],
)
def test_week_from_text_refuses_text_that_names_no_week(text: str) -> None:
    with pytest.raises(WeekTextError):
        week_from_text(text, NOW)
    assert issubclass(WeekTextError, ValueError)


@pytest.mark.parametrize(
    ("requested", "limit", "refused"),
    [
        ("2025-11-24", 52, False),  # 52 weeks back (the last complete week, 11-16, is 1 back)
        ("2025-11-23", 52, True),  # 53 weeks back
        ("2021-01-04", 52, True),  # 300-odd weeks back: would scan every partition since
        ("2026-11-16", 1, False),
        ("2026-11-09", 1, True),
        ("2021-01-04", 520, False),
    ],
)
def test_a_week_older_than_the_limit_is_refused_in_one_line(
    requested: str, limit: int, refused: bool
) -> None:
    """Regression (issue 16): a week years back was read from then until now; now it is refused."""
    if not refused:
        assert resolve_report_week(requested, NOW, "--week", max_weeks_back=limit).isoformat() <= requested
        return
    with pytest.raises(WeekError) as error:
        resolve_report_week(requested, NOW, "--week", max_weeks_back=limit)
    message = str(error.value)
    assert message.startswith(f"--week {requested}: the week ") and "\n" not in message
    assert f"older than the {limit} weeks VOC_MAX_WEEKS_BACK allows" in message
    assert "조회할 수 있는" in error.value.slack_text


def test_the_default_limit_is_52_weeks() -> None:
    assert resolve_report_week("2025-11-24", NOW) == date(2025, 11, 24)
    with pytest.raises(WeekError, match="is 53 weeks back"):
        resolve_report_week("2025-11-17", NOW)


@pytest.mark.parametrize("text", ["300주 전", "53주 전", "2020-01-06", "2025-11-22"])
def test_a_mention_naming_a_week_older_than_the_limit_gets_its_own_answer(text: str) -> None:
    with pytest.raises(WeekTooOldError) as error:
        week_from_text(text, NOW, max_weeks_back=52)
    assert error.value.slack_text.startswith(":calendar: 요청한 주(")
    assert "가장 오래된 주는 2025-11-24 ~ 2025-11-30입니다." in error.value.slack_text
    assert week_from_text("52주 전", NOW, max_weeks_back=52) == date(2025, 11, 24)
