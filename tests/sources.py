"""Source exports made in the tests: rows in the contract's columns, written as Parquet or CSV."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

SOURCE_COLUMNS = {
    "id": "varchar",
    "event_create_time": "timestamp",
    "title": "varchar",
    "detail": "varchar",
    "category1": "varchar",
    "category2": "varchar",
    "category3": "varchar",
    "overall_emotion": "varchar",
    "main_topic": "varchar",
    "keywords": "varchar",
}


def kst(text: str) -> datetime:
    """A KST wall-clock time ('2026-11-16 09:00') as the naive UTC timestamp the source stores."""
    return datetime.fromisoformat(text) - timedelta(hours=9)


def ticket(
    ticket_id: str,
    created_kst: str,
    category: tuple[str | None, str | None, str | None] = ("개인회원", "계정", "로그인 오류"),
    emotion: str | None = "중립",
    title: str = "문의드립니다",
    detail: str = "확인 부탁드립니다.",
    keywords: str | None = "문의",
) -> dict[str, Any]:
    """One source row in the contract's columns."""
    return {
        "id": ticket_id,
        "event_create_time": kst(created_kst),
        "title": title,
        "detail": detail,
        "category1": category[0],
        "category2": category[1],
        "category3": category[2],
        "overall_emotion": emotion,
        "main_topic": None,
        "keywords": keywords,
    }


def write_source(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows as a Parquet or CSV export (by the file extension), as an analyst would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        columns = ", ".join(f"{name} {type_}" for name, type_ in SOURCE_COLUMNS.items())
        con.execute(f"create table source ({columns})")
        if rows:
            placeholders = ", ".join("?" for _ in SOURCE_COLUMNS)
            con.executemany(
                f"insert into source values ({placeholders})",
                [[row[name] for name in SOURCE_COLUMNS] for row in rows],
            )
        fmt = "csv, header true" if path.suffix == ".csv" else "parquet"
        con.execute(f"copy source to '{path}' (format {fmt})")
    return path


LOGIN = ("개인회원", "계정", "로그인 오류")
CANCEL = ("개인회원", "지원", "지원 취소")
REFUND = ("기업회원", "결제", "환불 요청")
EVENT = ("개인회원", "이벤트", "당첨 문의")
POSTING = ("기업회원", "채용공고", "공고 등록")


def label(category: tuple[str, str, str]) -> str:
    return " / ".join(category)


def edge_case_rows() -> list[dict[str, Any]]:
    """Two weeks of tickets with every awkward input a real export has."""
    rows = []
    # Login errors double (10 → 20): CRITICAL. The Sunday 23:30 KST ticket belongs to the reported
    # week; the Monday 00:30 KST one to the next week (and shows the data reaches past the week).
    rows += [ticket(f"login-b{i}", f"2026-11-1{i % 5} 10:00", LOGIN) for i in range(10)]
    rows += [ticket(f"login-r{i}", f"2026-11-{16 + i % 6} 11:00", LOGIN) for i in range(19)]
    rows.append(ticket("login-sunday-2330", "2026-11-22 23:30", LOGIN))
    rows.append(ticket("login-monday-0030", "2026-11-23 00:30", LOGIN))
    # Cancellations: 10 → 10 tickets, negatives 1 → 3 (+20%p) at volume 10: MONITOR. Emotions
    # carry stray whitespace and blanks: ' 부정 ' is negative, '' and '  ' are not.
    emotions_b = ["부정"] + [""] * 4 + ["중립"] * 5
    emotions_r = [" 부정 ", "부정", "부정\t", "  ", None] + ["긍정"] * 5
    rows += [ticket(f"cancel-b{i}", "2026-11-10 09:00", CANCEL, e) for i, e in enumerate(emotions_b)]
    rows += [ticket(f"cancel-r{i}", "2026-11-17 09:00", CANCEL, e) for i, e in enumerate(emotions_r)]
    # Refunds vanish (12 → 0): IMPROVED. A new category appears (0 → 10): MONITOR.
    rows += [ticket(f"refund-b{i}", "2026-11-11 14:00", REFUND) for i in range(12)]
    rows += [ticket(f"event-r{i}", "2026-11-18 14:00", EVENT, "부정") for i in range(10)]
    # Postings 5 → 5, but every reported-week ticket was exported twice: still 5, STABLE.
    rows += [ticket(f"posting-b{i}", "2026-11-12 08:00", POSTING) for i in range(5)]
    posting_r = [ticket(f"posting-r{i}", "2026-11-19 08:00", POSTING) for i in range(5)]
    rows += posting_r + posting_r
    # Unclassified tickets: NULL, blank and whitespace categories.
    rows += [ticket("uncl-b1", "2026-11-13 10:00", (None, None, None))]
    rows += [ticket("uncl-b2", "2026-11-13 10:00", ("", " ", None))]
    rows += [ticket("uncl-r1", "2026-11-20 10:00", (None, "", "  "))]
    # Personal data in the text of a flagged category.
    rows.append(
        ticket(
            "login-pii",
            "2026-11-21 10:00",
            LOGIN,
            "부정",
            title="로그인 안됨 hong.gildong@example.com",
            detail="연락처 010-1234-5678, 주민번호 900101-1234567 로 가입했어요 <!channel>",
        )
    )
    return rows


def weekly_history_rows(
    weekly_counts: dict[tuple[str, str, str], list[int]], last_week: str
) -> list[dict[str, Any]]:
    """Tickets for consecutive KST weeks ending with the week of `last_week` (a Monday), each
    category's counts oldest first, spread over the week; every tenth ticket is negative."""
    last_monday = datetime.fromisoformat(last_week)
    rows = []
    for category, counts in weekly_counts.items():
        for weeks_back, count in enumerate(reversed(counts)):
            monday = last_monday - timedelta(weeks=weeks_back)
            for number in range(count):
                # Spread over the week, so the data reaches its end (the coverage check).
                created = monday + timedelta(minutes=(number + 1) * 7 * 24 * 60 // (count + 1))
                emotion = "부정" if number % 10 == 0 else "중립"
                rows.append(
                    ticket(
                        f"{label(category)}-{monday:%Y%m%d}-{number}",
                        f"{created:%Y-%m-%d %H:%M}",
                        category,
                        emotion,
                    )
                )
    return rows
