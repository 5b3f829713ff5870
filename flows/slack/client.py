"""The Slack Web API client of a run: retries that are safe, one-line errors, and finding a lost post.

Retries never re-send a post whose answer was lost (a timeout, a dropped connection, a 5xx): Slack
may have stored it, so `flows.slack.delivery` looks for it (`find_posted`) before posting again.
"""

from __future__ import annotations

import itertools
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from flows.errors import SlackDeliveryError, VocError
from flows.settings import VocSettings

METADATA_EVENT_TYPE = "voc_weekly_message"
CLOCK_SKEW_SECONDS = 300  # history is searched from this long before the first attempt started
HISTORY_PAGES = 10  # of 200 messages: a bounded search, even in a busy channel
# Answers after which Slack may or may not have stored a post: no status line, or a 5xx.
AMBIGUOUS_ERRORS = (TimeoutError, ConnectionError, HTTPException)

# Slack errors no retry can fix, and what the user should do about each.
FATAL_SLACK_ERRORS = {
    "channel_not_found": "Slack channel {channel} not found: set --channel or VOC_SLACK_CHANNEL to a "
    "channel ID the bot can see",
    "not_in_channel": "the bot is not a member of Slack channel {channel}: invite it there "
    "(/invite @<bot name>)",
    "is_archived": "Slack channel {channel} is archived: choose another channel",
    "invalid_auth": "Slack rejected the bot token: set SLACK_BOT_TOKEN (or the SlackCredentials "
    "block) to a valid xoxb- token",
    "not_authed": "no Slack token was sent: set SLACK_BOT_TOKEN or VOC_SLACK_CREDENTIALS_BLOCK",
    "token_revoked": "the Slack bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "the Slack bot token belongs to a deactivated app: update SLACK_BOT_TOKEN",
    "missing_scope": "the Slack token lacks the {needed} scope: add it (slack-app-manifest.yaml) and "
    "reinstall the app",
    "ratelimited": "Slack kept rate-limiting the bot (Retry-After beyond VOC_MAX_RETRY_WAIT_SECONDS): "
    "run again later",
}


class UnknownOutcome(Exception):
    """A post Slack may have stored without saying so (timeout, dropped connection, 5xx)."""


def slack_token(settings: VocSettings) -> SecretStr | None:
    """The bot token: from the prefect-slack SlackCredentials block if one is named, else the env."""
    if settings.slack_credentials_block:
        from prefect_slack import SlackCredentials

        try:
            block = SlackCredentials.load(settings.slack_credentials_block)
        except ValueError as exc:
            raise VocError(
                f"VOC_SLACK_CREDENTIALS_BLOCK={settings.slack_credentials_block}: no such "
                "SlackCredentials block (create it in Prefect, or unset the variable)",
                slack_text="Slack 인증 정보 블록을 찾을 수 없습니다. "
                "VOC_SLACK_CREDENTIALS_BLOCK을 확인해 주세요.",
            ) from exc
        return block.token
    return settings.slack_bot_token


def _is_post(request: HttpRequest) -> bool:
    return request.url.rstrip("/").endswith("/chat.postMessage")


class NotSentRetryHandler(ConnectionErrorRetryHandler):
    """Connection errors: retried when nothing reached Slack (refused, DNS); a lost answer only for reads."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if isinstance(error, URLError):  # urllib raises it while sending: the request never arrived
            return response is None
        # A post whose answer was lost may be in Slack: delivery looks for it before posting again.
        return not _is_post(request) and super()._can_retry(
            state=state, request=request, response=response, error=error
        )


class ReadServerErrorRetryHandler(ServerErrorRetryHandler):
    """5xx: retried for reads; a post answered with a 5xx may be stored, so delivery reconciles it."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return not _is_post(request) and super()._can_retry(
            state=state, request=request, response=response, error=error
        )


class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """429: waits Retry-After, unless that would take the client's total wait past `max_wait` seconds."""

    def __init__(self, max_wait: float, max_retry_count: int = 10) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.waited = 0.0

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response) + 1  # the handler adds up to a second of jitter
        if self.waited + wait > self.max_wait:
            return False  # the 429 reaches the caller, which says so in one line
        self.waited += wait
        return True


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            try:
                return float(values[0])
            except (ValueError, IndexError):
                break
    return 1.0


def slack_client(token: SecretStr, base_url: str, *, max_wait: float = 300, timeout: int = 30) -> WebClient:
    """A WebClient that honours Retry-After up to `max_wait` seconds in all, and retries what is safe."""
    return WebClient(
        token=token.get_secret_value(),
        base_url=base_url.rstrip("/") + "/",
        timeout=timeout,
        retry_handlers=[
            NotSentRetryHandler(max_retry_count=3),
            CappedRateLimitRetryHandler(max_wait),
            ReadServerErrorRetryHandler(max_retry_count=3),
        ],
    )


def slack_error(exc: SlackApiError, channel: object) -> SlackDeliveryError:
    """The one-line error for an answer Slack refused, saying what to fix."""
    error = str(exc.response.get("error", "unknown_error"))
    hint = FATAL_SLACK_ERRORS.get(error, "Slack refused the message ({error})")
    needed = str(exc.response.get("needed") or "chat:write")
    return SlackDeliveryError(hint.format(channel=channel, error=error, needed=needed))


def unreachable(client: WebClient, exc: URLError) -> SlackDeliveryError:
    """The one-line error for a Slack API that cannot be connected to (refused, DNS, TLS)."""
    return SlackDeliveryError(
        f"cannot reach the Slack API at {client.base_url} ({exc.reason}): check VOC_SLACK_API_URL"
    )


def post_message(client: WebClient, args: dict[str, Any]) -> str:
    """chat.postMessage; returns the ts, raises UnknownOutcome if Slack may have it, else a one-line error."""
    try:
        response = client.chat_postMessage(**args)
    except SlackApiError as exc:
        if exc.response.status_code >= 500:
            raise UnknownOutcome(f"HTTP {exc.response.status_code}") from None
        raise slack_error(exc, args.get("channel")) from None
    except URLError as exc:
        raise unreachable(client, exc) from None
    except AMBIGUOUS_ERRORS as exc:
        raise UnknownOutcome(type(exc).__name__) from None
    return str(response["ts"])


def find_posted(client: WebClient, args: dict[str, Any], since: float) -> str | None:
    """The ts of the message carrying `args`' metadata key, posted since `since` in its channel or thread."""
    key = args["metadata"]["event_payload"]["key"]
    window = {
        "channel": args["channel"],
        "oldest": f"{since - CLOCK_SKEW_SECONDS:.6f}",
        "include_all_metadata": True,
        "limit": 200,
    }
    try:
        if thread_ts := args.get("thread_ts"):
            pages = client.conversations_replies(ts=thread_ts, **window)
        else:
            pages = client.conversations_history(**window)
        for page in itertools.islice(pages, HISTORY_PAGES):
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == METADATA_EVENT_TYPE and payload.get("key") == key:
                    return str(message["ts"])
    except SlackApiError as exc:
        raise slack_error(exc, args["channel"]) from None
    except URLError as exc:
        raise unreachable(client, exc) from None
    return None
