"""Getting messages to Slack exactly once: the Web API client, its errors, and the delivery ledger."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from prefect.results import ResultStore
from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from flows.errors import SlackDeliveryError, VocError
from flows.settings import VocSettings
from flows.slack_messages import SlackMessage

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
    "missing_scope": "the Slack token lacks the chat:write scope: add it and reinstall the app",
}


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


def slack_client(token: SecretStr, base_url: str) -> WebClient:
    """A WebClient that honours 429 Retry-After and retries 5xx and connection errors."""
    client = WebClient(token=token.get_secret_value(), base_url=base_url.rstrip("/") + "/")
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=5))
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=3))
    return client


def post_message(client: WebClient, args: dict[str, Any]) -> str:
    """chat.postMessage; returns the message ts, or raises a one-line error saying what to fix."""
    try:
        response = client.chat_postMessage(**args)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        hint = FATAL_SLACK_ERRORS.get(error, "Slack refused the message ({error})")
        raise SlackDeliveryError(hint.format(channel=args.get("channel"), error=error)) from None
    return str(response["ts"])


def post_report(
    client: WebClient,
    ledger: DeliveryLedger,
    messages: list[SlackMessage],
    channel: str,
    thread_ts: str | None,
    force: bool = False,
) -> tuple[int, int]:
    """Post, in order and in one thread, the messages the ledger has not seen; return (posted, skipped).

    The first message (the summary) opens the thread unless `thread_ts` names one already; `force`
    posts everything again.
    """
    posted = skipped = 0
    reply_thread = thread_ts
    for message in messages:
        ts = None if force else ledger.posted_ts(message.key)
        if ts is None:
            ts = post_message(client, message.post_args(channel, reply_thread))
            ledger.record(message.key, ts)  # right away: a crash after this never reposts it
            posted += 1
        else:
            skipped += 1
        reply_thread = reply_thread or ts
    return posted, skipped


class DeliveryLedger:
    """Which messages of one report already reached Slack: message key → ts.

    Kept in Prefect's result storage (the PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK, the server's
    default result storage, or else PREFECT_LOCAL_STORAGE_PATH), so it survives the process: a
    rerun posts nothing again, and a run that died half-way resumes in the same thread.
    """

    def __init__(self, channel: str, thread_ts: str | None, week: date, store: ResultStore | None = None):
        self.store = store or ResultStore()
        thread = thread_ts or "channel"
        self.prefix = f"voc-weekly-deliveries/{_safe(channel)}/{_safe(thread)}/{week.isoformat()}"

    def _path(self, key: str) -> str:
        return f"{self.prefix}/{key}"

    def get(self, key: str) -> Any | None:
        """What was recorded under `key` (a message's ts, or the completed report), if anything."""
        path = self._path(key)
        return self.store.read(path).result if self.store.exists(path) else None

    def posted_ts(self, key: str) -> str | None:
        """The ts of the message already posted under `key`, if any."""
        ts = self.get(key)
        return None if ts is None else str(ts)

    def record(self, key: str, value: Any) -> None:
        """Remember `value` under `key` (a message's ts once it is in Slack)."""
        self.store.write(obj=value, key=self._path(key))


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)
