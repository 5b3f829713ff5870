"""The bot as a service: `/`, `/healthz` and `/readyz` in HTTP mode and on Socket Mode's --health-port,
and SIGTERM (what Cloud Run and Kubernetes send before a kill) ending `voc-weekly bot` with exit 0 within
10 s while a request is under way, in both modes.

The SIGTERM tests run the real command in a process of its own, as a platform does; the rest serve the
bot in this process on the loopback Slack server and the session's Prefect test server.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_LOCAL_STORAGE_PATH, temporary_settings
from typer.testing import CliRunner

from flows import cli
from flows.slack import lifecycle
from flows.slack.bot import bot_client, build_app, connect_socket_mode, listening_socket, serve_health
from flows.slack.health import SOCKET_DOWN_LIMIT_SECONDS, ConnectionWatch, Health
from flows.slack.lifecycle import InFlight, ListenerThreads, Stop
from flows.slack.mentions import ACK_TEXT
from tests.servers.processes import free_port
from tests.servers.slack import VALID_APP_TOKEN, VALID_TOKEN, SlackServer, stored_then_slow
from tests.slack.factories import (
    CHANNEL,
    FORM,
    SECRET,
    RecordedStarts,
    bot_settings,
    event_callback,
    form_body,
    mention_event,
    runs_in_thread,
    runs_where,
    serving,
    signed,
    slash_command,
    wait_for,
)

VOC_WEEKLY = str(Path(sys.executable).parent / "voc-weekly")
SIGTERM_LIMIT_SECONDS = 10  # Cloud Run and Kubernetes kill 10 s (their default grace) after SIGTERM


@pytest.fixture(autouse=True)
def ledger(prefect_server: None, tmp_path: Path) -> Iterator[Path]:
    """An empty delivery ledger for each test: the bot built inside sees it (Prefect's settings)."""
    folder = tmp_path / "prefect-storage"
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: folder}):
        yield folder


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# HTTP mode


def test_root_and_healthz_answer_from_memory_with_who_and_where(slack_server: SlackServer) -> None:
    with serving(slack_server) as bot:
        requests_before = list(slack_server.requests)
        answers = [bot.get(path) for path in ("/", "/healthz")]
        head = httpx.head(f"{bot.base}/healthz")
    for answer in answers:
        assert answer.status_code == 200
        body = answer.json()
        assert isinstance(body.pop("uptime_seconds"), int)
        assert body == {
            "status": "ok",
            "bot_user": "voc-weekly",
            "deployment": "voc-weekly-report/ad-hoc",
            "mode": "HTTP mode",
        }
    assert head.status_code == 200
    assert slack_server.requests == requests_before  # no call to Slack per probe


def test_readyz_is_200_once_auth_test_succeeded_and_prefect_answers(slack_server: SlackServer) -> None:
    with serving(slack_server) as bot:
        ready = bot.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "problems": [], "mode": "HTTP mode"},
    )


def test_readyz_is_503_when_the_prefect_api_is_down(slack_server: SlackServer) -> None:
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens on port 9
        with serving(slack_server) as bot:
            ready, alive = bot.get("/readyz"), bot.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not ready"
    (problem,) = ready.json()["problems"]
    assert problem.startswith("Prefect API did not answer (")
    assert alive.status_code == 200  # alive all the same: a restart would not bring Prefect back


def test_readyz_is_503_before_auth_test_and_while_stopping() -> None:
    health = Health("voc-weekly-report/ad-hoc", socket_mode=True)
    status, body = asyncio.run(health.readiness())
    assert status == 503 and "Slack auth.test has not succeeded" in body["problems"]
    assert "Socket Mode is not connected" in body["problems"]  # not yet
    health.bot_user, health.stopping = "voc-weekly", True
    health.connection = ConnectionWatch(lambda: True)
    status, body = asyncio.run(health.readiness())
    assert status == 503 and body["problems"] == ["stopping"]


def test_health_port_is_refused_in_http_mode_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, slack_server: SlackServer
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {"SLACK_BOT_TOKEN": VALID_TOKEN, "SLACK_SIGNING_SECRET": SECRET}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli.app, ["bot", "--http", "--health-port", "8081"])
    assert result.exit_code == 2
    assert "--health-port is for Socket Mode" in result.output


# Socket Mode (--health-port)


