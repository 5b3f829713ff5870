"""Getting messages to Slack exactly once: the Web API client, its errors, and the delivery ledger.

Exactly once rests on three things: one delivery per channel at a time (a Prefect global concurrency
limit, `channel_lock`), a ledger that records each message's ts (and that an attempt started), and
Slack itself for attempts whose outcome is unknown: every message carries its ledger key as Slack
message metadata, so after a timeout, a dropped connection or a 5xx the channel's (or thread's)
history says whether Slack stored it.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from http.client import HTTPException
from typing import Any, ClassVar
from urllib.error import URLError

from prefect.results import ResultStore
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
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
)

from flows.errors import SlackDeliveryError, VocError
from flows.report import CategoryChange
from flows.settings import VocSettings
from flows.slack.messages import SlackMessage, failure_notice, reply_key

METADATA_EVENT_TYPE = "voc_weekly_message"
COMPLETE_KEY = "complete"  # ledger entry of a fully delivered report: its table of categories
POST_ATTEMPTS = 4  # posts of one message whose outcome stayed unknown, before the run gives up
CLOCK_SKEW_SECONDS = 300  # history is searched from this long before the first attempt started
ATTEMPT_STARTED = "attempt_started"  # ledger value of a post not yet known to be in Slack
HISTORY_PAGES = 10  # of 200 messages: a bounded search, even in a busy channel
LOCK_LEASE_SECONDS = 60  # a crashed holder's slot is freed this long after its last renewal
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


def deliver_message(
    client: WebClient,
    ledger: DeliveryLedger,
    key: str,
    args: dict[str, Any],
    *,
    max_wait: float = 300,
    attempts: int = POST_ATTEMPTS,
) -> str:
    """Post one message once: an attempt of unknown outcome is looked up in Slack before posting again."""
    args = {
        **args,
        "metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": ledger.key(key)}},
    }
    retrying = Retrying(
        stop=stop_after_attempt(attempts) | stop_before_delay(max_wait),
        wait=wait_exponential(multiplier=1, max=30),
        retry=retry_if_exception_type(UnknownOutcome),
        reraise=True,
    )
    try:
        ts: str = retrying(_find_or_post, client, ledger, key, args)
    except UnknownOutcome as exc:
        raise SlackDeliveryError(
            f"Slack did not confirm a message ({exc}) and it is not in {args['channel']}: run again "
            "later to deliver the rest (nothing is posted twice)"
        ) from None
    return ts


def _find_or_post(client: WebClient, ledger: DeliveryLedger, key: str, args: dict[str, Any]) -> str:
    started = ledger.attempt_started(key)
    if started is None:
        ledger.record(key, {ATTEMPT_STARTED: time.time()})  # before posting: a crash leaves a trace
    elif (found := find_posted(client, args, started)) is not None:
        ledger.record(key, found)
        return found
    ts = post_message(client, args)
    ledger.record(key, ts)  # right away: a crash after this never reposts it
    return ts


def post_report(
    client: WebClient,
    ledger: DeliveryLedger,
    messages: list[SlackMessage],
    channel: str,
    thread_ts: str | None,
    force: bool = False,
    *,
    max_wait: float = 300,
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
            args = message.post_args(channel, reply_thread)
            ts = deliver_message(client, ledger, message.key, args, max_wait=max_wait)
            posted += 1
        else:
            skipped += 1
        reply_thread = reply_thread or ts
    return posted, skipped


@contextmanager
def channel_lock(channel: str, timeout: float) -> Iterator[None]:
    """Hold the channel's one-slot Prefect global concurrency limit: one delivery at a time, any worker."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import ObjectAlreadyExists

    name = f"voc-weekly-delivery-{_safe(channel)}"
    with get_client(sync_client=True) as client:
        try:  # Prefect does not create a missing limit: it would let every run through
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:
            pass  # an earlier run's, or the one we are racing
    acquired = False
    try:
        with concurrency(
            name, occupy=1, timeout_seconds=timeout, strict=True, lease_duration=LOCK_LEASE_SECONDS
        ):
            acquired = True
            yield
    except TimeoutError:
        if acquired:
            raise
        raise VocError(
            f"another run is delivering to Slack channel {channel}: gave up after "
            f"{timeout:g} s (VOC_DELIVERY_LOCK_TIMEOUT_SECONDS)"
        ) from None


