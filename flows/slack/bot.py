"""The Slack bot process: the Bolt app and its wiring, `--check`, Socket Mode and the HTTP server.

Socket Mode by default (no public URL needed), or Slack's Events API and slash commands over HTTP
(`/slack/events`) on uvicorn. Both serve the health endpoints (`flows.slack.health`; Socket Mode on
`--health-port`) and stop cleanly on SIGTERM (`flows.slack.lifecycle`). The listeners are
`flows.slack.mentions` (mentions, DMs) and `flows.slack.commands` (`/voc-weekly`). The bot token is
looked up once and its one WebClient is passed down.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from flows.errors import VocError, one_line
from flows.settings import VocSettings
from flows.slack import commands, mentions
from flows.slack.client import FATAL_SLACK_ERRORS, slack_client, slack_token
from flows.slack.health import ConnectionWatch, Health, health_app, health_routes
from flows.slack.lifecycle import (
    ACK_GRACE_SECONDS,
    ListenerThreads,
    Stop,
    StoppableSocketModeHandler,
    stop_on_signals,
)

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
BOLT_LOGGER = "flows.slack.bot.bolt"
CONNECTION_CHECK_SECONDS = 1.0  # how often Socket Mode's connection is looked at (for /healthz)


def build_app(
    settings: VocSettings,
    client: WebClient,
    *,
    start: mentions.StartReport = mentions.start_report,
    listeners: ListenerThreads | None = None,
) -> App:
    """The Bolt app on the bot's WebClient: mentions, DMs and `/voc-weekly`, run on `listeners`."""
    secret = settings.slack_signing_secret
    app = App(
        client=client,
        # Socket Mode needs no signing secret; a random one makes every HTTP request fail
        # verification instead of passing an HMAC with an empty key.
        signing_secret=secret.get_secret_value() if secret else secrets.token_urlsafe(32),
        logger=logging.getLogger(BOLT_LOGGER),
        listener_executor=listeners or ListenerThreads(),
    )
    mentions.register(app, settings, start=start)
    commands.register(app, settings, start=start)
    return app


def bot_client(settings: VocSettings) -> WebClient:
    """The bot token's WebClient (the token looked up here, once), or a one-line error when none is set."""
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
            f"cannot reach the Slack API at {client.base_url} ({one_line(exc)}): check VOC_SLACK_API_URL"
        ) from None
    return str(response.get("user") or response.get("user_id"))


def check_mode_settings(settings: VocSettings, *, http: bool) -> str | None:
    """Check the secret the mode needs and the channels that can trigger a report (one-line errors).

    Returns the app-level token Socket Mode connects with, or None in HTTP mode.
    """
    if http and settings.slack_signing_secret is None:
        raise VocError("HTTP mode needs SLACK_SIGNING_SECRET (Basic Information → Signing Secret)")
    token = None if http else app_token(settings)
    channels = settings.allowed_bot_channels
    if not channels:
        raise VocError("no channel may trigger a report: set VOC_BOT_ALLOWED_CHANNELS or VOC_SLACK_CHANNEL")
    if bad := [c for c in channels if not mentions.CHANNEL_ID.match(c)]:
        # Events carry channel IDs: a name here would make every mention a refusal.
        raise VocError(
            f"allowed bot channel {bad[0]!r} is not a channel ID (C…): use the ID from the channel's "
            "details in VOC_BOT_ALLOWED_CHANNELS / VOC_SLACK_CHANNEL"
        )
    return token


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
        raise VocError(f"cannot read deployments from the Prefect API at {api}: {one_line(exc)}") from None


def check_bot(settings: VocSettings, *, http: bool = False) -> str:
    """`voc-weekly bot --check`: tokens, channels and the deployment; one OK line or a one-line error."""
    check_mode_settings(settings, http=http)
    name = bot_identity(bot_client(settings))
    check_deployment(settings)
    return (
        f"OK: Slack bot @{name} ({_mode(http)}), deployment {settings.bot_deployment} found, "
        f"mentions and /voc-weekly allowed in {', '.join(settings.allowed_bot_channels)}, "
        f"DMs {_dms(settings)}"
    )


def _dms(settings: VocSettings) -> str:
    if not settings.bot_allow_dms:
        return "off"
    return f"on for {', '.join(settings.bot_allowed_users)}" if settings.bot_allowed_users else "on"