def test_socket_mode_health_turns_503_a_minute_after_the_connection_went_down(
    slack_server: SlackServer,
) -> None:
    socket_mode = slack_server.socket_mode()
    settings = bot_settings(slack_server, SLACK_APP_TOKEN=VALID_APP_TOKEN, SLACK_SIGNING_SECRET=None)
    health = Health(settings.bot_deployment, socket_mode=True)
    sock = listening_socket("127.0.0.1", 0)
    server = serve_health(health, sock)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    handler = None
    try:
        assert wait_for(lambda: server.started)
        assert httpx.get(f"{base}/readyz", timeout=15).status_code == 503  # before auth.test
        health.bot_user = "voc-weekly"
        handler = connect_socket_mode(
            build_app(settings, bot_client(settings), start=RecordedStarts()),
            VALID_APP_TOKEN,
            "voc-weekly",
            settings,
        )
        clock = Clock()
        health.connection = ConnectionWatch(handler.client.is_connected, clock)
        connected = httpx.get(f"{base}/healthz", timeout=15)
        ready = httpx.get(f"{base}/readyz", timeout=15)

        socket_mode.stop()  # Slack is gone: the client cannot reconnect
        wait_for(lambda: not handler.client.is_connected())
        health.connection.down_for()
        clock.now += SOCKET_DOWN_LIMIT_SECONDS
        within_a_minute = httpx.get(f"{base}/healthz", timeout=15)
        clock.now += 1
        past_a_minute = httpx.get(f"{base}/healthz", timeout=15)
        not_ready = httpx.get(f"{base}/readyz", timeout=15)
    finally:
        if handler is not None:
            handler.close()
        server.should_exit = True
    assert (connected.status_code, connected.json()["socket_mode"]) == (200, "connected")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    assert (within_a_minute.status_code, within_a_minute.json()["socket_mode"]) == (200, "down for 60 s")
    assert past_a_minute.status_code == 503
    assert past_a_minute.json()["status"] == "Socket Mode connection down"
    assert not_ready.status_code == 503 and "Socket Mode is not connected" in not_ready.json()["problems"]


def test_socket_mode_readyz_is_503_when_the_prefect_api_is_down() -> None:
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens on port 9
        health = Health("voc-weekly-report/ad-hoc", socket_mode=True)
    health.bot_user, health.connection = "voc-weekly", ConnectionWatch(lambda: True)
    sock = listening_socket("127.0.0.1", 0)
    server = serve_health(health, sock)
    try:
        assert wait_for(lambda: server.started)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        ready, alive = httpx.get(f"{base}/readyz", timeout=15), httpx.get(f"{base}/healthz", timeout=15)
    finally:
        server.should_exit = True
    assert ready.status_code == 503
    (problem,) = ready.json()["problems"]
    assert problem.startswith("Prefect API did not answer (")
    assert alive.status_code == 200 and alive.json()["socket_mode"] == "connected"


def test_connection_watch_counts_from_the_last_time_it_saw_the_connection_up() -> None:
    clock, up = Clock(), [True]
    watch = ConnectionWatch(lambda: up[0], clock)
    clock.now += 100
    assert watch.down_for() == 0
    up[0] = False
    clock.now += 45
    assert watch.down_for() == 45
    up[0] = True
    assert watch.down_for() == 0


# Stopping: the parts


def test_listener_threads_wait_for_the_work_under_way_until_the_stop_deadline(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(lifecycle, "STOP_SECONDS", 0.5)
    stop, release = Stop(), threading.Event()
    listeners = ListenerThreads(stop)
    quick = listeners.submit(lambda: "answered")
    stuck = listeners.submit(release.wait, 30)  # a listener Slack never answers
    stop.request()
    listeners.finish()  # returns at the deadline: the stuck one does not hold the process
    assert quick.result(timeout=1) == "answered" and not stuck.done()
    assert caplog.messages == ["Stopped with 1 ask(s) still being handled: abandoned"]
    release.set()
    assert stuck.result(timeout=5) is True


def test_in_flight_counts_until_each_piece_of_work_is_done() -> None:
    in_flight = InFlight()
    with in_flight:
        assert in_flight.wait_idle(0.01) == 1
    assert in_flight.wait_idle(0) == 0


# SIGTERM, as a platform sends it


@dataclass
class BotProcess:
    """`voc-weekly bot` in a process of its own, and where its output goes."""

    process: subprocess.Popen[bytes]
    output: Path
    base: str

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", timeout=15)

    def terminate_and_wait(self) -> tuple[int, float]:
        """SIGTERM, then the exit code and how long the process took to exit after it."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=SIGTERM_LIMIT_SECONDS + 20)  # the limit is asserted, not hung on
        return code, time.monotonic() - sent

    def log(self) -> str:
        return self.output.read_text(encoding="utf-8")


@contextmanager
def bot_process(
    tmp_path: Path, slack: SlackServer, *args: str, port: int, **env: str
) -> Iterator[BotProcess]:
    """`voc-weekly bot <args>` against the loopback Slack server and the session's Prefect server."""
    environment = {
        **os.environ,
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        "VOC_SLACK_API_URL": slack.url,
        "VOC_SLACK_CHANNEL": CHANNEL,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "prefect-storage"),
        **env,
    }
    output = tmp_path / "bot.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [VOC_WEEKLY, "bot", *args], cwd=tmp_path, env=environment, stdout=sink, stderr=subprocess.STDOUT
        )
    bot = BotProcess(process, output, f"http://127.0.0.1:{port}")
    try:
        wait_for(
            lambda: _answers(bot), timeout=120
        )  # the first start imports Prefect: slow on a busy machine
        yield bot
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _answers(bot: BotProcess) -> bool:
    if bot.process.poll() is not None:
        raise AssertionError(f"the bot exited with {bot.process.returncode}:\n{bot.log()}")
    try:
        return bot.get("/readyz").status_code == 200
    except httpx.TransportError:
        return False


