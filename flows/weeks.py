"""Report weeks: Monday–Sunday in Asia/Seoul (KST, UTC+9 all year; no daylight saving since 1988)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from flows.errors import WeekError

KST = timezone(timedelta(hours=9), "KST")


def week_monday(day: date) -> date:
    """The Monday of the week `day` falls in."""
    return day - timedelta(days=day.weekday())


def last_complete_week(now: datetime | None = None) -> date:
    """Monday of the last Monday–Sunday KST week that has ended at `now` (default: the current time)."""
    today_kst = (now or datetime.now(UTC)).astimezone(KST).date()
    return week_monday(today_kst) - timedelta(days=7)


def week_end_utc(week_start: date) -> datetime:
    """The instant the week ends: the next Monday 00:00 KST, as an aware UTC datetime."""
    next_monday = datetime.combine(week_start + timedelta(days=7), datetime.min.time(), KST)
    return next_monday.astimezone(UTC)


def kst_text(moment: datetime) -> str:
    """'YYYY-MM-DD HH:MM' in KST for a UTC instant (naive values from the warehouse are UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(KST).strftime("%Y-%m-%d %H:%M")


def week_range_text(week_start: date) -> str:
    """'YYYY-MM-DD ~ YYYY-MM-DD' for the Monday and Sunday of a week."""
    return f"{week_start.isoformat()} ~ {(week_start + timedelta(days=6)).isoformat()}"


def parse_week(text: str, name: str = "week_start") -> date:
    """A day given as text (YYYY-MM-DD); anything else fails in one line naming the option `name`."""
    shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
    hint = "give a day of the week to report as YYYY-MM-DD, e.g. 2026-11-16"
    if not text.strip():
        raise WeekError(f"{name} is empty: {hint}", slack_text="요청한 주가 비어 있습니다.")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        reason = "no such day" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()) else "not a date"
        raise WeekError(
            f"{name} {shown}: {reason}; {hint}", slack_text=f"요청한 주 {shown}는 날짜가 아닙니다."
        ) from exc


def resolve_report_week(
    requested: date | str | None, now: datetime | None = None, name: str = "week_start"
) -> date:
    """The KST Monday of the week to report: `requested` (any day of it), or the last complete week.

    A week that has not ended yet is refused: its counts would still be growing.
    """
    latest = last_complete_week(now)
    if requested is None:
        return latest
    day = parse_week(requested, name) if isinstance(requested, str) else requested
    monday = week_monday(day)
    if monday > latest:
        raise WeekError(
            f"{name} {day.isoformat()}: the week {week_range_text(monday)} has not ended yet "
            f"(the latest complete KST week starts {latest.isoformat()})",
            slack_text=f"요청한 주({week_range_text(monday)})가 아직 끝나지 않았습니다. "
            f"가장 최근에 끝난 주는 {latest.isoformat()}에 시작합니다.",
        )
    return monday
