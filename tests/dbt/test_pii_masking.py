"""The masking corpus through voc_mask_pii exactly as dbt renders it: on DuckDB, and parsed as BigQuery."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
import sqlglot

from tests.factories import make_settings
from tests.pii_corpus import CORPUS, Case, mask_corpus, render_mask_sql, secrets


def duckdb_executor(select: str, texts: Sequence[str]) -> list[str]:
    """Runs `select` over an in-memory `tickets` table holding the texts in order."""
    with duckdb.connect() as con:
        con.execute("create table tickets (id integer, detail varchar)")
        con.executemany("insert into tickets values (?, ?)", list(enumerate(texts)))
        return [row[0] for row in con.execute(select).fetchall()]


@pytest.fixture(scope="module")
def masked_on_duckdb(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every corpus text masked by the DuckDB rendering (one dbt call for the whole corpus)."""
    settings = make_settings(tmp_path_factory.mktemp("pii"), None)
    return mask_corpus(render_mask_sql(settings), duckdb_executor)


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_corpus_text_is_masked_as_expected_on_duckdb(case: Case, masked_on_duckdb: dict[str, str]) -> None:
    assert masked_on_duckdb[case.id] == case.masked


def test_the_corpus_covers_every_placeholder_and_enough_ordinary_text() -> None:
    placeholders = "이메일 전화번호 주민번호 카드번호 사업자번호 계좌번호 여권번호 운전면허번호 생년월일"
    placeholders += " IP URL 숫자"
    masked = "\n".join(case.masked for case in CORPUS)
    assert [p for p in placeholders.split() if f"[{p}]" not in masked] == []
    unchanged = [case for case in CORPUS if case.text == case.masked]
    assert len(CORPUS) >= 100 and len(unchanged) >= 25
    assert len({case.id for case in CORPUS}) == len(CORPUS)
    # Every personal case names something raw that the end-to-end tests can look for downstream.
    assert [case.id for case in CORPUS if case.text != case.masked and not secrets(case)] == [
        "birth-month-day",
        "birth-hyphen",
    ]


def test_bigquery_rendering_of_the_mask_is_valid_bigquery_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # run-operation opens a connection when it ends: a dummy access token opens one offline.
    monkeypatch.setenv("VOC_BQ_AUTH_METHOD", "oauth-secrets")
    monkeypatch.setenv("VOC_BQ_TOKEN", "dummy-token")
    prod = {"VOC_DBT_TARGET": "prod", "VOC_BQ_PROJECT": "dummy-project", "VOC_BQ_DATASET": "voc_weekly"}
    mask_sql = render_mask_sql(make_settings(tmp_path, None, **prod))
    statement = sqlglot.parse_one(f"select {mask_sql} as detail from tickets", read="bigquery")
    assert statement.sql(dialect="bigquery")
    assert mask_sql.count("regexp_replace(") == 12 and "r'" in mask_sql  # raw strings keep backslashes
    assert "'g'" not in mask_sql  # BigQuery replaces every match without being told
