"""The @mention listener: `@VOC Weekly [week]` acknowledged in its thread, checked, and the report started.

The listener only answers, checks and starts; the flow run (a worker runs it) posts the summary and
the follow-ups. The weeks a mention may name are `flows.weeks.week_from_text`'s grammar.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, cast

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from flows.errors import one_line
from flows.settings import VocSettings
from flows.slack import mrkdwn
from flows.weeks import (
    WeekTextError,
    WeekTooOldError,
    has_ended,
    last_complete_week,
    week_from_text,
    week_range_text,
)

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

logger = logging.getLogger(__name__)

ACK_TEXT = ":hourglass_flowing_sand: 주간 VOC 변화를 확인 중입니다."
USAGE_TEXT = (
    ":information_source: 어느 주인지 알 수 없습니다. 멘션만 하면 가장 최근에 끝난 주를, "
    "`지난주`, `2주 전`, `2026-11-16`, `11/16` 처럼 쓰면 그 주를 보고합니다."
)
REFUSAL_TEXT = ":no_entry_sign: 이 채널에는 VOC 데이터를 올릴 수 없습니다."
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted"}
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")

StartReport = Callable[[VocSettings, str, str, date], Any]
SEEN_EVENTS_MAX = 1000  # Slack retries within minutes: a thousand recent mentions is plenty
SEEN_EVENTS_TTL_SECONDS = 3600.0


def register(app: App, settings: VocSettings, *, start: StartReport) -> None:
    """Slack's re-deliveries of an event are dropped; each `app_mention` goes to `handle_mention`."""
    app.middleware(ignore_redeliveries(SeenEvents()))

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        handle_mention(event, client, settings, bot_user_id=context.bot_user_id, start=start)


class SeenEvents:
    """The event_ids handled recently (bounded by count and age), so Slack's re-deliveries are ignored."""

    def __init__(self, max_size: int = SEEN_EVENTS_MAX, ttl: float = SEEN_EVENTS_TTL_SECONDS) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max_size, self._ttl = max_size, ttl
        self._lock = threading.Lock()  # Socket Mode dispatches events from a pool of threads

    def first_time(self, event_id: str) -> bool:
        """Remember `event_id`; True unless it was seen within the TTL."""
        now = time.monotonic()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - self._ttl:
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            if len(self._seen) >= self._max_size:  # room is made only after looking
                self._seen.popitem(last=False)
            self._seen[event_id] = now
            return True


