"""Getting a report to Slack exactly once: each message posted once, in order, in one thread.

Exactly once rests on three things: one delivery per channel at a time (`flows.slack.lock`), a
ledger that records each message's ts and, apart, that an attempt started (`flows.slack.ledger`), and
Slack itself for attempts whose outcome is unknown: every message carries its ledger key as Slack
message metadata, so after a timeout, a dropped connection or a 5xx the channel's (or thread's)
history says whether Slack stored it, once Slack can no longer be storing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, cast

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
from flows.logs import run_logger
from flows.report import CategoryChange
from flows.settings import VocSettings
from flows.slack.client import METADATA_EVENT_TYPE, UnknownOutcome, find_posted, post_message, slack_client
from flows.slack.ledger import COMPLETE_KEY, EARLIER_VERSION_ENTRY, Attempt, DeliveryLedger, LedgerError
from flows.slack.lock import ChannelLock, LockLostError
from flows.slack.messages import SUMMARY_KEY, SlackMessage, failure_notice, reply_key
from flows.slack.status import already_posted_text, done_text, permalink, quiet_week_text, update_status
from flows.weeks import week_end_utc

POST_ATTEMPTS = 4  # posts of one message whose outcome stayed unknown, before the run gives up
# After an unanswered post, Slack may store the message until the client's timeout has passed (and a
# little after): the search for it goes on that long before the message is posted again.
SETTLE_MARGIN_SECONDS = 5.0
SEARCH_EVERY_SECONDS = 2.0


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
    if (ts := ledger.posted_ts(key)) is not None:
        return ts  # recorded: never posted again, never overwritten
    if (attempt := ledger.attempt(key)) is not None and (found := find_settled(client, args, attempt)):
        return str(ledger.record(key, found))
    # Nothing of an earlier attempt is in Slack now (or there was none).
    ledger.note_attempt(key, time.time())  # before posting: a crash leaves a trace to look up
    try:
        ts = post_message(client, args)
    except SlackDeliveryError:
        ledger.note_refused(key)  # Slack answered "no": the next run need not search for it
        raise
    return str(ledger.record(key, ts))  # right away: a crash after this never reposts it


def find_settled(client: WebClient, args: dict[str, Any], attempt: Attempt) -> str | None:
    """The message of an earlier attempt, searched for until Slack can no longer be storing it.

    A slow Slack may store a post after the client gave up waiting for its answer: the last search
    starts no earlier than the client's timeout (plus a margin) after the latest attempt started.
    """
    settled = attempt.last + (client.timeout or 0) + SETTLE_MARGIN_SECONDS
    while True:
        searched_at = time.time()
        if (found := find_posted(client, args, attempt.first)) is not None:
            return found
        if searched_at >= settled:
            return None
        time.sleep(min(SEARCH_EVERY_SECONDS, max(settled - time.time(), 0.0)))


def post_report(
    client: WebClient,
    ledger: DeliveryLedger,
    messages: list[SlackMessage],
    channel: str,
    thread_ts: str | None,
    *,
    max_wait: float = 300,
    before_each: Callable[[], None] = lambda: None,
) -> tuple[int, int]:
    """Post, in order and in one thread, the messages the ledger has not seen; return (posted, skipped).

    The first message (the summary) opens the thread unless `thread_ts` names one already.
    `before_each` runs before every message (the channel lock checks it is still held).
    """
    posted = skipped = 0
    reply_thread = thread_ts
    for position, message in enumerate(messages):
        before_each()
        if ledger.has(message.key):
            ts = ledger.posted_ts(message.key)  # None when an earlier version recorded it
            skipped += 1
        else:
            if position > 0 and reply_thread is None:
                reply_thread = summary_in_slack(client, ledger, messages[0], channel)
            args = message.post_args(channel, reply_thread)
            ts = deliver_message(client, ledger, message.key, args, max_wait=max_wait)
            posted += 1
        if position == 0 and reply_thread is None:
            reply_thread = ts
    return posted, skipped


def summary_in_slack(client: WebClient, ledger: DeliveryLedger, summary: SlackMessage, channel: str) -> str:
    """The ts of a summary an earlier version recorded without a readable ts, found by its metadata key."""
    args = {
        "channel": channel,
        "metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": ledger.key(summary.key)}},
    }
    if (found := find_posted(client, args, week_end_utc(ledger.week).timestamp())) is None:
        raise LedgerError(
            f"the summary of week {ledger.week} in {channel} was recorded by an earlier version of "
            "voc-weekly and is not in the channel's recent history, so its replies have no thread: pass "
            "force to post the report again"
        )
    return found


@dataclass(frozen=True)
class SlackDelivery:
    """Where one report goes in Slack: a channel (or a mention's thread), through one client, exactly once."""

    client: WebClient
    channel: str
    thread_ts: str | None
    ledger: DeliveryLedger
    max_wait: float
    lock: ChannelLock
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
            lock=ChannelLock(target, settings.delivery_lock_timeout_seconds),
        )

    @contextmanager
    def reserved(self) -> Iterator[None]:
        """Hold the channel from reading the ledger to recording the report; a failure is said there."""
        with self.lock.held():
            try:
                yield
            except SlackDeliveryError:
                raise  # Slack itself refused: a notice would be refused too
            except VocError as exc:  # whoever waits in the channel (or thread) hears why, in Korean
                self.say_failure(exc)
                raise

    def say_failure(self, error: VocError) -> None:
        """The Korean failure notice, once per reason; straight to Slack when the ledger or the lock
        is what failed (neither can then keep it to once)."""
        notice = failure_notice(error.slack_text)
        try:
            if not isinstance(error, LedgerError | LockLostError):
                try:
                    self.send([notice], summary=None, force=False)
                    return
                except (LedgerError, LockLostError):
                    pass
            post_message(self.client, notice.post_args(self.channel, self.thread_ts))
        except (VocError, UnknownOutcome) as exc:
            run_logger(__name__).warning("The failure notice did not reach Slack: %s", exc)

    def say_status(self, status_ts: str | None, *, posted: int, quiet: bool) -> None:
        """Edit the mention's ⏳ message to the outcome: posted or already there (with the summary's
        link), or a quiet week left unposted."""
        if status_ts is None:
            return
        if quiet:
            text = quiet_week_text()
        else:
            link = permalink(self.client, self.channel, self.ledger.posted_ts(SUMMARY_KEY))
            text = done_text(link) if posted else already_posted_text(link)
        update_status(self.client, self.channel, status_ts, text)

    def delivered(self, force: bool) -> dict[str, Any] | None:
        """The table of a report already delivered complete (a rerun posts nothing), unless `force`.

        A forced delivery starts a new generation of the ledger, so if it dies part-way the next run
        completes the forced thread instead of finding the old report complete.
        """
        if force:
            self.ledger.start_over()
            return None
        table = self.ledger.get(COMPLETE_KEY)
        if table is EARLIER_VERSION_ENTRY:
            return {}  # delivered by an earlier version: its table is not read (never unpickled)
        return cast("dict[str, Any] | None", table)

    def unsent(self, categories: list[CategoryChange], force: bool) -> list[CategoryChange]:
        """The categories whose reply is not in Slack yet: a rerun analyses only those."""
        return [c for c in categories if not self.ledger.has(reply_key(c.category))]

    def send(
        self, messages: list[SlackMessage], summary: dict[str, Any] | None, force: bool
    ) -> tuple[int, int]:
        """Post what the ledger has not seen, then record the report complete; (posted, skipped)."""
        result = post_report(
            self.client,
            self.ledger,
            messages,
            self.channel,
            self.thread_ts,
            max_wait=self.max_wait,
            before_each=self.lock.check,
        )
        if summary is not None:
            self.lock.check()
            self.ledger.record(COMPLETE_KEY, summary)
        return result
