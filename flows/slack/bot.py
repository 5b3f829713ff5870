"""The Slack @mention bot: `@VOC Weekly [week]` starts the `ad-hoc` deployment, which reports in the thread.

Socket Mode by default (no public URL needed), or Slack's Events API over HTTP (`/slack/events`).
The bot only acknowledges, checks and starts; the flow run posts the summary and follow-ups.

Weeks a mention may name (after the `<@U…>` mention is removed; spaces and a trailing `.?!` don't
matter, and anything else gets a usage hint):

- nothing: the last complete KST week (the flow's default);
- `2026-11-16` (any day of the week; also `2026-1-5`), or `11/16`: that date this year, or last year
  if it has not come yet;
- `지난주` / `저번주` = `1주 전`: the last complete week; `N주 전`: N-1 weeks before that one;
- `이번주` = `0주 전`: the current week, which is refused because it has not ended.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, cast

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from flows.errors import VocError, WeekError
from flows.settings import VocSettings
from flows.slack import mrkdwn
from flows.slack.delivery import FATAL_SLACK_ERRORS, slack_client, slack_token
from flows.weeks import KST, last_complete_week, resolve_report_week, week_monday, week_range_text

if TYPE_CHECKING:
    import socket

    import uvicorn
    from prefect.client.schemas.objects import FlowRun
    from slack_bolt.adapter.socket_mode import SocketModeHandler

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
ACK_TEXT = ":hourglass_flowing_sand: 주간 VOC 변화를 확인 중입니다."
USAGE_TEXT = (
    ":information_source: 어느 주인지 알 수 없습니다. 멘션만 하면 가장 최근에 끝난 주를, "
    "`지난주`, `2주 전`, `2026-11-16`, `11/16` 처럼 쓰면 그 주를 보고합니다."
)
REFUSAL_TEXT = ":no_entry_sign: 이 채널에는 VOC 데이터를 올릴 수 없습니다."
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted"}
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTH_DAY = re.compile(r"(\d{1,2})/(\d{1,2})")
_WEEKS_AGO = re.compile(r"(\d{1,3})\s*주\s*전")
_LAST_WEEK = re.compile(r"(지난|저번)\s*주")
_THIS_WEEK = re.compile(r"이번\s*주")

StartReport = Callable[[VocSettings, str, str, date], Any]
SEEN_EVENTS_MAX = 1000  # Slack retries within minutes: a thousand recent mentions is plenty
SEEN_EVENTS_TTL_SECONDS = 3600.0


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
            while self._seen and (
                len(self._seen) >= self._max_size or next(iter(self._seen.values())) < now - self._ttl
            ):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True


class WeekTextError(ValueError):
    """The text of a mention names no week the bot understands."""


def parse_week(text: str, now: datetime) -> date | None:
    """The KST Monday of the week a mention names, or None for no week (the latest complete one)."""
    words = " ".join(_MENTION.sub(" ", text).split()).rstrip(".?!").strip()
    if not words:
        return None
    today = now.astimezone(KST).date()
    try:
        if match := _ISO_DATE.fullmatch(words):
            return week_monday(date(*(int(part) for part in match.groups())))
        if match := _MONTH_DAY.fullmatch(words):
            return week_monday(_recent_date(int(match[1]), int(match[2]), today))
        if _LAST_WEEK.fullmatch(words):
            return last_complete_week(now)
        if _THIS_WEEK.fullmatch(words):
            return week_monday(today)
        if match := _WEEKS_AGO.fullmatch(words):
            return last_complete_week(now) - timedelta(weeks=int(match[1]) - 1)
    except (ValueError, OverflowError) as exc:  # 2026-02-30, 13/1
        raise WeekTextError(f"no such date: {words}") from exc
    raise WeekTextError(f"not a week: {words}")


def _recent_date(month: int, day: int, today: date) -> date:
    """`month/day` this year, or last year if it has not come yet (or only exists then: 2/29)."""
    for year in (today.year, today.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    raise ValueError(f"no date {month}/{day} in the past year")


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
        week = parse_week(str(event.get("text") or ""), now) or last_complete_week(now)
    except WeekTextError:
        _reply(client, channel, thread_ts, USAGE_TEXT)
        return
    if not_ended := not_ended_text(week, now):
        _reply(client, channel, thread_ts, not_ended)
        return
    _reply(client, channel, thread_ts, ACK_TEXT)
    try:
        flow_run = start(settings, channel, thread_ts, week)
    except Exception as exc:  # whatever it is, the person who asked must hear that nothing will come
        logger.warning(
            "Could not start %s for %s/%s: %s", settings.bot_deployment, channel, thread_ts, _one_line(exc)
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


def not_ended_text(week: date, now: datetime) -> str | None:
    """What to answer for a week that has not ended yet (the flow would refuse it), else None."""
    try:
        resolve_report_week(week, now)
    except WeekError:
        latest = week_range_text(last_complete_week(now))
        return (
            f":calendar: {week_range_text(week)} 주는 아직 끝나지 않았습니다 (가장 최근에 끝난 주: {latest})."
        )
    return None


def _reply(client: WebClient, channel: str, thread_ts: str, text: str) -> None:
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
    except SlackApiError as exc:  # the bot keeps serving other mentions; the reason goes to its log
        logger.warning("Could not reply in %s/%s: %s", channel, thread_ts, exc.response.get("error"))
    except (SlackClientError, OSError, HTTPException) as exc:  # unreachable, timed out, dropped
        logger.warning("Could not reply in %s/%s: %s", channel, thread_ts, _one_line(exc))


def _one_line(error: Exception) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first[:200]}"


def build_app(settings: VocSettings, *, start_report: StartReport = start_report) -> App:
    """The Bolt app: its WebClient on `settings.slack_api_url` with the bot token, and the mention handler."""
    client = bot_client(settings)
    secret = settings.slack_signing_secret
    app = App(
        client=client,
        # Socket Mode needs no signing secret; a random one makes every HTTP request fail
        # verification instead of passing an HMAC with an empty key.
        signing_secret=secret.get_secret_value() if secret else secrets.token_urlsafe(32),
        logger=logging.getLogger("flows.slack.bot.bolt"),
    )

    seen = SeenEvents()

    @app.middleware
    def ignore_redeliveries(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        """Acknowledge an event Slack sends again (X-Slack-Retry-Num, same event_id) and do nothing."""
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not seen.first_time(event_id):
            logger.info("Event %s was delivered again by Slack: acknowledged and ignored", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], context: Any, client: WebClient) -> None:
        handle_mention(event, client, settings, bot_user_id=context.bot_user_id, start=start_report)

    return app


def bot_client(settings: VocSettings) -> WebClient:
    """The bot token's WebClient, or a one-line error when no token is configured."""
    token = slack_token(settings)
    if token is None:
        raise VocError("no Slack bot token: set SLACK_BOT_TOKEN (xoxb-…) or VOC_SLACK_CREDENTIALS_BLOCK")
    return slack_client(token, settings.slack_api_url)