def _mode(http: bool) -> str:
    return "HTTP mode" if http else "Socket Mode"


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (port 0: a free one), or a one-line error (port in use, bad address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        # uvicorn would bind it too, but exit(3) with a log line when it cannot.
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else one_line(exc)  # without create_server's suffix
        raise VocError(
            f"cannot listen on {host}:{port} ({reason}): choose another --port or --host"
        ) from None


def http_app(app: App, health: Health) -> Starlette:
    """POST /slack/events to Bolt (which verifies Slack's signature), and the health endpoints."""
    from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def slack_events(request: Request) -> Response:
        bolt_request = to_bolt_request(request, await request.body())
        # Bolt's dispatch blocks until the listener acknowledges: in a thread, the health
        # endpoints and other requests are answered meanwhile.
        return to_starlette_response(await run_in_threadpool(app.dispatch, bolt_request))

    return Starlette(routes=[*health_routes(health), Route(EVENTS_PATH, slack_events, methods=["POST"])])


def http_server(asgi: Starlette, sock: socket.socket, stop: Stop | None = None) -> uvicorn.Server:
    """uvicorn serving `asgi` on `sock`; on SIGTERM it stops accepting and finishes the requests under way."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if stop is not None:  # the stop deadline counts from now, not from when uvicorn is done
                stop.request()
            super().handle_exit(sig, frame)

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_config=None,  # our logging, not uvicorn's: its default config would replace the bot's handlers
        timeout_graceful_shutdown=int(ACK_GRACE_SECONDS),
    )
    return Server(config)


@dataclass
class HttpBot:
    """The HTTP-mode bot, bound and identified, ready to serve."""

    server: uvicorn.Server
    sock: socket.socket
    health: Health
    listeners: ListenerThreads

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])


def http_bot(
    settings: VocSettings,
    client: WebClient,
    host: str,
    port: int,
    *,
    start: mentions.StartReport = mentions.start_report,
    stop: Stop | None = None,
) -> HttpBot:
    """Bind host:port, run auth.test and build the app: POST /slack/events and the health endpoints."""
    sock = listening_socket(host, port)
    health = Health(settings.bot_deployment, socket_mode=False)
    health.bot_user = bot_identity(client)
    listeners = ListenerThreads(stop)
    app = build_app(settings, client, start=start, listeners=listeners)
    return HttpBot(http_server(http_app(app, health), sock, stop), sock, health, listeners)


def run_bot(
    settings: VocSettings,
    *,
    http: bool = False,
    host: str = "0.0.0.0",
    port: int = 3000,
    health_port: int | None = None,
) -> None:
    """Serve until SIGTERM or Ctrl-C, then exit cleanly: Socket Mode (health on `health_port`), or HTTP."""
    _configure_logging()
    if http and health_port is not None:
        raise VocError("--health-port is for Socket Mode: HTTP mode serves /healthz and /readyz on --port")
    socket_mode_token = check_mode_settings(settings, http=http)
    client = bot_client(settings)
    with stop_on_signals() as stop:
        if socket_mode_token is None:
            bot = http_bot(settings, client, host, port, stop=stop)
            where = f"http://{host}:{bot.port}{EVENTS_PATH}"
            logger.info(
                "VOC Weekly bot listening as @%s (HTTP mode, %s); %s",
                bot.health.bot_user,
                where,
                _target(settings),
            )
            try:
                if not stop.requested():
                    bot.server.run(sockets=[bot.sock])  # on SIGTERM: stops accepting, answers those under way
            finally:
                bot.sock.close()
            bot.listeners.finish()
        else:
            serve_socket_mode(settings, client, socket_mode_token, stop, host, health_port)
    logger.info("VOC Weekly bot stopped")


def serve_socket_mode(
    settings: VocSettings, client: WebClient, token: str, stop: Stop, host: str, health_port: int | None
) -> None:
    """Socket Mode until `stop`: health on `health_port` from the start, then auth.test and the connection."""
    health = Health(settings.bot_deployment, socket_mode=True)
    health_server = None if health_port is None else serve_health(health, listening_socket(host, health_port))
    try:
        health.bot_user = bot_identity(client)
        listeners = ListenerThreads(stop)
        app = build_app(settings, client, listeners=listeners)
        handler = connect_socket_mode(app, token, health.bot_user, settings)
        health.connection = ConnectionWatch(handler.client.is_connected)
        while not stop.wait(CONNECTION_CHECK_SECONDS):
            health.connection.down_for()  # looked at often, so /healthz knows how long it was down
        health.stopping = True
        if left := handler.stop(ACK_GRACE_SECONDS):
            logger.warning("Stopped with %d Socket Mode envelope(s) not acknowledged", left)
        listeners.finish()
    finally:
        if health_server is not None:
            health_server.should_exit = True


def serve_health(health: Health, sock: socket.socket) -> uvicorn.Server:
    """The health endpoints on `sock` in a background thread (Socket Mode has no server of its own)."""
    server = http_server(health_app(health), sock)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="voc-weekly-health", daemon=True
    )
    thread.start()
    host, port = sock.getsockname()[:2]
    logger.info("Health endpoints on http://%s:%d/healthz", host, port)
    return server


def connect_socket_mode(app: App, token: str, name: str, settings: VocSettings) -> StoppableSocketModeHandler:
    """Open the Socket Mode connection with the app-level token and log that the bot is up."""
    handler = StoppableSocketModeHandler(app, token)
    try:
        handler.connect()
    except SlackApiError as exc:
        error = exc.response.get("error")
        raise VocError(f"Slack refused SLACK_APP_TOKEN ({error}): check the app-level token") from None
    except (SlackClientError, OSError) as exc:
        raise VocError(f"cannot open a Socket Mode connection: {one_line(exc)}") from None
    logger.info("VOC Weekly bot connected as @%s (Socket Mode); %s", name, _target(settings))
    return handler


def _target(settings: VocSettings) -> str:
    return f"reports go to deployment {settings.bot_deployment}"


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("flows.slack").setLevel(logging.INFO)  # the bot's lines and its listener's
    bolt = logging.getLogger(BOLT_LOGGER)
    if not any(isinstance(f, _SameTokenWarning) for f in bolt.filters):
        bolt.addFilter(_SameTokenWarning())
    # slack_sdk's INFO lines are per-connection chatter; its DEBUG lines would include request bodies.
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    # uvicorn's INFO lines repeat the startup line above and log every request; its errors still show.
    logging.getLogger("uvicorn").setLevel(logging.WARNING)


class _SameTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself, then warns it is unused beside our client (which has it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()
