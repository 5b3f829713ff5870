"""All configuration in one typed object, read from the environment (and `.env`) when a run starts."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from flows.errors import SettingsError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PRESET_HASH = "90571f07e6b60e047620162ecc29b423dba8280aba60dba503aac082082ad0c4"

# BigQuery names are spliced into SQL and profiles.yml, so they are held to a documented safe
# subset of BigQuery's rules: a project id is 6–30 lowercase letters, digits and hyphens starting
# with a letter (optionally after a `domain.com:` prefix); a dataset is letters, digits and
# underscores; a table is letters, digits, underscores and hyphens (no spaces, no backticks).
_BQ_PROJECT = r"(?:[a-z0-9][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]"
_BQ_DATASET = r"[A-Za-z0-9_]{1,1024}"
_BQ_TABLE = r"[A-Za-z0-9_][A-Za-z0-9_-]{0,1023}"


def _matching(pattern: str, what: str) -> AfterValidator:
    """A validator accepting only values that match `pattern` in full; `what` says what is allowed."""
    compiled = re.compile(pattern)

    def check(value: str | None) -> str | None:
        if value is not None and not compiled.fullmatch(value):
            raise ValueError(what)
        return value

    return AfterValidator(check)


def _http_url(value: str | None) -> str | None:
    """An http(s) URL with a host and nothing that could end a header or a Slack link."""
    if value is None:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"[\s<>|]", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _is_loopback(host: str | None) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1): traffic that never leaves the machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


BqProject = Annotated[
    str, _matching(_BQ_PROJECT, "must be a BigQuery project id: 6-30 lowercase letters, digits, hyphens")
]
BqDataset = Annotated[str, _matching(_BQ_DATASET, "must be a BigQuery dataset: letters, digits, underscores")]
BqTable = Annotated[
    str,
    _matching(
        rf"{_BQ_PROJECT}\.{_BQ_DATASET}\.{_BQ_TABLE}",
        "must be project.dataset.table (project: lowercase letters, digits, hyphens; dataset: "
        "letters, digits, underscores; table: letters, digits, underscores, hyphens)",
    ),
]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")  # W…: Enterprise Grid
HeaderValue = Annotated[str, _matching(r"[\x21-\x7e]{1,256}", "must be printable ASCII without spaces")]


ENV_FILE = ".env"


def check_env_file(path: Path = Path(ENV_FILE)) -> None:
    """Fail in one line, naming the file and its encoding, unless `path` (if any) is UTF-8.

    VOC Weekly and Prefect both read `.env` from the working folder as UTF-8, and both fail with a
    long UnicodeDecodeError trace otherwise (Windows editors often save UTF-16 or CP949/EUC-KR).
    A UTF-8 byte-order mark is fine: python-dotenv drops it.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return  # no .env: nothing to read
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingsError(
            f"{path.resolve()}: the file is saved as {_encoding_name(data)}, not UTF-8: save it as UTF-8 "
            "(VOC Weekly and Prefect read .env as UTF-8)"
        ) from None


