"""The team's feedback on the prod target, on bqemulator: the load job and MERGE that replace whole
weeks of voc_flag_feedback (never append), and the models that read it, built by a scheduled run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from flows.feedback import FeedbackRow
from flows.settings import VocSettings
from flows.warehouse.dbt import invoke_dbt, report_vars
from flows.warehouse.feedback import read_feedback, replace_feedback
from tests.bigquery.conftest import REPORT_WEEK
from tests.bigquery.emulators import PROJECT, Emulator, prod_env

DATASET = "voc_feedback"
EARLIER, BEFORE = date(2026, 11, 9), date(2026, 11, 2)


@pytest.fixture
def prod(bqemulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[VocSettings]:
    """Prod settings on bqemulator, in a dataset of this test's own."""
    for name, value in prod_env(bqemulator.url, DATASET).items():
        monkeypatch.setenv(name, value)
    yield VocSettings(_env_file=None)


def row(week: date, category: str, reaction: str, user: str) -> FeedbackRow:
    return FeedbackRow(
        report_week_start=week,
        category1="개인회원",
        category2="계정",
        category3=category,
        reaction=reaction,  # type: ignore[arg-type]
        user_id=user,
        message_ts="1700000000.000100",
        read_at=datetime(2026, 11, 23, 0, 30),
    )


def table(emulator: Emulator) -> list[tuple[Any, ...]]:
    rows = emulator.client().query(f"select * from {DATASET}.voc_flag_feedback").result()
    return sorted((r["report_week_start"], r["category3"], r["reaction"], r["user_id"]) for r in rows)


def test_a_harvest_replaces_its_weeks_and_never_appends(prod: VocSettings, bqemulator: Emulator) -> None:
    older = [row(BEFORE, "본인인증", "+1", "U0OLD")]
    replace_feedback(prod, [BEFORE], older)
    harvest = [row(EARLIER, "로그인 오류", "no_bell", "U0ALICE"), row(EARLIER, "회원 탈퇴", "-1", "U0BOB")]
    replace_feedback(prod, [EARLIER, REPORT_WEEK], harvest)
    replace_feedback(prod, [EARLIER, REPORT_WEEK], harvest)  # the same reactions read again
    assert table(bqemulator) == [
        (BEFORE, "본인인증", "+1", "U0OLD"),
        (EARLIER, "로그인 오류", "no_bell", "U0ALICE"),
        (EARLIER, "회원 탈퇴", "-1", "U0BOB"),
    ]
    # Alice took her 🔕 back; then nobody's reactions are left in the window at all.
    replace_feedback(prod, [EARLIER, REPORT_WEEK], harvest[1:])
    assert table(bqemulator) == [(BEFORE, "본인인증", "+1", "U0OLD"), (EARLIER, "회원 탈퇴", "-1", "U0BOB")]
    replace_feedback(prod, [EARLIER, REPORT_WEEK], [])
    assert table(bqemulator) == [(BEFORE, "본인인증", "+1", "U0OLD")]  # weeks outside the window stay

    client = bqemulator.client()
    feedback = client.get_table(f"{PROJECT}.{DATASET}.voc_flag_feedback")
    assert feedback.time_partitioning is not None and feedback.time_partitioning.field == "report_week_start"
    leftovers = [t.table_id for t in client.list_tables(DATASET) if "__load_" in t.table_id]
    assert leftovers == []  # the scratch tables of the loads are gone
    assert read_feedback(prod, BEFORE, REPORT_WEEK) == older


def test_the_snooze_and_the_feedback_marts_build_from_it_on_bigquery(
    prod: VocSettings, bqemulator: Emulator
) -> None:
    client = bqemulator.client()
    _run(prod, EARLIER)
    # Any category will do: a snooze holds whatever the severity, unless the category got worse.
    (category, *_) = client.query(
        f"""select category1, category2, category3 from {DATASET}.voc_weekly_comparison
        where report_week_start = '{EARLIER}' order by category_label"""
    ).result()
    levels = {level: category[level] for level in ("category1", "category2", "category3")}
    snooze = FeedbackRow(
        report_week_start=EARLIER, **levels, reaction="no_bell", user_id="U0A", read_at=datetime(2026, 11, 23)
    )
    replace_feedback(prod, [EARLIER, REPORT_WEEK], [snooze])
    _run(prod, REPORT_WEEK)

    key = " and ".join(f"{level} = '{value}'" for level, value in levels.items())
    (decision,) = client.query(
        f"""select is_snoozed, snooze_ended_by_escalation, snoozed_until from {DATASET}.voc_weekly_comparison
        where report_week_start = '{REPORT_WEEK}' and {key}"""
    ).result()
    assert decision["snoozed_until"] == date(2026, 12, 7)
    assert decision["is_snoozed"] != decision["snooze_ended_by_escalation"]  # decided, one way or the other
    weeks = {
        r["report_week_start"]: r
        for r in client.query(f"select * from {DATASET}.voc_weekly_feedback").result()
    }
    assert (weeks[EARLIER]["snoozed"], weeks[EARLIER]["replies_with_feedback"]) == (1, 1)
    assert weeks[REPORT_WEEK]["replies_with_feedback"] == 0  # every reported week has its row
    owned = client.query(
        f"select count(*) as n from {DATASET}.voc_weekly_category_owners where owners is not null"
    )
    assert next(iter(owned.result()))["n"] > 0  # the example seed's catch-all owns every category


def _run(settings: VocSettings, week: date) -> None:
    """The models of a scheduled run this test reads (the comparison, the feedback and the owners
    marts, the owners seed, and what they read); the data tests run in test_prod_target.py."""
    run_vars = json.dumps({**report_vars(settings), "report_week": week.isoformat()})
    selected = ["--select", "+voc_weekly_feedback", "+voc_weekly_category_owners"]
    excluded = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    invoke_dbt(settings, ["--quiet", "build", "--vars", run_vars, *selected, *excluded])