@dataclass(frozen=True)
class SlackDelivery:
    """Where one report goes in Slack: a channel (or a mention's thread), through one client, exactly once."""

    client: WebClient
    channel: str
    thread_ts: str | None
    ledger: DeliveryLedger
    max_wait: float
    lock_timeout: float
    is_dry_run: ClassVar[bool] = False

    @classmethod
    def for_week(
        cls, settings: VocSettings, token: SecretStr, week: date, channel: str | None, thread_ts: str | None
    ) -> SlackDelivery:
        """The delivery of `week` to `channel` (default VOC_SLACK_CHANNEL), with the bot token given."""
        target = channel or settings.slack_channel
        if not target:
            raise VocError(
                "no Slack channel: pass --channel (flow parameter channel) or set VOC_SLACK_CHANNEL"
            )
        max_wait = settings.max_retry_wait_seconds
        return cls(
            client=slack_client(token, settings.slack_api_url, max_wait=max_wait),
            channel=target,
            thread_ts=thread_ts,
            ledger=DeliveryLedger(target, thread_ts, week),
            max_wait=max_wait,
            lock_timeout=settings.delivery_lock_timeout_seconds,
        )

    @contextmanager
    def reserved(self) -> Iterator[None]:
        """Hold the channel from reading the ledger to recording the report; a failure is said there."""
        with channel_lock(self.channel, self.lock_timeout):
            try:
                yield
            except SlackDeliveryError:
                raise  # Slack itself refused: a notice would be refused too
            except VocError as exc:  # whoever waits in the channel (or thread) hears why, in Korean
                self.send([failure_notice(exc.slack_text)], summary=None, force=False)
                raise

    def delivered(self, force: bool) -> dict[str, Any] | None:
        """The table of a report already delivered complete (a rerun posts nothing), unless `force`."""
        return None if force else self.ledger.get(COMPLETE_KEY)

    def unsent(self, categories: list[CategoryChange], force: bool) -> list[CategoryChange]:
        """The categories whose reply is not in Slack yet: a rerun analyses only those."""
        return [c for c in categories if force or self.ledger.posted_ts(reply_key(c.category)) is None]

    def send(
        self, messages: list[SlackMessage], summary: dict[str, Any] | None, force: bool
    ) -> tuple[int, int]:
        """Post what the ledger has not seen, then record the report complete; (posted, skipped)."""
        result = post_report(
            self.client, self.ledger, messages, self.channel, self.thread_ts, force, max_wait=self.max_wait
        )
        if summary is not None:
            self.ledger.record(COMPLETE_KEY, summary)
        return result


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

    def key(self, key: str) -> str:
        """The key in full (channel, thread, week): what a message carries in its Slack metadata."""
        return self._path(key)

    def get(self, key: str) -> Any | None:
        """What was recorded under `key` (a message's ts, or the completed report), if anything."""
        path = self._path(key)
        return self.store.read(path).result if self.store.exists(path) else None

    def posted_ts(self, key: str) -> str | None:
        """The ts of the message already posted under `key`, if any."""
        ts = self.get(key)
        return ts if isinstance(ts, str) else None

    def attempt_started(self, key: str) -> float | None:
        """When posting under `key` was first attempted, if that attempt's outcome is not recorded."""
        value = self.get(key)
        return float(value[ATTEMPT_STARTED]) if isinstance(value, dict) and ATTEMPT_STARTED in value else None

    def record(self, key: str, value: Any) -> None:
        """Remember `value` under `key` (a message's ts once it is in Slack)."""
        self.store.write(obj=value, key=self._path(key))


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)