def _encoding_name(data: bytes) -> str:
    """The likely encoding of text that is not UTF-8, for the error message."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data.count(0) > len(data) // 4:
        return "UTF-16"
    try:
        data.decode("cp949")
    except UnicodeDecodeError:
        return "an encoding other than UTF-8"
    return "CP949 (EUC-KR)"


class VocSettings(BaseSettings):
    """VOC Weekly settings. Build one per run (`VocSettings()`) and pass it down; never at import."""

    model_config = SettingsConfigDict(env_file=ENV_FILE, env_ignore_empty=True, extra="ignore")

    # Warehouse and dbt
    dbt_target: Literal["dev", "prod"] = Field("dev", validation_alias="VOC_DBT_TARGET")
    dbt_project_dir: Path = Field(PACKAGE_ROOT / "dbt_project", validation_alias="VOC_DBT_PROJECT_DIR")
    # Each dbt node as a Prefect task of the run (prefect-dbt), or dbt as one step of it: a node's
    # task costs the Prefect API a few calls, about a third of a small build's time.
    dbt_node_tasks: bool = Field(True, validation_alias="VOC_DBT_NODE_TASKS")
    home: Path = Field(Path(".voc"), validation_alias="VOC_HOME")
    source_path: Path | None = Field(None, validation_alias="VOC_SOURCE_PATH")
    duckdb_path: Path | None = Field(None, validation_alias="VOC_DUCKDB_PATH")
    # A prefect-gcp GcpCredentials block: the BigQuery service account (warehouse/gcp_credentials.py).
    gcp_credentials_block: str | None = Field(None, validation_alias="VOC_GCP_CREDENTIALS_BLOCK")
    bq_project: BqProject | None = Field(None, validation_alias="VOC_BQ_PROJECT")
    bq_dataset: BqDataset | None = Field(None, validation_alias="VOC_BQ_DATASET")
    bq_location: Annotated[str, _matching(r"[A-Za-z0-9-]{1,64}", "must be a BigQuery location, e.g. US")] = (
        Field("asia-northeast3", validation_alias="VOC_BQ_LOCATION")
    )
    bq_source_table: BqTable = Field(
        "wanted-data.wanted_ml.zendesk_voc_classified", validation_alias="VOC_BQ_SOURCE_TABLE"
    )
    # How dbt and the report reader authenticate to BigQuery (flows/bigquery.py builds both).
    bq_auth_method: Literal["oauth", "service-account", "oauth-secrets"] = Field(
        "oauth", validation_alias="VOC_BQ_AUTH_METHOD"
    )
    bq_keyfile: Path | None = Field(None, validation_alias="VOC_BQ_KEYFILE", validate_default=True)
    bq_token: SecretStr | None = Field(None, validation_alias="VOC_BQ_TOKEN", validate_default=True)

    # The oldest week a run may report, in weeks before the last complete one (flows/weeks.py).
    max_weeks_back: int = Field(52, ge=1, le=520, validation_alias="VOC_MAX_WEEKS_BACK")

    # Plain http:// for the URLs that receive a token (VOC_SLACK_API_URL, LAAS_BASE_URL, …) beyond
    # loopback: only for a staging server on a network you trust.
    allow_insecure_http: bool = Field(False, validation_alias="VOC_ALLOW_INSECURE_HTTP")

    # Slack delivery
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_credentials_block: str | None = Field(None, validation_alias="VOC_SLACK_CREDENTIALS_BLOCK")
    slack_api_url: HttpUrl = Field("https://slack.com/api/", validation_alias="VOC_SLACK_API_URL")
    slack_channel: str | None = Field(None, validation_alias="VOC_SLACK_CHANNEL")
    dashboard_url: HttpUrl | None = Field(None, validation_alias="VOC_DASHBOARD_URL")
    # The published dbt docs page (flows/docs.py): the summary's footer links its comparison model.
    docs_url: HttpUrl | None = Field(None, validation_alias="VOC_DOCS_URL")
    # A prefect-gcp GcsBucket block: where the `docs` deployment publishes the page.
    docs_bucket_block: str | None = Field(None, validation_alias="VOC_DOCS_BUCKET_BLOCK")
    post_quiet_weeks: bool = Field(True, validation_alias="VOC_POST_QUIET_WEEKS")
    summary_max_per_severity: int = Field(20, ge=1, le=100, validation_alias="VOC_SUMMARY_MAX_PER_SEVERITY")
    # `significant`: only CRITICAL/MONITOR flags that pass the false-discovery gate get a reply.
    follow_ups: Literal["all", "significant"] = Field("all", validation_alias="VOC_FOLLOW_UPS")
    delivery_lock_timeout_seconds: float = Field(
        1800, gt=0, validation_alias="VOC_DELIVERY_LOCK_TIMEOUT_SECONDS"
    )
    # The team's feedback (reactions on the replies): how many past reported weeks each posting run
    # reads, and how many reported weeks a 🔕 (no_bell) snoozes a category for.
    feedback_weeks: int = Field(12, ge=0, le=52, validation_alias="VOC_FEEDBACK_WEEKS")
    snooze_weeks: int = Field(4, ge=0, le=7, validation_alias="VOC_SNOOZE_WEEKS")
    # Slack and LaaS: the longest a run waits in all for rate limits and retries before it gives up.
    max_retry_wait_seconds: float = Field(300, gt=0, validation_alias="VOC_MAX_RETRY_WAIT_SECONDS")

    # LLM follow-up analysis: `auto` = LaaS when keyed, else an OpenAI-compatible endpoint when keyed,
    # else the built-in summary (the CLI's --llm and the flow's `llm` parameter override it).
    llm: Literal["auto", "laas", "openai", "builtin"] = Field("auto", validation_alias="VOC_LLM")
    # LaaS preset API
    laas_api_key: SecretStr | None = Field(None, validation_alias="LAAS_API_KEY")
    laas_api_key_block: str | None = Field(None, validation_alias="VOC_LAAS_SECRET_BLOCK")
    laas_base_url: HttpUrl = Field("https://api-laas.wanted.co.kr", validation_alias="LAAS_BASE_URL")
    laas_project: HeaderValue = Field("WANTED_DATA", validation_alias="LAAS_PROJECT")
    laas_preset_hash: HeaderValue = Field(DEFAULT_PRESET_HASH, validation_alias="LAAS_PRESET_HASH")
    # Any OpenAI-compatible chat completions endpoint (the `openai` SDK)
    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_api_key_block: str | None = Field(None, validation_alias="VOC_OPENAI_SECRET_BLOCK")
    openai_base_url: HttpUrl = Field("https://api.openai.com/v1", validation_alias="OPENAI_BASE_URL")
    llm_model: HeaderValue | None = Field(None, validation_alias="VOC_LLM_MODEL")
    # Both services
    llm_concurrency: int = Field(4, ge=1, le=64, validation_alias="VOC_LLM_CONCURRENCY")
    llm_timeout_seconds: float = Field(
        60.0, gt=0, allow_inf_nan=False, validation_alias="VOC_LLM_TIMEOUT_SECONDS"
    )
    llm_max_attempts: int = Field(4, ge=1, le=10, validation_alias="VOC_LLM_MAX_ATTEMPTS")

    # Slack @mention bot
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    bot_allowed_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="VOC_BOT_ALLOWED_CHANNELS"
    )
    bot_deployment: str = Field("voc-weekly-report/ad-hoc", validation_alias="VOC_BOT_DEPLOYMENT")
    # Users who may `/voc-weekly … force` (post a delivered week again), and who DMs name to ask.
    bot_admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="VOC_BOT_ADMINS"
    )
    # Reports hold customer text: a DM is a place only its two members see, so it is opt-in.
    bot_allow_dms: bool = Field(False, validation_alias="VOC_BOT_ALLOW_DMS")
    bot_allowed_users: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="VOC_BOT_ALLOWED_USERS"
    )

    def __init__(self, **values: Any) -> None:
        """Read the settings; a bad value fails in one line naming its variable and what it may be."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(settings_error_text(exc)) from None
        except UnicodeDecodeError:  # the .env file is not UTF-8
            check_env_file(Path(str(values.get("_env_file") or ENV_FILE)))
            raise

    @field_validator("home", "dbt_project_dir")
    @classmethod
    def _a_folder(cls, value: Path) -> Path:
        """A folder (or one that can still be created), never an existing file."""
        if value.exists() and not value.is_dir():
            raise ValueError("must be a folder, not a file")
        return value

    @field_validator("duckdb_path")
    @classmethod
    def _not_a_folder(cls, value: Path | None) -> Path | None:
        """The warehouse is one file."""
        if value is not None and value.is_dir():
            raise ValueError("must be a file path, not a folder")
        return value

    @field_validator("bot_allowed_channels", "bot_admins", "bot_allowed_users", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept the comma-separated form an environment variable holds."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("bot_admins", "bot_allowed_users")
    @classmethod
    def _user_ids(cls, value: list[str]) -> list[str]:
        """Slack sends user IDs, never names: a name here would match no one."""
        if bad := [user for user in value if not _SLACK_USER_ID.fullmatch(user)]:
            raise ValueError(
                f"must be Slack user IDs (U…, from a profile's ⋮ → Copy member ID), not {bad[0]!r}"
            )
        return value

    @field_validator("slack_api_url", "laas_base_url", "openai_base_url")
    @classmethod
    def _tls_for_tokens(cls, value: str, info: ValidationInfo) -> str:
        """A token is sent to these URLs: plain HTTP only on loopback (tests) or when allowed."""
        parts = urlsplit(value)
        if parts.scheme.lower() == "http" and not (
            _is_loopback(parts.hostname) or info.data.get("allow_insecure_http")
        ):
            raise ValueError(
                "sends the token over plain HTTP; use https://, or set VOC_ALLOW_INSECURE_HTTP=true "
                "(loopback addresses are always allowed)"
            )
        return value

    @field_validator("bq_keyfile")
    @classmethod
    def _keyfile_for_service_account(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """The service-account method needs its key file before any query."""
        if info.data.get("bq_auth_method") == "service-account" and not (value and value.is_file()):
            raise ValueError("must name an existing JSON key file when VOC_BQ_AUTH_METHOD=service-account")
        return value

    @field_validator("bq_token")
    @classmethod
    def _token_for_oauth_secrets(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """The oauth-secrets method needs its access token before any query."""
        if info.data.get("bq_auth_method") == "oauth-secrets" and not value:
            raise ValueError("must hold an access token when VOC_BQ_AUTH_METHOD=oauth-secrets")
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


def settings_error_text(error: ValidationError) -> str:
    """One line: every bad setting by its variable name, the value given and what is allowed."""
    by_alias = {str(field.validation_alias): field for field in VocSettings.model_fields.values()}
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "settings"
        field = by_alias.get(name)
        if field is None and name in VocSettings.model_fields:  # a default, validated by field name
            field = VocSettings.model_fields[name]
            name = str(field.validation_alias)
        if item["type"] == "value_error":
            allowed = str(item.get("ctx", {}).get("error", item["msg"]))
        else:
            allowed = allowed_text(field) if field else item["msg"]
        secret = field is not None and field.annotation is not None and "SecretStr" in str(field.annotation)
        unset = item["type"] == "missing" or item["input"] is None
        given = "" if secret or unset else f"={_shown(item['input'])}"
        problems.append(f"{name}{given}: {allowed}")
    return "; ".join(problems)


def _shown(value: object) -> str:
    """The value as the user typed it, quoted, on one line, not too long."""
    text = repr(str(value))
    return text if len(text) <= 60 else text[:57] + "...'"


def allowed_text(field: FieldInfo) -> str:
    """What a field accepts, from its type and bounds."""
    annotation = field.annotation
    if get_origin(annotation) is Literal:
        return "must be one of " + ", ".join(str(choice) for choice in get_args(annotation))
    if annotation is bool:
        return "must be true or false"
    if annotation is int:
        return f"must be a whole number{_bounds(field)}"
    if annotation is float:
        return f"must be a number{_bounds(field)}"
    return "has an invalid value"


def _bounds(field: FieldInfo) -> str:
    """' from 1 to 64', ' greater than 0 and less than 1', ...: the numeric bounds of a field."""
    names = ("ge", "gt", "le", "lt")
    limits = {name: getattr(item, name) for item in field.metadata for name in names if hasattr(item, name)}
    if "ge" in limits and "le" in limits:
        return f" from {limits['ge']} to {limits['le']}"
    words = {"ge": "of at least", "gt": "greater than", "le": "of at most", "lt": "less than"}
    parts = [f"{words[name]} {value}" for name, value in limits.items()]
    return (" " + " and ".join(parts)).replace("and of at most", "and at most") if parts else ""
