"""BigQuery credentials, built once from the settings for both dbt's profile and the report reader."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.settings import VocSettings

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud import bigquery

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
    """The profile's auth fields (profiles.yml reads them with env_var) from the same settings."""
    return {
        "VOC_BQ_AUTH_METHOD": settings.bq_auth_method,
        "VOC_BQ_KEYFILE": str(settings.bq_keyfile.resolve()) if settings.bq_keyfile else None,
        "VOC_BQ_TOKEN": settings.bq_token.get_secret_value() if settings.bq_token else None,
    }


def bigquery_client(settings: VocSettings) -> bigquery.Client:
    """A client for the prod project with the configured credentials (honours BIGQUERY_EMULATOR_HOST)."""
    from google.cloud import bigquery

    return bigquery.Client(
        project=settings.bq_project,
        location=settings.bq_location,
        credentials=bigquery_credentials(settings),
    )
