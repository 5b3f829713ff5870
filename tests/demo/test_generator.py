"""The demo export: source contract, determinism, edge cases and the planted severities."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.demo.generator import DEMO_WEEKS, ensure_demo_data, write_demo_data

END_WEEK = date(2025, 6, 2)  # a Monday
FIRST_WEEK = END_WEEK - timedelta(days=7 * (DEMO_WEEKS - 1))
KST_OFFSET = timedelta(hours=9)

LOGIN = "개인회원 / 계정 / 로그인 오류"
PAYMENT_ERROR = "기업회원 / 결제 / 결제 오류"
APPROVAL_DELAY = "기업회원 / 채용공고 / 공고 승인 지연"
EVENT = "개인회원 / 이벤트 / 이벤트 당첨 문의"
ATTACHMENT = "개인회원 / 이력서 / 파일 첨부 오류"
APPLICANT_VIEW = "기업회원 / 지원자 관리 / 지원자 열람"
PUSH = "개인회원 / 알림 / 푸시 알림 오류"
UNCLASSIFIED = "(미분류) / (미분류) / (미분류)"
PLANTED = {LOGIN, PAYMENT_ERROR, APPROVAL_DELAY, EVENT, ATTACHMENT, APPLICANT_VIEW, PUSH}

# One pattern per kind of personal data; lookarounds instead of \b, which treats Hangul as a word
# character in Python.
PII_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "mobile with dashes": r"(?<![\d-])010-\d{4}-\d{4}(?![\d-])",
    "mobile without dashes": r"(?<!\d)010\d{8}(?!\d)",
    "international mobile": r"\+82 10-\d{4}-\d{4}",
    "landline": r"(?<![\d-])0(?:2|[3-6]\d)-\d{3,4}-\d{4}(?![\d-])",
    "resident registration number": r"(?<![\d-])\d{6}-[1-4]\d{6}(?![\d-])",
    "card number": r"(?<![\d-])\d{4}-\d{4}-\d{4}-\d{4}(?![\d-])",
    "business number": r"(?<![\d-])\d{3}-\d{2}-\d{5}(?![\d-])",
    "bank account in context": r"(?:환불|입금) ?계좌[^\d]{0,12}\d+-\d+-\d+",
    "birth date in context": r"생년월일:? \d{4}[.-]\d{2}[.-]\d{2}",
    "IP address": r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])",
    "URL with a token": r"https?://\S+\?token=\w+",
    "long digit run": r"(?<!\d)\d{12,}(?!\d)",
}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "zendesk_voc_classified.parquet"
    write_demo_data(path, END_WEEK)
    return path


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run `sql` with {src} standing for the Parquet file."""
    source = "read_parquet('" + str(path).replace("'", "''") + "')"
    with duckdb.connect() as connection:
        return connection.execute(sql.replace("{src}", source)).fetchall()


def kst_midnight_as_utc(day: date) -> datetime:
    """Naive UTC of 00:00 KST on `day`, as stored in event_create_time."""
    return datetime.combine(day, datetime.min.time()) - KST_OFFSET


def comparison(path: Path, report_week: date = END_WEEK) -> dict[str, tuple[str, int, int, int, int]]:
    """Severity and (prev, last, prev negatives, last negatives) per category, in plain SQL."""
    baseline_week = report_week - timedelta(days=7)
    rows = query(
        path,
        f"""
        with latest as (
            select *
            from {{src}}
            qualify row_number() over (partition by id order by event_create_time desc) = 1
        ),
        tickets as (
            select
                coalesce(nullif(trim(category1), ''), '(미분류)') || ' / '
                    || coalesce(nullif(trim(category2), ''), '(미분류)') || ' / '
                    || coalesce(nullif(trim(category3), ''), '(미분류)') as category,
                cast(date_trunc('week', event_create_time + interval 9 hour) as date) as week,
                coalesce(trim(overall_emotion) = '부정', false) as negative
            from latest
        ),
        counted as (
            select
                category,
                count(*) filter (where week = date '{baseline_week}') as prev,
                count(*) filter (where week = date '{report_week}') as last,
                count(*) filter (where week = date '{baseline_week}' and negative) as prev_neg,
                count(*) filter (where week = date '{report_week}' and negative) as last_neg
            from tickets
            where week in (date '{baseline_week}', date '{report_week}')
            group by category
        ),
        measured as (
            select
                *,
                greatest(prev, last) as volume,
                case when prev > 0 then (last - prev) / prev end as pct,
                case when prev > 0 and last > 0
                    then 100 * (last_neg / last - prev_neg / prev) end as neg_delta_pp
            from counted
        )
        select
            category,
            case
                when (prev = 0 or pct >= 0.30 or neg_delta_pp >= 20) and volume >= 20
                    then 'CRITICAL'
                when (prev = 0 or pct >= 0.20 or neg_delta_pp >= 10) and volume >= 10
                    then 'MONITOR'
                when pct <= -0.20 and volume >= 10 then 'IMPROVED'
                else 'STABLE'
            end as severity,
            prev, last, prev_neg, last_neg
        from measured
        """,
    )
    return {row[0]: (row[1], row[2], row[3], row[4], row[5]) for row in rows}


