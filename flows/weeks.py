"""Report weeks: Monday–Sunday in Asia/Seoul (KST, UTC+9 all year; no daylight saving since 1988).

Weeks a Slack mention may name (`week_from_text`; spaces and a trailing `.?!` don't matter, and
anything else is a `WeekTextError`):

- nothing: the last complete KST week (the flow's default);
- `2026-11-16` (any day of the week; also `2026-1-5`), or `11/16`: that date this year, or last year
  if it has not come yet;
- `지난주` / `저번주` = `1주 전`: the last complete week; `N주 전`: N-1 weeks before that one;
- `이번주` = `0주 전`: the current week, which has not ended (the bot refuses it).

How far back a week may be: at most `max_weeks_back` weeks (VOC_MAX_WEEKS_BACK, default 52), where
the last complete week is 1 week back (`1주 전`). Older weeks are refused in one line by every way
of asking (the CLI, the flow parameter, a mention), so nobody reads years of partitions by accident.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from flows.errors import WeekError

KST = timezone(timedelta(hours=9), "KST")

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTH_DAY = re.compile(r"(\d{1,2})/(\d{1,2})")
_WEEKS_AGO = re.compile(r"(\d{1,3})\s*주\s*전")
_LAST_WEEK = re.compile(r"(지난|저번)\s*주")
_THIS_WEEK = re.compile(r"이번\s*주")


DEFAULT_MAX_WEEKS_BACK = 52


class WeekTextError(ValueError):
    """The text names no week the grammar above understands."""


class WeekTooOldError(WeekTextError):
    """The text names a week older than the limit; `slack_text` is the answer (Korean)."""

    def __init__(self, message: str, slack_text: str) -> None:
        super().__init__(message)
        self.slack_text = slack_text


def week_monday(day: date) -> date:
    """The Monday of the week `day` falls in."""
    return day - timedelta(days=day.weekday())


def last_complete_week(now: datetime | None = None) -> date:
    """Monday of the last Monday–Sunday KST week that has ended at `now` (default: the current time)."""
    today_kst = (now or datetime.now(UTC)).astimezone(KST).date()
    return week_monday(today_kst) - timedelta(days=7)


def has_ended(week: date, now: datetime) -> bool:
    """Whether the week of `week` (any day of it) has ended at `now`: it is the last complete one or older."""
    return week_monday(week) <= last_complete_week(now)


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


def weeks_back(week: date, now: datetime) -> int:
    """How many weeks back the week of `week` is: 1 for the last complete week, 0 for the current one."""
    return (last_complete_week(now) - week_monday(week)).days // 7 + 1


def too_old_texts(week: date, now: datetime, max_weeks_back: int) -> tuple[str, str] | None:
    """(English, Korean) saying the week is older than the limit allows, or None when it is not."""
    back = weeks_back(week, now)
    if back <= max_weeks_back:
        return None
    oldest = last_complete_week(now) - timedelta(weeks=max_weeks_back - 1)
    return (
        f"the week {week_range_text(week_monday(week))} is {back} weeks back, older than the "
        f"{max_weeks_back} weeks VOC_MAX_WEEKS_BACK allows (the oldest is {week_range_text(oldest)}; "
        "raise VOC_MAX_WEEKS_BACK to report older weeks)",
        f"요청한 주({week_range_text(week_monday(week))})는 {back}주 전이라 조회할 수 있는 "
        f"{max_weeks_back}주보다 오래됐습니다. 가장 오래된 주는 {week_range_text(oldest)}입니다.",
    )


def resolve_report_week(
    requested: date | str | None,
    now: datetime | None = None,
    name: str = "week_start",
    max_weeks_back: int = DEFAULT_MAX_WEEKS_BACK,
) -> date:
    """The KST Monday of the week to report: `requested` (any day of it), or the last complete week.

    A week that has not ended yet is refused (its counts would still be growing), and so is one more
    than `max_weeks_back` weeks back (VOC_MAX_WEEKS_BACK).
    """
    now = now or datetime.now(UTC)
    if requested is None:
        return last_complete_week(now)
    day = parse_week(requested, name) if isinstance(requested, str) else requested
    monday = week_monday(day)
    if too_old := too_old_texts(monday, now, max_weeks_back):
        raise WeekError(f"{name} {day.isoformat()}: {too_old[0]}", slack_text=too_old[1])
    if not has_ended(monday, now):
        latest = last_complete_week(now)
        raise WeekError(
            f"{name} {day.isoformat()}: the week {week_range_text(monday)} has not ended yet "
            f"(the latest complete KST week starts {latest.isoformat()})",
            slack_text=f"요청한 주({week_range_text(monday)})가 아직 끝나지 않았습니다. "
            f"가장 최근에 끝난 주는 {latest.isoformat()}에 시작합니다.",
        )
    return monday


def week_from_text(text: str, now: datetime, max_weeks_back: int = DEFAULT_MAX_WEEKS_BACK) -> date | None:
    """The KST Monday of the week `text` names (grammar above), or None when it names none.

    A week more than `max_weeks_back` weeks back raises WeekTooOldError with the answer to give.
    """
    week = _named_week(text, now)
    if week is not None and (too_old := too_old_texts(week, now, max_weeks_back)):
        raise WeekTooOldError(too_old[0], slack_text=f":calendar: {too_old[1]}")
    return week


def _named_week(text: str, now: datetime) -> date | None:
    """The KST Monday of the week `text` names, however old, or None when it names none."""
    words = " ".join(text.split()).rstrip(".?!").strip()
    if not words:
        return None
    today = now.astimezone(KST).date()
    try:
        if match := _ISO_DATE.fullmatch(words):
            return week_monday(date(*(int(part) for part in match.groups())))
        if match := _MONTH_DAY.fullmatch(words):
            return week_monday(_recent_date(int(match[1]), int(match[2]), today))
        if _LAST_WEEK.fullmatch(words):
            return last_complete_week(now)
        if _THIS_WEEK.fullmatch(words):
            return week_monday(today)
        if match := _WEEKS_AGO.fullmatch(words):
            return last_complete_week(now) - timedelta(weeks=int(match[1]) - 1)
    except (ValueError, OverflowError) as exc:  # 2026-02-30, 13/1
        raise WeekTextError(f"no such date: {words}") from exc
    raise WeekTextError(f"not a week: {words}")


def _recent_date(month: int, day: int, today: date) -> date:
    """`month/day` this year, or last year if it has not come yet (or only exists then: 2/29)."""
    for year in (today.year, today.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    raise ValueError(f"no date {month}/{day} in the past year")