def test_sigterm_in_http_mode_answers_the_request_under_way_and_exits_0_within_10_s(
    tmp_path: Path, slack_server: SlackServer, deployment: UUID
) -> None:
    port = free_port()
    with bot_process(
        tmp_path,
        slack_server,
        "--http",
        "--host",
        "127.0.0.1",
        port=port,
        PORT=str(port),
        SLACK_SIGNING_SECRET=SECRET,
    ) as bot:
        assert bot.get("/healthz").json()["mode"] == "HTTP mode"
        payload = slash_command(slack_server, "2026-11-16")
        body = form_body(payload)
        head = "".join(f"{name}: {value}\r\n" for name, value in signed(body).items())
        request = (
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {FORM}\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n"
        ).encode() + body[:20]
        with socket.create_connection(("127.0.0.1", port)) as connection:
            connection.sendall(request)  # Slack's request has begun to arrive…
            time.sleep(2)  # for the bot to read the headers: the request is now under way
            code_and_time: list[tuple[int, float]] = []
            terminating = threading.Thread(target=lambda: code_and_time.append(bot.terminate_and_wait()))
            terminating.start()  # …when the platform sends SIGTERM
            wait_for(lambda: _refuses_connections(port))  # no new requests are taken
            connection.sendall(body[20:])
            answer = _read_response(connection)
            terminating.join()
    (code, seconds) = code_and_time[0]
    assert code == 0, bot.log()
    assert seconds < SIGTERM_LIMIT_SECONDS
    status, _, ack = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200"), answer
    assert json.loads(ack) == {  # the ack Slack waited for
        "text": ":hourglass_flowing_sand: 확인 중… 2026-11-16 ~ 2026-11-22 주 VOC 리포트",
        "response_type": "ephemeral",
    }
    (run,) = runs_where(deployment, channel=CHANNEL, week_start="2026-11-16", thread_ts=None)  # then started
    assert run.idempotency_key == f"voc-weekly:command:{CHANNEL}:{payload['trigger_id']}"
    assert "VOC Weekly bot stopped" in bot.log()


def test_sigterm_in_socket_mode_lets_the_ask_under_way_finish_and_exits_0_within_10_s(
    tmp_path: Path, slack_server: SlackServer, deployment: UUID
) -> None:
    socket_mode = slack_server.socket_mode()
    port = free_port()
    with bot_process(
        tmp_path,
        slack_server,
        "--host",
        "127.0.0.1",
        "--health-port",
        str(port),
        port=port,
        SLACK_APP_TOKEN=VALID_APP_TOKEN,
    ) as bot:
        healthz = bot.get("/healthz").json()
        event = mention_event("2026-11-16")
        slack_server.fail_next(stored_then_slow(2.0))  # Slack is slow to take the ⏳ answer
        envelope = socket_mode.push(event_callback(event))
        wait_for(lambda: {"envelope_id": envelope} in socket_mode.acks)
        wait_for(lambda: slack_server.messages)  # the ⏳ is with Slack, its answer not yet with the bot
        code, seconds = bot.terminate_and_wait()
    assert code == 0, bot.log()
    assert seconds < SIGTERM_LIMIT_SECONDS
    assert (healthz["mode"], healthz["socket_mode"]) == ("Socket Mode", "connected")
    assert [m["text"] for m in slack_server.messages] == [ACK_TEXT]
    (run,) = runs_in_thread(deployment, event["ts"])  # the ask under way was finished, not dropped
    assert run.parameters["status_ts"] == slack_server.messages[0]["ts"]
    assert "VOC Weekly bot stopped" in bot.log()


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def _read_response(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (it does on shutdown)."""
    connection.settimeout(15)
    chunks: list[Any] = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)
