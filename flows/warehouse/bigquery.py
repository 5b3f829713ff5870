"""BigQuery credentials, built once from the settings for both dbt's profile and the report reader."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from flows.settings import VocSettings

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud import bigquery

DBT_SECRET_TOKEN = "DBT_ENV_SECRET_VOC_BQ_TOKEN"  # profiles.yml reads the token from it

# The scopes dbt-bigquery asks for, so the reader's token is good for exactly what dbt's is.
SCOPES = (
    "https://www.googleapis.com/auth/bigquery",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/drive",
)


def bigquery_credentials(settings: VocSettings) -> Credentials:
    """Google credentials for the configured VOC_BQ_AUTH_METHOD, as dbt-bigquery builds them."""
    if settings.bq_auth_method == "service-account":
        from google.oauth2 import service_account

        return service_account.Credentials.from_service_account_file(str(settings.bq_keyfile), scopes=SCOPES)
    if settings.bq_auth_method == "oauth-secrets":
        from google.oauth2.credentials import Credentials as OAuthCredentials

        assert settings.bq_token is not None  # the settings refuse oauth-secrets without a token
        return OAuthCredentials(token=settings.bq_token.get_secret_value(), scopes=SCOPES)
    import google.auth

    credentials, _ = google.auth.default(scopes=SCOPES)  # oauth: application default credentials
    return credentials


def dbt_profile_env(settings: VocSettings) -> dict[str, str | None]:
    """The profile's auth fields (profiles.yml reads them with env_var) from the same settings; None
    unsets a variable for the dbt call.

    The token goes to dbt only under dbt's secret prefix: dbt masks its value in everything it logs
    and refuses it to models and macros. The name people set (VOC_BQ_TOKEN) is hidden from dbt.
    """
    return {
        "VOC_BQ_AUTH_METHOD": settings.bq_auth_method,
        # Absolute, not resolved: a key that lives only in memory is a /proc/self/fd link.
        "VOC_BQ_KEYFILE": os.path.abspath(settings.bq_keyfile) if settings.bq_keyfile else None,
        "VOC_BQ_TOKEN": None,
        DBT_SECRET_TOKEN: settings.bq_token.get_secret_value() if settings.bq_token else None,
    }


def bigquery_client(settings: VocSettings) -> bigquery.Client:
    """A client for the prod project with the configured credentials (honours BIGQUERY_EMULATOR_HOST)."""
    from google.cloud import bigquery

    return bigquery.Client(
        project=settings.bq_project,
        location=settings.bq_location,
        credentials=bigquery_credentials(settings),
    )
