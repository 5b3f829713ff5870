"""`voc-weekly run --dry-run --feedback FILE`: the team's reactions from a JSON file, and every way a
file can be wrong, each refused in one line naming the file and the first bad entry, before any work."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.errors import VocError
from flows.feedback import feedback_window, read_feedback_file

WEEK = date(2026, 11, 16)
WINDOW = feedback_window(WEEK, 12)  # 2026-08-24 .. 2026-11-09
GOOD = {
    "week": "2026-11-09",
    "category1": "개인회원",
    "category2": "계정",
    "category3": "로그인 오류",
    "reaction": "no_bell",
    "user": "U0ALICE",
}


def write(path: Path, content: Any) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False), "utf-8")
    return path


def test_the_window_is_the_weeks_before_the_reported_week() -> None:
    assert (WINDOW[0], WINDOW[-1], len(WINDOW)) == (date(2026, 8, 24), date(2026, 11, 9), 12)
    assert feedback_window(WEEK, 0) == []


def test_a_good_file_gives_the_rows_a_harvest_would(tmp_path: Path) -> None:
    wednesday = {**GOOD, "week": "2026-11-11", "reaction": "+1", "user": " U0BOB "}
    rows = read_feedback_file(write(tmp_path / "f.json", [GOOD, wednesday]), WINDOW)
    assert [(r.report_week_start, r.category3, r.reaction, r.user_id, r.message_ts) for r in rows] == [
        (date(2026, 11, 9), "로그인 오류", "no_bell", "U0ALICE", None),
        (date(2026, 11, 9), "로그인 오류", "+1", "U0BOB", None),  # any day is taken as its week
    ]
    assert read_feedback_file(write(tmp_path / "empty.json", []), WINDOW) == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[{", "not valid JSON (Expecting property name enclosed in double quotes at line 1)"),
        ({"week": "2026-11-09"}, "must be a JSON list of objects with week, category1, category2"),
        ([GOOD, "no_bell"], "entry 2: must be an object with week, category1"),
        ([{k: v for k, v in GOOD.items() if k != "user"}], "entry 1: missing user"),
        ([{**GOOD, "users": "U0X"}], "entry 1: unknown field(s) users"),
        ([GOOD, {**GOOD, "category2": ""}], 'entry 2: category2 must be a non-empty string, not ""'),
        ([{**GOOD, "user": 7}], "entry 1: user must be a non-empty string, not 7"),
        ([{**GOOD, "week": "2026-13-01"}], 'entry 1: week "2026-13-01" is not a date (YYYY-MM-DD)'),
        ([{**GOOD, "reaction": ":no_bell:"}], 'entry 1: reaction ":no_bell:" is not one of +1, -1'),
        ([{**GOOD, "week": "2026-11-16"}], "entry 1: week 2026-11-16 is outside this run's feedback window"),
        ([{**GOOD, "week": "2026-08-17"}], "entry 1: week 2026-08-17 is outside this run's feedback window"),
    ],
)
def test_a_malformed_file_is_refused_in_one_line_naming_the_file_and_the_first_bad_entry(
    tmp_path: Path, content: Any, says: str
) -> None:
    path = write(tmp_path / "feedback.json", content)
    with pytest.raises(VocError) as error:
        read_feedback_file(path, WINDOW)
    message = str(error.value)
    assert message.startswith(f"--feedback {path}: {says}"), message
    assert "\n" not in message


def test_a_missing_file_is_one_line_too(tmp_path: Path) -> None:
    with pytest.raises(
        VocError, match=r"^--feedback .*nope\.json: cannot be read \(No such file or directory\)$"
    ):
        read_feedback_file(tmp_path / "nope.json", WINDOW)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--feedback", "{good}"], "--feedback {good}: only with --dry-run"),
        (["--dry-run", "--feedback", "{bad}"], "--feedback {bad}: entry 2: missing category3"),
    ],
)
def test_the_command_refuses_before_any_work(tmp_path: Path, args: list[str], says: str) -> None:
    good = write(tmp_path / "good.json", [GOOD])
    bad = write(tmp_path / "bad.json", [GOOD, {k: v for k, v in GOOD.items() if k != "category3"}])
    names = {"good": str(good), "bad": str(bad)}
    env = {"VOC_HOME": str(tmp_path / ".voc")}
    command = ["run", "--week", WEEK.isoformat(), *(arg.format(**names) for arg in args)]
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {says.format(**names)}"), lines
    assert not (tmp_path / ".voc").exists()  # no demo data, no warehouse, no Prefect run
