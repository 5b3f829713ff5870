"""Getting a report to Slack exactly once: each message posted once, in order, in one thread.

Exactly once rests on three things: one delivery per channel at a time (a Prefect global concurrency
limit, `channel_lock`), a ledger that records each message's ts (and that an attempt started), and
Slack itself for attempts whose outcome is unknown: every message carries its ledger key as Slack
message metadata, so after a timeout, a dropped connection or a 5xx the channel's (or thread's)
history says whether Slack stored it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from pydantic import SecretStr
from slack_sdk import WebClient
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
from flows.slack.client import METADATA_EVENT_TYPE, UnknownOutcome, find_posted, post_message, slack_client
from flows.slack.ledger import ATTEMPT_STARTED, COMPLETE_KEY, DeliveryLedger
from flows.slack.lock import channel_lock
from flows.slack.messages import SlackMessage, failure_notice, reply_key

POST_ATTEMPTS = 4  # posts of one message whose outcome stayed unknown, before the run gives up


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
