"""Stopping the bot cleanly: SIGTERM (what Cloud Run and Kubernetes send before a kill) ends it with exit 0.

On SIGTERM the bot stops taking events, lets the acknowledgements under way finish, gives the work
that follows them (answering, starting the run) a few seconds, and exits, all within 10 s. Work
still running then is abandoned rather than holding the process past the platform's kill.
"""

from __future__ import annotations

import contextvars
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any, TypeVar

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

ACK_GRACE_SECONDS = 5.0  # requests and envelopes under way get this long to be acknowledged…
STOP_SECONDS = 8.0  # …and everything, the work after the acks included, ends this long after SIGTERM

T = TypeVar("T")
logger = logging.getLogger(__name__)


class Stop:
    """The request to stop (SIGTERM, SIGINT) and when it came: the deadlines count from then."""

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._at: float | None = None

    def request(self) -> None:
        """Ask the bot to stop; the first request sets the clock."""
        if self._at is None:
            self._at = time.monotonic()
        self._requested.set()

    def requested(self) -> bool:
        return self._requested.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` for a request; whether one came."""
        return self._requested.wait(timeout)

    def seconds_left(self) -> float:
        """Of the STOP_SECONDS after the request (all of them if none came yet)."""
        at = self._at if self._at is not None else time.monotonic()
        return max(0.0, at + STOP_SECONDS - time.monotonic())


class InFlight:
    """A count of work under way that can be waited on, with a deadline, to reach zero."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def add(self) -> None:
        with self._changed:
            self._count += 1

    def done(self) -> None:
        with self._changed:
            self._count -= 1
            self._changed.notify_all()

    def __enter__(self) -> None:
        self.add()

    def __exit__(self, *exc: object) -> None:
        self.done()

    def wait_idle(self, timeout: float) -> int:
        """Wait until nothing is under way or `timeout` passed; how many are still under way."""
        with self._changed:
            self._changed.wait_for(lambda: self._count == 0, timeout=max(timeout, 0))
            return self._count


class ListenerThreads(Executor):
    """Bolt's listener executor: each listener in a daemon thread, counted so a stop can wait for them.

    Daemon threads, so a listener stuck past the stop deadline does not keep the process alive (a
    ThreadPoolExecutor's threads are joined at exit). Listeners run in the context this was made in:
    Prefect's settings live in a context variable, and the bot's threads would not see them otherwise.
    """

    def __init__(self, stop: Stop | None = None) -> None:
        self.in_flight = InFlight()
        self._stop = stop or Stop()
        self._context = contextvars.copy_context()

    def finish(self) -> None:
        """Wait for the listeners under way until the stop deadline; those still running are abandoned."""
        if left := self.in_flight.wait_idle(self._stop.seconds_left()):
            logger.warning("Stopped with %d ask(s) still being handled: abandoned", left)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        context = self._context.copy()

        def run() -> None:
            try:
                if future.set_running_or_notify_cancel():
                    future.set_result(context.run(fn, *args, **kwargs))
            except BaseException as exc:  # the future carries it, as ThreadPoolExecutor's do
                future.set_exception(exc)
            finally:
                self.in_flight.done()

        self.in_flight.add()  # counted from submission: a stop right after still waits for it
        threading.Thread(target=run, name="voc-weekly-listener", daemon=True).start()
        return future


class StoppableSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler that can stop taking envelopes and wait for the acks under way."""

    def __init__(self, app: App, app_token: str) -> None:
        super().__init__(app, app_token)
        self.in_flight = InFlight()
        self.stopping = threading.Event()

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        with self.in_flight:
            if self.stopping.is_set():
                return  # not acknowledged: Slack delivers it again, to the next connection
            super().handle(client, req)

    def stop(self, timeout: float) -> int:
        """Take no new envelopes, wait up to `timeout` for the acks under way, close; how many were left."""
        self.stopping.set()
        left = self.in_flight.wait_idle(timeout)
        self.close()
        return left


@contextmanager
def stop_on_signals() -> Iterator[Stop]:
    """While inside, SIGTERM and SIGINT request a stop instead of ending the process; then restored.

    An explicit handler also makes SIGTERM work when the bot is a container's PID 1, where the
    kernel ignores signals that have only the default action.
    """
    stop = Stop()

    def on_signal(signum: int, frame: object) -> None:
        stop.request()  # nothing else here (no logging): a handler may interrupt a thread holding a lock

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