def by_severity(result: dict[str, tuple[str, int, int, int, int]], severity: str) -> set[str]:
    return {category for category, values in result.items() if values[0] == severity}


def test_same_seed_writes_identical_rows(demo_file: Path, tmp_path: Path) -> None:
    again = tmp_path / "missing" / "parents" / "again.parquet"
    rows = write_demo_data(again, END_WEEK)

    assert rows == len(query(demo_file, "select * from {src}"))
    assert query(again, "select * from {src}") == query(demo_file, "select * from {src}")
    assert again.read_bytes() == demo_file.read_bytes()


def test_columns_follow_the_source_contract(demo_file: Path) -> None:
    columns = query(demo_file, "select column_name, column_type from (describe select * from {src})")

    assert columns == [
        ("id", "VARCHAR"),
        ("event_create_time", "TIMESTAMP"),
        ("title", "VARCHAR"),
        ("detail", "VARCHAR"),
        ("category1", "VARCHAR"),
        ("category2", "VARCHAR"),
        ("category3", "VARCHAR"),
        ("overall_emotion", "VARCHAR"),
        ("main_topic", "VARCHAR"),
        ("keywords", "VARCHAR"),
    ]
    [(bad_ids,)] = query(demo_file, "select count(*) from {src} where not regexp_full_match(id, '\\d+')")
    assert bad_ids == 0


def test_tickets_cover_every_kst_week_up_to_the_end_week(demo_file: Path) -> None:
    weeks = query(
        demo_file,
        "select distinct cast(date_trunc('week', event_create_time + interval 9 hour) as date) "
        "from {src} order by 1",
    )

    assert [week for (week,) in weeks] == [
        FIRST_WEEK + timedelta(days=7 * index) for index in range(DEMO_WEEKS)
    ]


def test_no_ticket_before_the_first_monday_kst(demo_file: Path) -> None:
    [(oldest,)] = query(demo_file, "select min(event_create_time) from {src}")

    assert oldest >= kst_midnight_as_utc(FIRST_WEEK)


def test_newest_ticket_is_in_the_last_three_hours_of_the_final_sunday_kst(demo_file: Path) -> None:
    [(newest,)] = query(demo_file, "select max(event_create_time) from {src}")
    week_end = kst_midnight_as_utc(END_WEEK + timedelta(days=7))

    assert week_end - timedelta(hours=3) <= newest < week_end


def test_tickets_sit_on_both_sides_of_the_kst_utc_week_boundary(demo_file: Path) -> None:
    [(sunday_late, monday_early)] = query(
        demo_file,
        """
        select
            count(*) filter (where dayofweek(event_create_time + interval 9 hour) = 0
                and hour(event_create_time + interval 9 hour) = 23),
            -- Monday morning in Seoul, still Sunday in UTC.
            count(*) filter (where dayofweek(event_create_time + interval 9 hour) = 1
                and dayofweek(event_create_time) = 0)
        from {src}
        """,
    )

    assert sunday_late >= DEMO_WEEKS
    assert monday_early >= DEMO_WEEKS


