"""The team's feedback on the report (SPEC §13): reactions on the thread replies, as warehouse rows.

A run that posts to Slack reads them from Slack (`flows.slack.reactions`); a dry run may take the same
rows from a JSON file (`--feedback FILE`). Either way they replace the feedback window's weeks in the
warehouse table `voc_flag_feedback` (`flows.warehouse.feedback`), where dbt decides the snoozes and
measures the report's precision.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from flows.errors import VocError
from flows.weeks import week_monday

Reaction = Literal["+1", "-1", "white_check_mark", "no_bell"]
# What each reaction means (README "Feedback"); any other reaction is not feedback.
FEEDBACK_REACTIONS: dict[str, str] = {
    "+1": "useful",
    "-1": "false alarm",
    "white_check_mark": "handled / known cause",
    "no_bell": "snooze",
}
# Other names Slack may report for the same emoji.
REACTION_ALIASES = {"thumbsup": "+1", "thumbsdown": "-1", "heavy_check_mark": "white_check_mark"}
FILE_FIELDS = ("week", "category1", "category2", "category3", "reaction", "user")


class FeedbackRow(BaseModel):
    """One reaction of one person on one category's reply: a row of voc_flag_feedback."""

    model_config = ConfigDict(frozen=True)

    report_week_start: date
    category1: str
    category2: str
    category3: str
    reaction: Reaction
    user_id: str
    message_ts: str | None = None
    read_at: datetime  # UTC, without a time zone, as the warehouse's TIMESTAMP holds it

    @field_validator("read_at")
    @classmethod
    def _naive_utc(cls, value: datetime) -> datetime:
        """BigQuery returns TIMESTAMPs in UTC with a time zone; DuckDB without one: the same instant."""
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def feedback_reaction(name: str) -> Reaction | None:
    """The feedback a Slack reaction name stands for (skin tones and aliases folded), or None."""
    base = REACTION_ALIASES.get(name.split("::", 1)[0], name.split("::", 1)[0])
    return base if base in FEEDBACK_REACTIONS else None  # type: ignore[return-value]


def feedback_window(week: date, weeks: int) -> list[date]:
    """The reported weeks whose feedback a run of `week` reads: the `weeks` weeks before it, oldest first."""
    return [week - timedelta(weeks=back) for back in range(weeks, 0, -1)]


def window_text(window: list[date]) -> str:
    """'2026-08-24 ~ 2026-11-15': the days the window's weeks cover."""
    if not window:
        return "(no weeks: VOC_FEEDBACK_WEEKS=0)"
    return f"{window[0].isoformat()} ~ {(window[-1] + timedelta(days=6)).isoformat()}"


def read_feedback_file(path: Path, window: list[date]) -> list[FeedbackRow]:
    """The rows of a `--feedback` JSON file; refused in one line naming the file and the first bad entry.

    The file is a list of objects with `week` (the reported week's Monday, YYYY-MM-DD; any day of it
    is taken as its week), `category1`-`category3`, `reaction` (+1, -1, white_check_mark or no_bell)
    and `user`; every week must be in the run's feedback window.
    """
    where = f"--feedback {path}"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise VocError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise VocError(f"{where}: not valid JSON ({reason})") from None
    if not isinstance(entries, list):
        raise VocError(f"{where}: must be a JSON list of objects with {', '.join(FILE_FIELDS)}")
    read_at = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for number, entry in enumerate(entries, start=1):
        try:
            rows.append(_file_row(entry, window, read_at))
        except ValueError as exc:
            raise VocError(f"{where}: entry {number}: {exc}") from None
    return rows


def _file_row(entry: Any, window: list[date], read_at: datetime) -> FeedbackRow:
    """One entry of a feedback file as a row; ValueError says what is wrong with it."""
    if not isinstance(entry, dict):
        raise ValueError(f"must be an object with {', '.join(FILE_FIELDS)}")
    missing = [name for name in FILE_FIELDS if name not in entry]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    unknown = sorted(set(entry) - set(FILE_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    for name in FILE_FIELDS:
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise ValueError(f"{name} must be a non-empty string, not {json.dumps(entry[name])}")
    try:
        week = week_monday(date.fromisoformat(entry["week"].strip()))
    except ValueError:
        raise ValueError(f"week {json.dumps(entry['week'])} is not a date (YYYY-MM-DD)") from None
    if week not in window:
        raise ValueError(
            f"week {entry['week']} is outside this run's feedback window {window_text(window)} "
            "(VOC_FEEDBACK_WEEKS weeks before the reported week)"
        )
    if entry["reaction"] not in FEEDBACK_REACTIONS:
        raise ValueError(
            f"reaction {json.dumps(entry['reaction'])} is not one of {', '.join(FEEDBACK_REACTIONS)}"
        )
    return FeedbackRow(
        report_week_start=week,
        category1=entry["category1"].strip(),
        category2=entry["category2"].strip(),
        category3=entry["category3"].strip(),
        reaction=entry["reaction"],
        user_id=entry["user"].strip(),
        read_at=read_at,
    )
