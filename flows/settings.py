"""All configuration in one typed object, read from the environment (and `.env`) when a run starts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PRESET_HASH = "90571f07e6b60e047620162ecc29b423dba8280aba60dba503aac082082ad0c4"


class VocSettings(BaseSettings):
    """VOC Weekly settings. Build one per run (`VocSettings()`) and pass it down; never at import."""

    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    # Warehouse and dbt
    dbt_target: Literal["dev", "prod"] = Field("dev", validation_alias="VOC_DBT_TARGET")
    dbt_project_dir: Path = Field(PACKAGE_ROOT / "dbt_project", validation_alias="VOC_DBT_PROJECT_DIR")
    home: Path = Field(Path(".voc"), validation_alias="VOC_HOME")
    source_path: Path | None = Field(None, validation_alias="VOC_SOURCE_PATH")
    duckdb_path: Path | None = Field(None, validation_alias="VOC_DUCKDB_PATH")
    # A prefect-gcp GcpCredentials block with the BigQuery service account (flows/gcp_credentials.py).
    gcp_credentials_block: str | None = Field(None, validation_alias="VOC_GCP_CREDENTIALS_BLOCK")
    bq_project: str | None = Field(None, validation_alias="VOC_BQ_PROJECT")
    bq_dataset: str | None = Field(None, validation_alias="VOC_BQ_DATASET")
    bq_location: str = Field("asia-northeast3", validation_alias="VOC_BQ_LOCATION")
    bq_source_table: str = Field(
        "wanted-data.wanted_ml.zendesk_voc_classified", validation_alias="VOC_BQ_SOURCE_TABLE"
    )

    # Slack delivery
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_credentials_block: str | None = Field(None, validation_alias="VOC_SLACK_CREDENTIALS_BLOCK")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="VOC_SLACK_API_URL")
    slack_channel: str | None = Field(None, validation_alias="VOC_SLACK_CHANNEL")
    dashboard_url: str | None = Field(None, validation_alias="VOC_DASHBOARD_URL")
    post_quiet_weeks: bool = Field(True, validation_alias="VOC_POST_QUIET_WEEKS")
    summary_max_per_severity: int = Field(20, ge=1, le=100, validation_alias="VOC_SUMMARY_MAX_PER_SEVERITY")

    # LLM follow-up analysis (LaaS preset API)
    laas_api_key: SecretStr | None = Field(None, validation_alias="LAAS_API_KEY")
    laas_api_key_block: str | None = Field(None, validation_alias="VOC_LAAS_SECRET_BLOCK")
    laas_base_url: str = Field("https://api-laas.wanted.co.kr", validation_alias="LAAS_BASE_URL")
    laas_project: str = Field("WANTED_DATA", validation_alias="LAAS_PROJECT")
    laas_preset_hash: str = Field(DEFAULT_PRESET_HASH, validation_alias="LAAS_PRESET_HASH")
    llm_concurrency: int = Field(4, ge=1, le=64, validation_alias="VOC_LLM_CONCURRENCY")
    llm_timeout_seconds: float = Field(60.0, gt=0, validation_alias="VOC_LLM_TIMEOUT_SECONDS")
    llm_max_attempts: int = Field(4, ge=1, le=10, validation_alias="VOC_LLM_MAX_ATTEMPTS")

    # Slack @mention bot
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    bot_allowed_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="VOC_BOT_ALLOWED_CHANNELS"
    )
    bot_deployment: str = Field("voc-weekly-report/ad-hoc", validation_alias="VOC_BOT_DEPLOYMENT")

    @field_validator("bot_allowed_channels", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        """Accept the comma-separated form an environment variable holds."""
        if isinstance(value, str):
            return [channel.strip() for channel in value.split(",") if channel.strip()]
        return value

    @property
    def duckdb_file(self) -> Path:
        """The embedded warehouse file."""
        return (self.duckdb_path or self.home / "warehouse.duckdb").resolve()

    @property
    def demo_source_path(self) -> Path:
        """Where the generated demo export lives."""
        return (self.home / "demo" / "zendesk_voc_classified.parquet").resolve()

    @property
    def uses_demo_data(self) -> bool:
        """True on the embedded default: DuckDB with no export configured."""
        return self.dbt_target == "dev" and self.source_path is None

    @property
    def effective_source_path(self) -> Path:
        """The export DuckDB reads: VOC_SOURCE_PATH, or else the demo data."""
        return self.source_path.resolve() if self.source_path else self.demo_source_path

    @property
    def allowed_bot_channels(self) -> list[str]:
        """Channels where a mention may post VOC data: the allowlist, else the report channel."""
        if self.bot_allowed_channels:
            return self.bot_allowed_channels
        return [self.slack_channel] if self.slack_channel else []