def test_weekdays_get_more_tickets_than_weekends(demo_file: Path) -> None:
    counts = dict(
        query(
            demo_file,
            "select isodow(event_create_time + interval 9 hour), count(*) from {src} group by 1",
        )
    )

    assert min(counts[day] for day in range(1, 6)) > 1.8 * max(counts[6], counts[7])


def test_every_kind_of_personal_data_appears(demo_file: Path) -> None:
    rows = query(demo_file, "select title || ' ' || detail from {src}")
    text = "\n".join(row for (row,) in rows)

    missing = [kind for kind, pattern in PII_PATTERNS.items() if not re.search(pattern, text)]
    assert missing == []


def test_about_a_fifth_of_tickets_carry_personal_data(demo_file: Path) -> None:
    # An e-mail sign, a token or a run of digits with separators: ticket text has none otherwise.
    [(carrying, tickets)] = query(
        demo_file,
        "select count(*) filter (where regexp_matches(title || ' ' || detail, "
        "'@|token=|\\d[\\d.\\- ]{6,}\\d')), count(*) from {src}",
    )

    assert 0.15 <= carrying / tickets <= 0.25


def test_some_categories_are_null_and_some_blank(demo_file: Path) -> None:
    [(null, empty, whitespace)] = query(
        demo_file,
        """
        select
            count(*) filter (where category1 is null and category2 is null and category3 is null),
            count(*) filter (where category1 = ''),
            count(*) filter (where category1 != '' and trim(category1) = '')
        from {src}
        """,
    )

    assert null > 0
    assert empty > 0
    assert whitespace > 0


def test_some_main_topics_and_keywords_are_null(demo_file: Path) -> None:
    [(topics, keywords)] = query(
        demo_file,
        "select count(*) filter (where main_topic is null), "
        "count(*) filter (where keywords is null) from {src}",
    )

    assert topics > 0
    assert keywords > 0


def test_about_one_percent_of_ids_repeat_verbatim_or_reclassified(demo_file: Path) -> None:
    [(tickets, verbatim, reclassified, earlier_wins)] = query(
        demo_file,
        """
        with repeated as (
            select
                id,
                count(*) as copies,
                count(distinct (event_create_time, category3, overall_emotion)) as versions,
                count(distinct event_create_time) as times
            from {src}
            group by id
        )
        select
            count(*),
            count(*) filter (where copies > 1 and versions = 1),
            count(*) filter (where copies > 1 and versions > 1),
            -- A re-classified ticket's second version is never older than its first.
            count(*) filter (where copies > 1 and versions > 1 and times = 1)
        from repeated
        """,
    )

    assert 0.005 * tickets <= verbatim + reclassified <= 0.02 * tickets
    assert verbatim > 0
    assert reclassified > 0
    assert earlier_wins == 0


def test_emotions_include_null_blank_and_padded_values(demo_file: Path) -> None:
    emotions = {emotion for (emotion,) in query(demo_file, "select distinct overall_emotion from {src}")}

    assert {"부정", "긍정", "중립", None, ""} <= emotions
    assert any(emotion and emotion != emotion.strip() for emotion in emotions)
    assert {emotion.strip() for emotion in emotions if emotion} == {"부정", "긍정", "중립"}


@pytest.mark.parametrize("not_monday", [END_WEEK + timedelta(days=1), END_WEEK - timedelta(days=1)])
def test_an_end_week_that_is_not_a_monday_is_rejected(tmp_path: Path, not_monday: date) -> None:
    path = tmp_path / "demo.parquet"

    with pytest.raises(ValueError, match="Monday"):
        write_demo_data(path, not_monday)
    with pytest.raises(ValueError, match="Monday"):
        ensure_demo_data(path, not_monday)
    assert not path.exists()


def test_writing_leaves_only_the_file_and_its_sidecar(demo_file: Path) -> None:
    # The module fixture wrote into a fresh directory: no temporary file may be left behind.
    assert sorted(entry.name for entry in demo_file.parent.iterdir()) == [
        demo_file.name,
        demo_file.name + ".json",
    ]
    sidecar = json.loads((demo_file.parent / (demo_file.name + ".json")).read_text())
    assert sidecar["end_week"] == END_WEEK.isoformat()
    assert sidecar["weeks"] == DEMO_WEEKS
    assert sidecar["seed"] == 7
    assert sidecar["rows"] == len(query(demo_file, "select id from {src}"))


