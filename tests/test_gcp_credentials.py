"""BigQuery's service account from a GcpCredentials block on the real Prefect test server: both
consumers, dbt-bigquery (method oauth) and the report reader, get the block's key."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import google.auth
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.cloud import bigquery
from prefect_gcp import GcpCredentials

from flows.errors import VocError
from flows.gcp_credentials import gcp_credentials_block

EMAIL = "voc-weekly@voc-test.iam.gserviceaccount.com"
DBT_SCOPES = ["https://www.googleapis.com/auth/bigquery"]


def service_account_key() -> dict[str, Any]:
    """A throwaway service-account key, as the GCP console downloads it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "type": "service_account",
        "project_id": "voc-test",
        "private_key_id": "test-key",
        "private_key": pem.decode(),
        "client_email": EMAIL,
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def test_block_key_is_what_dbt_and_the_reader_authenticate_with(
    prefect_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    info = service_account_key()
    GcpCredentials(service_account_info=info).save("voc-weekly-gcp-test", overwrite=True)

    with gcp_credentials_block("voc-weekly-gcp-test") as keyfile:
        assert keyfile is not None
        written = json.loads(keyfile.read_text(encoding="utf-8"))
        mode = stat.S_IMODE(keyfile.stat().st_mode)
        dbt_credentials, dbt_project = google.auth.default(scopes=DBT_SCOPES)  # dbt-bigquery's oauth
        reader = bigquery.Client(project="voc-test", location="asia-northeast3")  # open_warehouse's

    assert written == info and mode == 0o600
    assert (dbt_credentials.service_account_email, dbt_project) == (EMAIL, "voc-test")  # type: ignore[attr-defined]
    assert reader._credentials.service_account_email == EMAIL
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in os.environ and not keyfile.exists()


def test_no_block_named_leaves_the_workers_credentials_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/secrets/adc.json")

    with gcp_credentials_block(None) as keyfile:
        assert keyfile is None
        assert os.environ["GOOGLE_APPLICATION_CREDENTIALS"] == "/var/run/secrets/adc.json"


def test_a_missing_block_is_one_line_naming_the_setting(prefect_server: None) -> None:
    with pytest.raises(VocError) as raised, gcp_credentials_block("voc-weekly-gcp-missing"):
        pass

    message = str(raised.value)
    assert message.startswith(
        "VOC_GCP_CREDENTIALS_BLOCK=voc-weekly-gcp-missing: no such GcpCredentials block"
    )
    assert "\n" not in message
