"""Asking the bot for a report in a message: `@VOC Weekly [week]` in a channel, or a direct message.

Each ask is answered where it was made and checked; one that may, and names a week that has ended
and is not in the channel yet, starts the report (a flow run of the bot's deployment, which a
worker runs; it edits the bot's ⏳ answer when it ends). The weeks a message may name are
`flows.weeks.week_from_text`'s grammar. What every kind of ask shares (the request, starting it,
the link to a week already posted) is here too; the slash command is `flows.slack.commands`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, cast

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from flows.errors import one_line
from flows.settings import VocSettings
from flows.slack import mrkdwn
from flows.slack.ledger import DeliveryLedger
from flows.slack.messages import SUMMARY_KEY
from flows.weeks import (
    DEFAULT_MAX_WEEKS_BACK,
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
DM_USAGE_TEXT = (
    ":information_source: 어느 주인지 알 수 없습니다. `지난주`, `2주 전`, `2026-11-16`, `11/16` 처럼 "
    "보고할 주를 보내 주세요."
)
REFUSAL_TEXT = ":no_entry_sign: 이 채널에는 VOC 데이터를 올릴 수 없습니다."
DMS_OFF_TEXT = (
    ":no_entry_sign: DM으로는 리포트를 받을 수 없습니다 (VOC 데이터에는 고객 문의 내용이 있습니다)."
)
DM_USER_REFUSAL_TEXT = ":no_entry_sign: DM으로 리포트를 받을 수 있는 사람이 아닙니다."
LEDGER_FAILURE_TEXT = (  # the ledger lives in Prefect's result storage, found through the Prefect API
    ":x: 리포트를 시작하지 못했습니다: 이 주의 리포트가 이미 올라가 있는지 확인할 수 없습니다 "
    "(Prefect API 또는 결과 저장소에 연결할 수 없습니다). 잠시 후 다시 요청해 주세요."
)
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted"}
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")

SEEN_EVENTS_MAX = 1000  # Slack retries within minutes: a thousand recent mentions is plenty
SEEN_EVENTS_TTL_SECONDS = 3600.0


@dataclass(frozen=True)
class ReportRequest:
    """One report someone asked the bot for: where it goes, which week, and what names the ask."""

    channel: str
    week: date
    key: str  # the flow run's idempotency key: the ask itself (Slack's re-deliveries carry the same)
    thread_ts: str | None = None  # the report's thread; None: a new summary in the channel
    status_ts: str | None = None  # the bot's ⏳ answer, which the flow run edits when it ends
    force: bool = False

    def parameters(self) -> dict[str, Any]:
        """The flow run's parameters: those the ask sets, so a run reads like one started by hand."""
        parameters: dict[str, Any] = {"channel": self.channel, "week_start": self.week}
        if self.thread_ts is not None:
            parameters["thread_ts"] = self.thread_ts
        if self.status_ts is not None:
            parameters["status_ts"] = self.status_ts
        if self.force:
            parameters["force"] = True
        return parameters


StartReport = Callable[[VocSettings, ReportRequest], Any]
Reply = Callable[[str], "str | None"]  # post one answer where the ask was made; its ts, or None