def bot_identity(client: WebClient) -> str:
    """`auth.test` with the bot token: the bot's name, or a one-line error naming the fix."""
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        hint = FATAL_SLACK_ERRORS.get(error, "Slack refused the bot token ({error})")
        raise VocError(hint.format(channel="", error=error)) from None
    except (SlackClientError, OSError) as exc:
        raise VocError(
            f"cannot reach the Slack API at {client.base_url} ({_one_line(exc)}): check VOC_SLACK_API_URL"
        ) from None
    return str(response.get("user") or response.get("user_id"))


def check_mode_settings(settings: VocSettings, *, http: bool) -> None:
    """The secret the chosen mode needs, and channels that can trigger a report, or a one-line error."""
    if http and settings.slack_signing_secret is None:
        raise VocError("HTTP mode needs SLACK_SIGNING_SECRET (Basic Information → Signing Secret)")
    if not http:
        app_token(settings)
    channels = settings.allowed_bot_channels
    if not channels:
        raise VocError("no channel may trigger a report: set VOC_BOT_ALLOWED_CHANNELS or VOC_SLACK_CHANNEL")
    if bad := [c for c in channels if not CHANNEL_ID.match(c)]:
        # Events carry channel IDs: a name here would make every mention a refusal.
        raise VocError(
            f"allowed bot channel {bad[0]!r} is not a channel ID (C…): use the ID from the channel's "
            "details in VOC_BOT_ALLOWED_CHANNELS / VOC_SLACK_CHANNEL"
        )


