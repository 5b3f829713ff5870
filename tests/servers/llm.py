"""A chat completions server on loopback, for the real LLM clients in tests (LaaS: laas.py, any
OpenAI-compatible endpoint: openai_compatible.py).

Each service checks what the real one checks (path, auth headers, body); this base records every
request with its prompt, counts how many requests were in flight at once, and answers each request
as planned: an answer (a string or text parts), a 429 with Retry-After, a 5xx, malformed JSON, or a
hang longer than the client's timeout.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Reply:
    """How to answer one request."""

    status: int = 200
    content: str | list[dict[str, Any]] | None = None  # None: an answer naming the prompt's category
    raw: bytes | None = None  # a body sent as it is (for malformed JSON)
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0
    hang: float = 0.0  # seconds to stall before answering (longer than the client's timeout)


def answer(text: str, *, latency: float = 0.0) -> Reply:
    """A normal answer whose content is a string."""
    return Reply(content=text, latency=latency)


def answer_in_parts(*texts: str) -> Reply:
    """A normal answer whose content is a list of text parts."""
    return Reply(content=[{"type": "text", "text": text} for text in texts])


def rate_limited(retry_after: float, status: int = 429) -> Reply:
    return Reply(status=status, raw=b'{"error": "slow down"}', headers={"Retry-After": f"{retry_after:g}"})


def server_error(status: int = 500) -> Reply:
    return Reply(status=status, raw=b'{"error": "internal"}')


def malformed(raw: bytes) -> Reply:
    return Reply(raw=raw)


def hang(seconds: float) -> Reply:
    return Reply(hang=seconds)


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    headers: dict[str, str]
    body: Any
    prompt: str
    status: int
    started: float


class LlmServer:
    """The server's state: planned replies, the requests it saw, and the most it served at once.

    A service's subclass says what a valid request is (`check`) and where the client points (`url`).
    """

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.latency = 0.0  # added to every answer
        self.requests: list[Request] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._plans: list[tuple[str, list[Reply]]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # releases hung requests when the test ends
        self._http = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def root(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def url(self) -> str:
        """The base URL the client takes."""
        return self.root

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._http.shutdown()
        self._http.server_close()

    def plan(self, prompt_contains: str, *replies: Reply) -> None:
        """Answer the next requests whose prompt contains the text with these replies, in order."""
        with self._lock:
            self._plans.append((prompt_contains, list(replies)))

    def prompts_with(self, text: str) -> list[Request]:
        """The requests whose prompt contains the text, in arrival order."""
        return [request for request in self.requests if text in request.prompt]

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[Reply, str]:
        """Check the request, record it, and choose its reply; returns the reply and the prompt."""
        problem, body, prompt = self.check(path, headers, raw)
        with self._lock:
            reply = problem or self._planned(prompt)
            self.requests.append(Request(headers, body, prompt, reply.status, time.monotonic()))
        return reply, prompt

    def check(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[Reply | None, Any, str]:
        """(a refusal or None, the parsed body, the prompt) of one request."""
        raise NotImplementedError

    def completion(self, content: str | list[dict[str, Any]]) -> dict[str, Any]:
        """The body of a successful answer."""
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}

    def _planned(self, prompt: str) -> Reply:
        for text, replies in self._plans:
            if replies and text in prompt:
                return replies.pop(0)
        return Reply()

    def serve(self, reply: Reply, prompt: str) -> tuple[int, bytes, dict[str, str]]:
        """Wait as the reply says, counting the request as in flight, and render it."""
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            self._stopping.wait(self.latency + reply.latency + reply.hang)
        finally:
            with self._lock:
                self._in_flight -= 1
        if reply.raw is not None:
            body = reply.raw
        else:
            content = reply.content if reply.content is not None else default_answer(prompt)
            body = json.dumps(self.completion(content), ensure_ascii=False).encode()
        return reply.status, body, reply.headers


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many concurrent clients: the default backlog of 5 refuses connections
    daemon_threads = True


def default_answer(prompt: str) -> str:
    """A markdown answer that names the prompt's category, so tests can tell the answers apart."""
    found = re.search(r"^- 카테고리: (.+)$", prompt, re.MULTILINE)
    category = found.group(1) if found else "?"
    return f"{category} 후속 분석\n\n### 요약\n**{category}** 문의가 늘었습니다.\n\n### 후속 조치\n- 확인"


def _handler(server: LlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real service: the client reuses connections

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply, prompt = server.handle(self.path, headers, raw)
            status, body, extra = server.serve(reply, prompt)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a planned hang): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler
