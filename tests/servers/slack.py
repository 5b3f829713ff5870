"""A Slack-compatible Web API server on loopback, for real slack_sdk clients in tests.

It implements the methods VOC Weekly calls (chat.postMessage, chat.update, chat.getPermalink,
conversations.history, conversations.replies, auth.test, reactions.get), checks the bearer token,
records every message with its metadata (and every edit) and reactions (`react` / `unreact` add
and remove them as any user would, the Web API's reactions.add / reactions.remove as the bot),
and can be told to answer the next requests with faults (429 with Retry-After, 5xx, Slack errors, or
storing the message and then answering too late or not at all) to exercise retries and error handling.
`socket_mode()` adds apps.connections.open and a Socket Mode WebSocket that pushes events and
records the client's acks.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

VALID_TOKEN = "xoxb-test-token"
BOT_USER_ID = "U0VOCBOT"
# What auth.test answers for VALID_TOKEN: the bot user Bolt takes as itself.
BOT_IDENTITY = {"user_id": BOT_USER_ID, "user": "voc-weekly", "team": "Test", "bot_id": "B0VOC"}
VALID_APP_TOKEN = "xapp-1-A0VOC-test"


@dataclass
class Fault:
    """A canned answer for one request: an HTTP status, a JSON body and headers.

    `store` accepts the message first (Slack has it, the client may never learn so), or only
    `store_after` seconds after the request arrived (a slow Slack); then the answer comes after `delay`
    seconds, or never when `drop` closes the connection instead.
    """

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    store: bool = False
    delay: float = 0.0
    drop: bool = False
    store_after: float = 0.0


def stored_then_slow(delay: float) -> Fault:
    """chat.postMessage stores the message, then answers after `delay` (beyond the client's timeout)."""
    return Fault(200, {}, store=True, delay=delay)


def stored_late(after: float) -> Fault:
    """chat.postMessage gets no answer: a slow Slack stores the message `after` seconds later."""
    return Fault(200, {}, store=True, store_after=after, delay=after + 1, drop=True)


def stored_then_dropped() -> Fault:
    """chat.postMessage stores the message, then drops the connection without an answer."""
    return Fault(200, {}, store=True, drop=True)


class SlackServer:
    """The server's state: the messages it accepted, the requests it saw, the faults it will answer."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []  # chat.update: channel, ts and the new text, in order
        self.requests: list[str] = []  # API method of every request, faults included
        self.faults: list[Fault | None] = []
        self.method_faults: dict[str, list[Fault | None]] = {}  # the same, for one API method's calls
        self.channels = {"C0VOCWEEKLY", "C0ELSEWHERE"}
        # Like Slack, history and replies may list only the first users of a reaction (its count is
        # always whole); reactions.get with full=true lists them all. None: list them all.
        self.reaction_users_listed: int | None = None
        self._last_ts = 0.0
        self.socket: SocketModeServer | None = None
        self.command_responses: list[dict[str, Any]] = []  # bodies POSTed to a response_url
        self._lock = threading.RLock()  # react() runs inside handle() too
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """The base URL a WebClient takes (`base_url`)."""
        return f"http://127.0.0.1:{self._http.server_address[1]}/api/"

    def start(self) -> SlackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.socket is not None:
            self.socket.stop()
        self._http.shutdown()
        self._http.server_close()

    def socket_mode(self) -> SocketModeServer:
        """Accept VALID_APP_TOKEN at apps.connections.open, pointing clients at a loopback WebSocket."""
        if self.socket is None:
            self.socket = SocketModeServer().start()
        return self.socket

    def fail_next(self, *faults: Fault | None, method: str | None = None) -> None:
        """Answer the next requests (of `method` only, if given) with these faults, in order (None:
        answer that one normally)."""
        with self._lock:
            queue = self.faults if method is None else self.method_faults.setdefault(method, [])
            queue.extend(faults)

    def threads(self) -> dict[str, list[dict[str, Any]]]:
        """Messages grouped by the thread they are in (a top-level message starts its own)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for message in self.messages:
            grouped.setdefault(message.get("thread_ts") or message["ts"], []).append(message)
        return grouped

    def message(self, ts: str) -> dict[str, Any]:
        """The stored message with this ts."""
        return next(m for m in self.messages if m["ts"] == ts)

    def react(self, ts: str, name: str, user: str) -> None:
        """`user` adds the reaction `name` (no colons) to the message `ts`, as in the Slack client."""
        with self._lock:
            reactions = self.message(ts).setdefault("reactions", [])
            reaction = next((r for r in reactions if r["name"] == name), None)
            if reaction is None:
                reaction = {"name": name, "users": [], "count": 0}
                reactions.append(reaction)
            if user not in reaction["users"]:
                reaction["users"].append(user)
                reaction["count"] += 1

    def unreact(self, ts: str, name: str, user: str) -> None:
        """`user` removes their reaction `name` from the message `ts`."""
        with self._lock:
            message = self.message(ts)
            for reaction in message.get("reactions", []):
                if reaction["name"] == name and user in reaction["users"]:
                    reaction["users"].remove(user)
                    reaction["count"] -= 1
            message["reactions"] = [r for r in message.get("reactions", []) if r["count"] > 0]

    def _shown(self, message: dict[str, Any], full: bool = False) -> dict[str, Any]:
        """A message as the API returns it: its reactions' users possibly cut short (never `full`)."""
        if not message.get("reactions") or full or self.reaction_users_listed is None:
            return message
        listed = self.reaction_users_listed
        reactions = [{**r, "users": r["users"][:listed]} for r in message["reactions"]]
        return {**message, "reactions": reactions}

    def command_response_url(self, trigger_id: str) -> str:
        """The response_url of one slash command: what the app POSTs there is in command_responses."""
        return self.url.replace("/api/", f"/commands/T0TEST/{trigger_id}")

    def handle(self, method: str, token: str | None, args: dict[str, Any]) -> Fault:
        with self._lock:
            self.requests.append(method)
            queue = self.method_faults.get(method) or self.faults
            if queue and (fault := queue.pop(0)) is not None:
                if fault.store and fault.store_after:
                    late = threading.Timer(fault.store_after, self._store_late, (method, token, args))
                    late.daemon = True
                    late.start()
                    return Fault(fault.status, fault.body, fault.headers, delay=fault.delay, drop=fault.drop)
                if fault.store:
                    answer = self._answer(method, token, args)
                    body = fault.body or answer.body  # a fault's own answer, else the normal one
                    return Fault(fault.status, body, fault.headers, delay=fault.delay, drop=fault.drop)
                return fault
            return self._answer(method, token, args)

    def _store_late(self, method: str, token: str | None, args: dict[str, Any]) -> None:
        with self._lock:
            self._answer(method, token, args)

    def _answer(self, method: str, token: str | None, args: dict[str, Any]) -> Fault:
        if method == "apps.connections.open":  # the one method an app-level token may call
            if token == VALID_APP_TOKEN and self.socket is not None:
                return Fault(200, {"ok": True, "url": self.socket.url})
            return Fault(200, {"ok": False, "error": "invalid_auth"})
        if token != VALID_TOKEN:
            return Fault(200, {"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return Fault(200, {"ok": True, **BOT_IDENTITY})
        if method in ("chat.update", "chat.getPermalink"):
            return self._edit_or_link(method, args)
        reactions = ("reactions.get", "reactions.add", "reactions.remove")
        if method not in ("chat.postMessage", "conversations.history", "conversations.replies", *reactions):
            return Fault(200, {"ok": False, "error": "unknown_method"})
        if args.get("channel") not in self.channels:
            return Fault(200, {"ok": False, "error": "channel_not_found"})
        if method in reactions:
            return self._reactions(method, args)
        if method == "conversations.history":
            return self._history(args, [m for m in self.messages if m.get("thread_ts") in (None, m["ts"])])
        if method == "conversations.replies":
            thread = [m for m in self.messages if args.get("ts") in (m["ts"], m.get("thread_ts"))]
            return self._history(args, sorted(thread, key=lambda m: float(m["ts"])))
        # Real Slack ts values: the epoch time of the message, unique and increasing.
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        ts = f"{self._last_ts:.6f}"
        self.messages.append({**args, "ts": ts})
        return Fault(200, {"ok": True, "channel": args["channel"], "ts": ts, "message": args})

    def _reactions(self, method: str, args: dict[str, Any]) -> Fault:
        """reactions.get (a message and its reactions), reactions.add and .remove (as the bot)."""
        ts = str(args.get("timestamp"))
        if not any(m["ts"] == ts and m["channel"] == args["channel"] for m in self.messages):
            return Fault(200, {"ok": False, "error": "message_not_found"})
        if method == "reactions.get":
            full = str(args.get("full", "")).lower() in ("1", "true")
            message = self._shown(self.message(ts), full)
            return Fault(200, {"ok": True, "type": "message", "channel": args["channel"], "message": message})
        if method == "reactions.add":
            self.react(ts, str(args.get("name")), BOT_USER_ID)
        else:
            self.unreact(ts, str(args.get("name")), BOT_USER_ID)
        return Fault(200, {"ok": True})

    def _edit_or_link(self, method: str, args: dict[str, Any]) -> Fault:
        """chat.update replaces a message's text (and blocks); chat.getPermalink links to a message."""
        channel, ts = args.get("channel"), args.get("ts" if method == "chat.update" else "message_ts")
        if channel not in self.channels:
            return Fault(200, {"ok": False, "error": "channel_not_found"})
        message = next((m for m in self.messages if (m["channel"], m["ts"]) == (channel, ts)), None)
        if message is None:
            return Fault(200, {"ok": False, "error": "message_not_found"})
        if method == "chat.getPermalink":
            link = f"https://voc-test.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"
            if (thread := message.get("thread_ts")) and thread != ts:
                link += f"?thread_ts={thread}&cid={channel}"
            return Fault(200, {"ok": True, "channel": channel, "permalink": link})
        message.update({k: args[k] for k in ("text", "blocks") if k in args})
        self.edits.append({"channel": channel, "ts": ts, "text": message.get("text")})
        return Fault(200, {"ok": True, "channel": channel, "ts": ts, "text": message.get("text")})

    def _history(self, args: dict[str, Any], found: list[dict[str, Any]]) -> Fault:
        """Messages of a channel (newest first) or a thread (oldest first) between oldest and latest."""
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        page = [
            {k: v for k, v in self._shown(m).items() if k != "metadata" or with_metadata}
            for m in found
            if oldest <= float(m["ts"]) <= latest
        ]
        if not args.get("ts"):  # conversations.history lists the newest first
            page.reverse()
        return Fault(200, {"ok": True, "messages": page, "has_more": False})


def _handler(server: SlackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            url = urlsplit(self.path)
            method = url.path.rsplit("/", 1)[-1]
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
            if url.path.startswith("/commands/"):  # a slash command's response_url: no token, answers "ok"
                server.command_responses.append(json.loads(raw or "{}"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                return
            args: dict[str, Any] = dict(parse_qsl(url.query))  # slack_sdk sends "GET" methods' params here
            if self.headers.get("Content-Type", "").startswith("application/json"):
                args.update(json.loads(raw or "{}"))
            else:
                args.update(parse_qsl(raw))
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
            answer = server.handle(method, token, args)
            time.sleep(answer.delay)
            if answer.drop:
                self.close_connection = True  # no status line: the client sees the connection drop
                return
            body = json.dumps(answer.body).encode("utf-8")
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


class SocketModeServer:
    """Slack's Socket Mode end: says hello to each client, pushes envelopes, records their acks."""

    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.acks: list[dict[str, Any]] = []
        self._clients: list[Any] = []
        self._client_ready = threading.Event()
        self._ids = itertools.count(1)
        self._server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/"

    def start(self) -> SocketModeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting clients and close the connected ones (the server's shutdown leaves them open)."""
        self._server.shutdown()
        for client in self._clients:
            client.close()

    def push(self, payload: dict[str, Any], envelope_type: str = "events_api") -> str:
        """Send an envelope to the latest client; returns its envelope_id, which its ack must carry."""
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "accepts_response_payload": envelope_type != "events_api",  # slash commands: ack with text
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": payload,
        }
        # The client's connect() returns at the handshake, possibly before our side has said hello.
        if not self._client_ready.wait(5):
            raise AssertionError("no Socket Mode client connected")
        self._clients[-1].send(json.dumps(envelope))
        return envelope_id

    def _session(self, connection: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            connection.send(json.dumps({"type": "hello", "num_connections": 1}))
            self._clients.append(connection)
            self._client_ready.set()
            for message in connection:
                self.acks.append(json.loads(message))
        except ConnectionClosed:
            pass