def app_token(settings: VocSettings) -> str:
    """The app-level token Socket Mode connects with, or a one-line error naming the fix."""
    token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    if not token.startswith("xapp-"):
        problem = "is not set" if not token else "is not an app-level token (xapp-…)"
        raise VocError(
            f"SLACK_APP_TOKEN {problem}: create one with the connections:write scope under Basic "
            "Information → App-Level Tokens, or run the bot with --http"
        )
    return token


def check_deployment(settings: VocSettings) -> None:
    """The bot's deployment exists on the Prefect API, or a one-line error."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(settings.bot_deployment)
    except ObjectNotFound:
        raise VocError(
            f"deployment {settings.bot_deployment} not found on the Prefect API: deploy it "
            "(prefect deploy) or set VOC_BOT_DEPLOYMENT"
        ) from None
    except Exception as exc:  # connection refused, 5xx, bad URL: the check fails the same way
        api = PREFECT_API_URL.value() or "(the temporary local server)"
        raise VocError(f"cannot read deployments from the Prefect API at {api}: {_one_line(exc)}") from None


def check_bot(settings: VocSettings, *, http: bool = False) -> str:
    """`voc-weekly bot --check`: tokens, channels and the deployment; one OK line or a one-line error."""
    check_mode_settings(settings, http=http)
    name = bot_identity(bot_client(settings))
    check_deployment(settings)
    return (
        f"OK: Slack bot @{name} ({_mode(http)}), deployment {settings.bot_deployment} found, "
        f"mentions allowed in {', '.join(settings.allowed_bot_channels)}"
    )


def _mode(http: bool) -> str:
    return "HTTP mode" if http else "Socket Mode"


def http_server(app: App, host: str = "0.0.0.0", port: int = 3000) -> tuple[uvicorn.Server, socket.socket]:
    """uvicorn around Bolt's ASGI adapter (POST /slack/events, signature-verified by Bolt), and its socket.

    The socket is bound here, before serving, so the startup line can name the port (port 0: a free one).
    """
    import uvicorn
    from slack_bolt.adapter.asgi import SlackRequestHandler

    # Our logging, not uvicorn's: its default config would replace the handlers of the bot's log.
    config = uvicorn.Config(SlackRequestHandler(app, path=EVENTS_PATH), host=host, port=port, log_config=None)
    return uvicorn.Server(config), config.bind_socket()


def run_bot(settings: VocSettings, *, http: bool = False, host: str = "0.0.0.0", port: int = 3000) -> None:
    """Serve mentions until interrupted: Socket Mode, or HTTP on host:port/slack/events."""
    _configure_logging()
    check_mode_settings(settings, http=http)
    name = bot_identity(bot_client(settings))
    app = build_app(settings)
    if http:
        server, sock = http_server(app, host, port)
        where = f"http://{host}:{sock.getsockname()[1]}{EVENTS_PATH}"
        logger.info("VOC Weekly bot listening as @%s (HTTP mode, %s); %s", name, where, _target(settings))
        # uvicorn shuts down gracefully on Ctrl-C, then re-raises it as KeyboardInterrupt.
        _serve_until_interrupted(lambda: server.run(sockets=[sock]), sock.close)
    else:
        handler = connect_socket_mode(app, settings, name)
        _serve_until_interrupted(threading.Event().wait, handler.close)


def connect_socket_mode(app: App, settings: VocSettings, name: str) -> SocketModeHandler:
    """Open the Socket Mode connection with SLACK_APP_TOKEN and log that the bot is up."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token(settings))
    try:
        handler.connect()
    except SlackApiError as exc:
        error = exc.response.get("error")
        raise VocError(f"Slack refused SLACK_APP_TOKEN ({error}): check the app-level token") from None
    except (SlackClientError, OSError) as exc:
        raise VocError(f"cannot open a Socket Mode connection: {_one_line(exc)}") from None
    logger.info("VOC Weekly bot connected as @%s (Socket Mode); %s", name, _target(settings))
    return handler


def _target(settings: VocSettings) -> str:
    return f"reports go to deployment {settings.bot_deployment}"


def _serve_until_interrupted(serve: Callable[[], Any], close: Callable[[], Any]) -> None:
    try:
        serve()
    except KeyboardInterrupt:
        logger.info("VOC Weekly bot stopped")
    finally:
        close()


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.setLevel(logging.INFO)
    # slack_sdk's INFO lines are per-connection chatter; its DEBUG lines would include request bodies.
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    # uvicorn's INFO lines repeat the startup line above and log every request; its errors still show.
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