def test_ensure_keeps_an_up_to_date_file_and_rewrites_for_a_new_end_week(
    demo_file: Path, tmp_path: Path
) -> None:
    path = tmp_path / "nested" / "dir" / "demo.parquet"
    path.parent.mkdir(parents=True)
    path.write_bytes(demo_file.read_bytes())
    (path.parent / (path.name + ".json")).write_bytes(
        (demo_file.parent / (demo_file.name + ".json")).read_bytes()
    )
    long_ago = 1_000_000_000
    os.utime(path, (long_ago, long_ago))

    assert ensure_demo_data(path, END_WEEK) == path
    assert path.stat().st_mtime == long_ago

    next_week = END_WEEK + timedelta(days=7)
    assert ensure_demo_data(path, next_week) == path
    assert path.stat().st_mtime != long_ago
    [(newest,)] = query(path, "select max(event_create_time) from {src}")
    assert newest >= kst_midnight_as_utc(next_week + timedelta(days=7)) - timedelta(hours=3)


def test_ensure_rewrites_a_file_without_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "demo.parquet"
    path.write_bytes(b"not parquet")

    ensure_demo_data(path, END_WEEK)

    assert query(path, "select count(*) from {src}")[0][0] > 0


def test_final_week_shows_each_planted_severity(demo_file: Path) -> None:
    result = comparison(demo_file)

    assert by_severity(result, "CRITICAL") == {LOGIN, PAYMENT_ERROR}
    assert by_severity(result, "MONITOR") == {APPROVAL_DELAY, EVENT}
    assert by_severity(result, "IMPROVED") == {ATTACHMENT, APPLICANT_VIEW}
    assert len(by_severity(result, "STABLE")) >= 15
    assert {category: values[1:] for category, values in result.items() if category in PLANTED} == {
        LOGIN: (30, 65, 11, 26),
        PAYMENT_ERROR: (25, 26, 4, 13),
        APPROVAL_DELAY: (12, 15, 4, 5),
        EVENT: (0, 13, 0, 3),
        ATTACHMENT: (40, 24, 14, 8),
        APPLICANT_VIEW: (36, 27, 9, 6),
        PUSH: (5, 0, 2, 0),
    }
    assert result[PUSH][0] == "STABLE"
    assert result[UNCLASSIFIED][0] == "STABLE"


def test_unplanted_categories_barely_move_between_the_last_two_weeks(demo_file: Path) -> None:
    result = comparison(demo_file)

    for category, (_, prev, last, prev_neg, last_neg) in result.items():
        if category in PLANTED:
            continue
        assert abs(last - prev) <= 0.1 * prev, category
        assert abs(last_neg / last - prev_neg / prev) <= 0.05, category


def test_new_and_vanishing_categories_have_the_planted_history(demo_file: Path) -> None:
    [(event_before, push_most)] = query(
        demo_file,
        f"""
        with latest as (
            select *
            from {{src}}
            qualify row_number() over (partition by id order by event_create_time desc) = 1
        ),
        weekly as (
            select category3, date_trunc('week', event_create_time + interval 9 hour) as week,
                count(*) as tickets
            from latest
            group by all
        )
        select
            count(*) filter (where category3 = '이벤트 당첨 문의' and week < date '{END_WEEK}'),
            max(tickets) filter (where category3 = '푸시 알림 오류')
        from weekly
        """,
    )

    assert event_before == 0
    assert push_most <= 6


def test_another_seed_and_fewer_weeks_plant_the_same_severities(tmp_path: Path) -> None:
    path = tmp_path / "seed11.parquet"
    write_demo_data(path, END_WEEK, weeks=2, seed=11)

    result = comparison(path)

    assert by_severity(result, "CRITICAL") == {LOGIN, PAYMENT_ERROR}
    assert by_severity(result, "MONITOR") == {APPROVAL_DELAY, EVENT}
    assert by_severity(result, "IMPROVED") == {ATTACHMENT, APPLICANT_VIEW}
    assert len(by_severity(result, "STABLE")) >= 15
