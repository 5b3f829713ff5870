"""The bot's health endpoints: `GET /` and `/healthz` (the process is alive), `/readyz` (it can take asks).

`/` and `/healthz` answer from memory (no call to Slack or Prefect), so a probe every few seconds
costs nothing; in Socket Mode they turn 503 once the connection to Slack has been down for longer
than a minute, so a platform restarts a bot that stopped hearing Slack. `/readyz` asks the Prefect
API each time: a bot that cannot start a report is not ready.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SOCKET_DOWN_LIMIT_SECONDS = 60.0  # Slack's own reconnects take seconds; a minute down needs a restart
PREFECT_CHECK_SECONDS = 5.0  # under a probe's usual timeout, so /readyz answers rather than hangs


class ConnectionWatch:
    """How long the Socket Mode connection has been down (0 while it is up), from a cheap local check."""

    def __init__(self, is_connected: Callable[[], bool], clock: Callable[[], float] = time.monotonic) -> None:
        self.is_connected = is_connected
        self._clock = clock
        self._last_up = clock()  # connecting counts as up: a slow start is not an outage

    def down_for(self) -> float:
        """Seconds since the connection was last seen up; call it often (the bot does, every few seconds)."""
        now = self._clock()
        if self.is_connected():
            self._last_up = now
        return now - self._last_up


class Health:
    """What the endpoints report: the bot user (once auth.test succeeded), where runs go, uptime, links.

    Prefect's settings live in a context variable; the check runs in the context this was made in, so
    it asks the Prefect API the bot was started with.
    """

    def __init__(
        self, deployment: str, *, socket_mode: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.deployment, self.socket_mode = deployment, socket_mode
        self.mode = "Socket Mode" if socket_mode else "HTTP mode"
        self.bot_user: str | None = None  # set once auth.test succeeded
        self.connection: ConnectionWatch | None = None  # Socket Mode, once connected
        self.stopping = False
        self._clock = clock
        self._started = clock()
        self._context = contextvars.copy_context()

    def liveness(self) -> tuple[int, dict[str, Any]]:
        """200 while the process serves (and, in Socket Mode, Slack's connection was up within a minute)."""
        body: dict[str, Any] = {
            "status": "ok",
            "bot_user": self.bot_user,
            "deployment": self.deployment,
            "mode": self.mode,
            "uptime_seconds": round(self._clock() - self._started),
        }
        if self.connection is None:
            return 200, body
        down = self.connection.down_for()
        body["socket_mode"] = "connected" if down == 0 else f"down for {down:.0f} s"
        if down > SOCKET_DOWN_LIMIT_SECONDS:
            return 503, {**body, "status": "Socket Mode connection down"}
        return 200, body

    async def readiness(self) -> tuple[int, dict[str, Any]]:
        """200 only when auth.test succeeded, the Prefect API answers (and Socket Mode is connected)."""
        problems = []
        if self.stopping:
            problems.append("stopping")
        if self.bot_user is None:
            problems.append("Slack auth.test has not succeeded")
        if self.socket_mode and not (self.connection and self.connection.is_connected()):
            problems.append("Socket Mode is not connected")
        prefect = await asyncio.create_task(prefect_api_problem(), context=self._context.copy())
        if prefect is not None:
            problems.append(prefect)
        body = {"status": "not ready" if problems else "ready", "problems": problems, "mode": self.mode}
        return (503 if problems else 200), body


async def prefect_api_problem() -> str | None:
    """None when the Prefect API answers its health check in time, else why not (one line, no secrets)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():  # runs would go to a temporary server no worker watches
        return "PREFECT_API_URL is not set"
    try:
        async with get_client() as client:
            error = await asyncio.wait_for(client.api_healthcheck(), PREFECT_CHECK_SECONDS)
    except Exception as exc:  # a timeout, a refused connection, a bad URL: all "not answering"
        error = exc
    return None if error is None else f"Prefect API did not answer ({type(error).__name__})"


def health_routes(health: Health) -> list[Route]:
    """`GET /`, `/healthz` and `/readyz` (HEAD too), each with a small JSON body."""

    async def alive(request: Request) -> JSONResponse:
        status, body = health.liveness()
        return JSONResponse(body, status_code=status)

    async def ready(request: Request) -> JSONResponse:
        status, body = await health.readiness()
        return JSONResponse(body, status_code=status)

    return [Route("/", alive), Route("/healthz", alive), Route("/readyz", ready)]


def health_app(health: Health) -> Starlette:
    """The endpoints alone: Socket Mode serves them on --health-port."""
    return Starlette(routes=health_routes(health))
