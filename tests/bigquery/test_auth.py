"""BigQuery auth: every VOC_BQ_AUTH_METHOD the README documents reaches BigQuery with its own
credentials, through the reader the flow uses (before, the reader ignored the method and asked for
application default credentials, so a service-account setup built the marts and then failed)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from flows.errors import SettingsError
from flows.settings import VocSettings
from flows.warehouse.bigquery import dbt_profile_env
from flows.warehouse.dbt import invoke_dbt
from flows.warehouse.gcp_credentials import with_gcp_credentials_block
from flows.warehouse.readers import open_warehouse
from tests.bigquery.emulators import PROJECT, SOURCE_TABLE
from tests.bigquery.recorder import Recorder, write_service_account_key

WEEK = date(2026, 11, 16)


def prod_settings(**auth: str) -> VocSettings:
    values = {
        "VOC_DBT_TARGET": "prod",
        "VOC_BQ_PROJECT": PROJECT,
        "VOC_BQ_DATASET": "voc_auth",
        "VOC_BQ_SOURCE_TABLE": SOURCE_TABLE,
        **auth,
    }
    return VocSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def through(recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Clients reach the emulator through the recorder; no metadata-server probe for ADC."""
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", recorder.url)
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    return recorder


def fetch_week(settings: VocSettings) -> object:
    """The reader's round trip with a query parameter, as read_report does it."""
    warehouse = open_warehouse(settings)
    return warehouse.fetch(f"select {warehouse.week_parameter} as week", WEEK)[0]["week"]


def test_service_account_key_is_exchanged_for_a_token_the_reader_sends(
    through: Recorder, tmp_path: Path
) -> None:
    email = "voc-weekly@voc-test.iam.gserviceaccount.com"
    keyfile = write_service_account_key(tmp_path / "key.json", email, through.token_uri)
    settings = prod_settings(VOC_BQ_AUTH_METHOD="service-account", VOC_BQ_KEYFILE=str(keyfile))

    assert fetch_week(settings) == WEEK
    assert through.bearer_tokens() == {f"issued-for-{email}"}
    assert through.token_grants[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"


def test_oauth_secrets_token_is_sent_as_given(through: Recorder) -> None:
    settings = prod_settings(VOC_BQ_AUTH_METHOD="oauth-secrets", VOC_BQ_TOKEN="ya29.short-lived")

    assert fetch_week(settings) == WEEK
    assert through.bearer_tokens() == {"ya29.short-lived"}
    assert through.token_grants == []


def test_oauth_uses_the_application_default_credentials(
    through: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ADC from GOOGLE_APPLICATION_CREDENTIALS (google-auth sends an authorized-user file's refresh
    # to Google whatever its token_uri says, so a key file stands in for it offline).
    email = "adc@voc-test.iam.gserviceaccount.com"
    adc = write_service_account_key(tmp_path / "adc.json", email, through.token_uri)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    settings = prod_settings(VOC_BQ_AUTH_METHOD="oauth")

    assert fetch_week(settings) == WEEK
    assert through.bearer_tokens() == {f"issued-for-{email}"}


def test_a_gcp_credentials_block_is_the_service_account_the_reader_sends(
    prefect_server: None, through: Recorder, tmp_path: Path
) -> None:
    from prefect_gcp import GcpCredentials

    email = "voc-weekly-block@voc-test.iam.gserviceaccount.com"
    keyfile = write_service_account_key(tmp_path / "block-key.json", email, through.token_uri)
    info = json.loads(keyfile.read_text(encoding="utf-8"))
    keyfile.unlink()  # the key lives only in the block, as on Prefect Cloud
    GcpCredentials(service_account_info=info).save("voc-weekly-gcp-emulator", overwrite=True)

    configured = prod_settings(VOC_GCP_CREDENTIALS_BLOCK="voc-weekly-gcp-emulator")
    with with_gcp_credentials_block(configured) as settings:
        assert fetch_week(settings) == WEEK
        # dbt-bigquery reads the same key (in memory only: a /proc/self/fd path on Linux).
        invoke_dbt(settings, ["--quiet", "show", "--inline", "select 1 as one"])
    assert through.bearer_tokens() == {f"issued-for-{email}"}
    assert len(through.token_grants) >= 2  # the reader's and dbt's


def test_dbt_profile_gets_the_same_method_and_credential(tmp_path: Path) -> None:
    keyfile = tmp_path / "key.json"
    keyfile.write_text("{}", encoding="utf-8")
    service_account = prod_settings(VOC_BQ_AUTH_METHOD="service-account", VOC_BQ_KEYFILE=str(keyfile))
    secrets = prod_settings(VOC_BQ_AUTH_METHOD="oauth-secrets", VOC_BQ_TOKEN="ya29.t")

    assert dbt_profile_env(service_account) == {
        "VOC_BQ_AUTH_METHOD": "service-account",
        "VOC_BQ_KEYFILE": str(keyfile.resolve()),
        "VOC_BQ_TOKEN": None,
        "DBT_ENV_SECRET_VOC_BQ_TOKEN": None,
    }
    # The token only under dbt's secret prefix (dbt masks it); the plain name is unset for dbt.
    assert dbt_profile_env(secrets)["DBT_ENV_SECRET_VOC_BQ_TOKEN"] == "ya29.t"
    assert dbt_profile_env(secrets)["VOC_BQ_TOKEN"] is None
    assert dbt_profile_env(prod_settings())["VOC_BQ_AUTH_METHOD"] == "oauth"


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            {"VOC_BQ_AUTH_METHOD": "password"},
            "VOC_BQ_AUTH_METHOD='password': must be one of oauth, service-account, oauth-secrets",
        ),
        (
            {"VOC_BQ_AUTH_METHOD": "service-account"},
            "VOC_BQ_KEYFILE: must name an existing JSON key file",
        ),
        (
            {"VOC_BQ_AUTH_METHOD": "service-account", "VOC_BQ_KEYFILE": "/nonexistent/key.json"},
            "VOC_BQ_KEYFILE='/nonexistent/key.json': must name an existing JSON key file",
        ),
        (
            {"VOC_BQ_AUTH_METHOD": "oauth-secrets"},
            "VOC_BQ_TOKEN: must hold an access token when VOC_BQ_AUTH_METHOD=oauth-secrets",
        ),
    ],
)
def test_an_auth_method_without_its_credential_is_refused_naming_the_setting(
    auth: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        prod_settings(**auth)
    assert str(refused.value) == message or str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
