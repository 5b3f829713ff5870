"""The masking corpus through voc_mask_pii as dbt renders it for BigQuery, executed by an emulator.

tests/dbt/test_pii_masking.py runs the DuckDB rendering and only parses the BigQuery one; here the
BigQuery rendering (raw-string patterns, no 'g' flag) runs on crucible, whose regular expressions are
RE2 like BigQuery's. Emulators run RE2 through DuckDB, so this proves the rendering and its escaping,
not BigQuery's own regexp engine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from google.cloud import bigquery

from tests.bigquery.emulators import PROJECT, Emulator
from tests.factories import make_settings
from tests.pii_corpus import CORPUS, Case, Executor, mask_corpus, render_mask_sql

DATASET = "pii_corpus"


def executor_on(emulator: Emulator) -> Executor:
    """An Executor (tests/pii_corpus.py) that loads the texts into `tickets` on the emulator."""

    def execute(select: str, texts: Sequence[str]) -> list[str]:
        client = emulator.client()
        client.create_dataset(DATASET, exists_ok=True)
        # A DML insert of string literals: crucible takes no query parameters and no CSV with
        # quoted newlines. A JSON string is a valid BigQuery string literal (same escapes).
        values = ", ".join(f"({i}, {json.dumps(text, ensure_ascii=False)})" for i, text in enumerate(texts))
        client.query(f"create or replace table {DATASET}.tickets (id int64, detail string)").result()
        client.query(f"insert into {DATASET}.tickets (id, detail) values {values}").result()
        job = bigquery.QueryJobConfig(default_dataset=f"{PROJECT}.{DATASET}")
        return [row[0] for row in client.query(select, job_config=job).result()]

    return execute


@pytest.fixture(scope="module")
def masked_on_bigquery(crucible: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every corpus text masked by the BigQuery rendering, on crucible (one dbt call, one query)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BIGQUERY_EMULATOR_HOST", crucible.url)
        patch.setenv("VOC_BQ_AUTH_METHOD", "oauth-secrets")
        patch.setenv("VOC_BQ_TOKEN", "emulator-token")
        prod = {"VOC_DBT_TARGET": "prod", "VOC_BQ_PROJECT": PROJECT, "VOC_BQ_DATASET": DATASET}
        mask_sql = render_mask_sql(make_settings(tmp_path_factory.mktemp("pii-bq"), None, **prod))
    assert "r'" in mask_sql and "'g'" not in mask_sql  # the BigQuery rendering, not DuckDB's
    return mask_corpus(mask_sql, executor_on(crucible))


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_corpus_text_is_masked_as_expected_on_bigquery(
    case: Case, masked_on_bigquery: dict[str, str]
) -> None:
    assert masked_on_bigquery[case.id] == case.masked