def ignore_redeliveries(seen: SeenEvents) -> Callable[..., BoltResponse | None]:
    """Bolt middleware: an event Slack sends again (X-Slack-Retry-Num, same event_id) is acked and dropped."""

    def middleware(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not seen.first_time(event_id):
            logger.info("Event %s was delivered again by Slack: acknowledged and ignored", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return middleware


def handle_mention(
    event: dict[str, Any],
    client: WebClient,
    settings: VocSettings,
    *,
    bot_user_id: str | None,
    start: StartReport,
    now: datetime | None = None,
) -> None:
    """Answer one `app_mention` in its thread and, if it may and names a week that ended, start the report."""
    if is_ignored(event, bot_user_id):
        return
    channel, thread_ts = str(event["channel"]), str(event.get("thread_ts") or event["ts"])
    now = now or datetime.now(UTC)
    if channel not in settings.allowed_bot_channels:
        logger.info("Mention in %s refused: not an allowed channel (VOC_BOT_ALLOWED_CHANNELS)", channel)
        _reply(client, channel, thread_ts, refusal_text(settings))
        return
    try:
        # No week named: the latest complete one, fixed now, so a mention next week is a new report.
        text = _MENTION.sub(" ", str(event.get("text") or ""))
        week = week_from_text(text, now, settings.max_weeks_back) or last_complete_week(now)
    except WeekTooOldError as exc:  # VOC_MAX_WEEKS_BACK
        _reply(client, channel, thread_ts, exc.slack_text)
        return
    except WeekTextError:
        _reply(client, channel, thread_ts, USAGE_TEXT)
        return
    if not has_ended(week, now):  # the flow would refuse it
        _reply(client, channel, thread_ts, not_ended_text(week, now))
        return
    _reply(client, channel, thread_ts, ACK_TEXT)
    try:
        flow_run = start(settings, channel, thread_ts, week)
    except Exception as exc:  # whatever it is, the person who asked must hear that nothing will come
        logger.warning(
            "Could not start %s for %s/%s: %s", settings.bot_deployment, channel, thread_ts, one_line(exc)
        )
        _reply(client, channel, thread_ts, start_failure_text(settings, exc))
        return
    logger.info(
        "Started flow run %s of %s for %s/%s, week %s",
        getattr(flow_run, "name", flow_run),
        settings.bot_deployment,
        channel,
        thread_ts,
        week,
    )


def is_ignored(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Bot messages (ours included, so no loops), edits and deletions trigger nothing."""
    return bool(
        event.get("bot_id")
        or event.get("subtype") in IGNORED_SUBTYPES
        or "edited" in event
        or (bot_user_id and event.get("user") == bot_user_id)
    )


def refusal_text(settings: VocSettings) -> str:
    """The answer in a channel that may not receive VOC data, naming where to ask instead."""
    channels = [f"<#{c}>" for c in settings.allowed_bot_channels if CHANNEL_ID.match(c)]
    return REFUSAL_TEXT + (f" 리포트는 {', '.join(channels)} 에서 요청해 주세요." if channels else "")


def not_ended_text(week: date, now: datetime) -> str:
    """The answer for a week that has not ended yet, naming the latest one that has."""
    latest = week_range_text(last_complete_week(now))
    return f":calendar: {week_range_text(week)} 주는 아직 끝나지 않았습니다 (가장 최근에 끝난 주: {latest})."


def idempotency_key(channel: str, thread_ts: str, week: date) -> str:
    """One flow run per channel, thread and week: Slack's retries and repeated mentions reuse it."""
    return f"voc-weekly:{channel}:{thread_ts}:{week.isoformat()}"


def start_report(settings: VocSettings, channel: str, thread_ts: str, week: date) -> FlowRun:
    """Create a flow run of the bot's deployment that reports in the thread (a worker runs it)."""
    from prefect.deployments import run_deployment

    run = run_deployment(
        name=settings.bot_deployment,
        parameters={"channel": channel, "thread_ts": thread_ts, "week_start": week},
        timeout=0,  # return once created: the bot does not wait for the report
        idempotency_key=idempotency_key(channel, thread_ts, week),
        as_subflow=False,
    )
    return cast("FlowRun", run)  # sync here: run_deployment returns a coroutine only inside a loop


def start_failure_text(settings: VocSettings, error: Exception) -> str:
    """One line for the thread saying why the report did not start (no stack trace, no secrets)."""
    import httpx
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

    if isinstance(error, ObjectNotFound):
        reason = f"배포 {mrkdwn.escape(settings.bot_deployment)} 를 찾을 수 없습니다."
    elif isinstance(error, PrefectHTTPStatusError):
        reason = f"Prefect API가 오류로 답했습니다 (HTTP {error.response.status_code})."
    elif isinstance(error, httpx.HTTPError):
        reason = "Prefect API에 연결할 수 없습니다."
    else:
        reason = f"예상하지 못한 오류입니다 ({type(error).__name__})."
    return f":x: 리포트를 시작하지 못했습니다: {reason}"


def _reply(client: WebClient, channel: str, thread_ts: str, text: str) -> None:
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
    except SlackApiError as exc:  # the bot keeps serving other mentions; the reason goes to its log
        logger.warning("Could not reply in %s/%s: %s", channel, thread_ts, exc.response.get("error"))
    except (SlackClientError, OSError, HTTPException) as exc:  # unreachable, timed out, dropped
        logger.warning("Could not reply in %s/%s: %s", channel, thread_ts, one_line(exc))