def register(app: App, settings: VocSettings, *, start: StartReport) -> None:
    """Slack's re-deliveries are dropped; mentions go to `handle_mention`, DMs to `handle_direct_message`."""
    app.middleware(ignore_redeliveries(SeenEvents()))

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        handle_mention(event, client, settings, bot_user_id=context.bot_user_id, start=start)

    @app.event("message")
    def on_message(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        handle_direct_message(event, client, settings, bot_user_id=context.bot_user_id, start=start)


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
    reply = _poster(client, channel, thread_ts)
    if channel not in settings.allowed_bot_channels:
        logger.info("Mention in %s refused: not an allowed channel (VOC_BOT_ALLOWED_CHANNELS)", channel)
        reply(refusal_text(settings))
        return
    week = _week_or_answer(event, reply, now or datetime.now(UTC), USAGE_TEXT, settings.max_weeks_back)
    if week is not None:
        request = ReportRequest(channel, week, ask_key("mention", channel, str(event["ts"])), thread_ts)
        start_unless_delivered(client, settings, request, reply, start)


def handle_direct_message(
    event: dict[str, Any],
    client: WebClient,
    settings: VocSettings,
    *,
    bot_user_id: str | None,
    start: StartReport,
    now: datetime | None = None,
) -> None:
    """Answer a direct message to the bot in that DM and, if DMs are on for its sender, report there."""
    # Only a person's own new words: any subtype (an edit, a bot, a file shared) is not an ask.
    if event.get("channel_type") != "im" or event.get("subtype") or is_ignored(event, bot_user_id):
        return
    channel, user = str(event["channel"]), str(event.get("user") or "")
    reply = _poster(client, channel, None)
    if not settings.bot_allow_dms:
        logger.info("DM from %s refused: DMs are off (VOC_BOT_ALLOW_DMS)", user)
        reply(f"{DMS_OFF_TEXT} {who_to_ask(settings)}")
        return
    if settings.bot_allowed_users and user not in settings.bot_allowed_users:
        logger.info("DM from %s refused: not in VOC_BOT_ALLOWED_USERS", user)
        reply(f"{DM_USER_REFUSAL_TEXT} {who_to_ask(settings)}")
        return
    week = _week_or_answer(event, reply, now or datetime.now(UTC), DM_USAGE_TEXT, settings.max_weeks_back)
    if week is not None:
        request = ReportRequest(channel, week, ask_key("dm", channel, str(event["ts"])))
        start_unless_delivered(client, settings, request, reply, start)


def _week_or_answer(
    event: dict[str, Any], reply: Reply, now: datetime, usage: str, max_weeks_back: int
) -> date | None:
    """The week a message names (none: the latest complete one), or None after saying why there is none."""
    try:
        week = requested_week(str(event.get("text") or ""), now, max_weeks_back)
    except WeekTooOldError as exc:  # older than VOC_MAX_WEEKS_BACK
        reply(exc.slack_text)
        return None
    except WeekTextError:
        reply(usage)
        return None
    if not has_ended(week, now):  # the flow would refuse it
        reply(not_ended_text(week, now))
        return None
    return week


def requested_week(text: str, now: datetime, max_weeks_back: int = DEFAULT_MAX_WEEKS_BACK) -> date:
    """The week `text` names, mentions of users left out; naming none, the latest complete week.

    The latest complete week is fixed now, so the same ask next week is a new report. A week more
    than `max_weeks_back` weeks back raises WeekTooOldError (with the answer to give).
    """
    return week_from_text(_MENTION.sub(" ", text), now, max_weeks_back) or last_complete_week(now)


def start_unless_delivered(
    client: WebClient, settings: VocSettings, request: ReportRequest, reply: Reply, start: StartReport
) -> None:
    """Link the week's summary if the channel has it; else answer ⏳ and start the report (or say why not)."""
    try:
        delivered = delivered_summary(client, request.channel, request.week)
    except Exception as exc:  # an unreadable ledger is not an empty one: nothing may be posted twice
        logger.warning("Could not read the delivery ledger of %s: %s", request.channel, one_line(exc))
        reply(LEDGER_FAILURE_TEXT)
        return
    if delivered is not None:
        reply(already_delivered_text(request.week, delivered))
        return
    status_ts = reply(ACK_TEXT)
    started(settings, replace(request, status_ts=status_ts), start, reply)


def started(settings: VocSettings, request: ReportRequest, start: StartReport, say: Reply) -> bool:
    """Start the report; if it cannot start, `say` one line why (no stack trace, no secrets)."""
    where = f"{request.channel}/{request.thread_ts or '-'}"
    try:
        flow_run = start(settings, request)
    except Exception as exc:  # whatever it is, the person who asked must hear that nothing will come
        logger.warning("Could not start %s for %s: %s", settings.bot_deployment, where, one_line(exc))
        say(start_failure_text(settings, exc))
        return False
    name = getattr(flow_run, "name", flow_run)
    logger.info(
        "Started flow run %s of %s for %s, week %s", name, settings.bot_deployment, where, request.week
    )
    return True


def is_ignored(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Bot messages (ours included, so no loops), edits and deletions trigger nothing."""
    return bool(
        event.get("bot_id")
        or event.get("subtype") in IGNORED_SUBTYPES
        or "edited" in event
        or (bot_user_id and event.get("user") == bot_user_id)
    )


def ask_key(kind: str, channel: str, ask_id: str) -> str:
    """The idempotency key of one ask (a message's ts, a slash command's trigger_id).

    Slack's re-deliveries of an ask share it, so they create one flow run; asking again (after a
    failure, say) is a new ask and a new run, and the flow's ledger keeps it from posting twice.
    """
    return f"voc-weekly:{kind}:{channel}:{ask_id}"


def start_report(settings: VocSettings, request: ReportRequest) -> FlowRun:
    """Create a flow run of the bot's deployment for the request (a worker runs it)."""
    from prefect.deployments import run_deployment

    run = run_deployment(
        name=settings.bot_deployment,
        parameters=request.parameters(),
        timeout=0,  # return once created: the bot does not wait for the report
        idempotency_key=request.key,
        as_subflow=False,
    )
    return cast("FlowRun", run)  # sync here: run_deployment returns a coroutine only inside a loop


@dataclass(frozen=True)
class Delivered:
    """A week's summary already in a channel: its ts, and its link when Slack gave one."""

    ts: str
    permalink: str | None


def delivered_summary(client: WebClient, channel: str, week: date) -> Delivered | None:
    """The summary of `week` already posted in `channel` (not inside a thread), from the delivery ledger.

    Raises whatever the ledger's storage raises: an unreadable ledger is not an empty one.
    """
    ts = DeliveryLedger(channel, None, week).posted_ts(SUMMARY_KEY)
    if ts is None:
        return None
    try:
        permalink = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:  # deleted since, say: the answer still says where it went
        logger.warning("No link to %s/%s: %s", channel, ts, exc.response.get("error"))
        permalink = None
    except (SlackClientError, OSError, HTTPException) as exc:
        logger.warning("No link to %s/%s: %s", channel, ts, one_line(exc))
        permalink = None
    return Delivered(ts, str(permalink) if permalink else None)


def already_delivered_text(week: date, delivered: Delivered) -> str:
    """The answer for a week whose report the channel already has: a link to it, nothing started."""
    link = f" <{delivered.permalink}|리포트 보기>" if delivered.permalink else ""
    return f":white_check_mark: {week_range_text(week)} 주 리포트는 이미 이 채널에 올라가 있습니다.{link}"


def refusal_text(settings: VocSettings) -> str:
    """The answer in a channel that may not receive VOC data, naming where to ask instead."""
    channels = [f"<#{c}>" for c in settings.allowed_bot_channels if CHANNEL_ID.match(c)]
    return REFUSAL_TEXT + (f" 리포트는 {', '.join(channels)} 에서 요청해 주세요." if channels else "")


def who_to_ask(settings: VocSettings) -> str:
    """Whom to ask for access: the bot's admins by name (a mention in a DM notifies no one else)."""
    if settings.bot_admins:
        return f"{', '.join(f'<@{user}>' for user in settings.bot_admins)} 에게 문의해 주세요."
    return "봇 관리자에게 문의해 주세요."


def not_ended_text(week: date, now: datetime) -> str:
    """The answer for a week that has not ended yet, naming the latest one that has."""
    latest = week_range_text(last_complete_week(now))
    return f":calendar: {week_range_text(week)} 주는 아직 끝나지 않았습니다 (가장 최근에 끝난 주: {latest})."


def start_failure_text(settings: VocSettings, error: Exception) -> str:
    """One line saying why the report did not start (no stack trace, no secrets)."""
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


def _poster(client: WebClient, channel: str, thread_ts: str | None) -> Reply:
    """Post answers in `channel` (inside `thread_ts` when given); a failure is logged, not raised."""
    where = f"{channel}/{thread_ts}" if thread_ts else channel

    def reply(text: str) -> str | None:
        try:
            response = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
        except SlackApiError as exc:  # the bot keeps serving others; the reason goes to its log
            logger.warning("Could not reply in %s: %s", where, exc.response.get("error"))
            return None
        except (SlackClientError, OSError, HTTPException) as exc:  # unreachable, timed out, dropped
            logger.warning("Could not reply in %s: %s", where, one_line(exc))
            return None
        return str(response.get("ts") or "") or None

    return reply
