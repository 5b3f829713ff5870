"""Shared fixtures: source files made in the test, settings pointing at a temporary warehouse, and
one Prefect test server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.settings import VocSettings

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


def make_settings(tmp: Path, source: Path | None, **overrides: Any) -> VocSettings:
    """Settings for the embedded default in a temporary folder, with no Slack or LLM configured."""
    values: dict[str, Any] = {
        "VOC_HOME": str(tmp / ".voc"),
        "VOC_SOURCE_PATH": str(source) if source else None,
        "VOC_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
    }
    values.update(overrides)
    return VocSettings(_env_file=None, **{k: v for k, v in values.items() if v is not None})


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real tokens or sources from the environment."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "LAAS_API_KEY",
        "LAAS_BASE_URL",
        "VOC_SOURCE_PATH",
        "VOC_SLACK_CHANNEL",
        "VOC_HOME",
        "VOC_DUCKDB_PATH",
        "VOC_DBT_TARGET",
        "VOC_SLACK_API_URL",
        "VOC_SLACK_CREDENTIALS_BLOCK",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect server for every test that runs a flow (starting one costs ~15 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
