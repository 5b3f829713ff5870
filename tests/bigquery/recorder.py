"""A loopback front for an emulator: records each request's bearer token and issues OAuth tokens.

The emulators accept any credentials, so a test that must prove which credentials a client sent puts
this in front of one (BIGQUERY_EMULATOR_HOST = its URL). `/token` is the `token_uri` of a throwaway
service-account key file: google-auth exchanges the signed JWT there, offline, for the access token
this server hands out.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


class Recorder:
    """Forwards BigQuery REST calls to `upstream`; `authorizations` lists each call's Authorization."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.authorizations: list[str] = []
        self.token_grants: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def start(self) -> Recorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def bearer_tokens(self) -> set[str]:
        """The distinct access tokens the clients presented to BigQuery."""
        return {value.removeprefix("Bearer ") for value in self.authorizations}

    def _issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        self.token_grants.append(form)
        claims = form["assertion"].split(".")[1]  # a service account's signed JWT; iss = its email
        subject = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["iss"]
        return {"access_token": f"issued-for-{subject}", "expires_in": 3600, "token_type": "Bearer"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _reply(self, status: int, body: bytes, content_type: str, location: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _forward(self) -> None:
                body = self._body()
                if self.path == "/token":
                    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                    token = json.dumps(recorder._issue_token(form)).encode()
                    self._reply(200, token, "application/json")
                    return
                recorder.authorizations.append(self.headers.get("Authorization", ""))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                response = httpx.request(
                    self.command, recorder.upstream + self.path, content=body, headers=headers, timeout=120
                )
                content_type = response.headers.get("content-type", "application/json")
                # A resumable upload (dbt's seeds) goes on at the session URL in Location: through here too.
                location = response.headers.get("location", "").replace(recorder.upstream, recorder.url)
                self._reply(response.status_code, response.content, content_type, location)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        return Handler


def write_service_account_key(path: Path, email: str, token_uri: str) -> Path:
    """A throwaway service-account key file whose token exchange goes to `token_uri`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    info = {
        "type": "service_account",
        "project_id": email.split("@")[1].split(".")[0],
        "private_key_id": "test-key",
        "private_key": pem.decode(),
        "client_email": email,
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return path
