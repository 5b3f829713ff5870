"""A LaaS-compatible preset API on loopback, for the real LaaS client in tests.

It checks what the real service checks: the path, the `project` and `apiKey` headers, the JSON content
type, the body's `hash` and `messages` (the planned replies and the recording: tests/servers/llm.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.servers.llm import (
    LlmServer,
    Reply,
    Request,
    answer,
    answer_in_parts,
    hang,
    malformed,
    rate_limited,
    server_error,
)

__all__ = [
    "API_KEY",
    "LaasServer",
    "Reply",
    "Request",
    "answer",
    "answer_in_parts",
    "hang",
    "malformed",
    "rate_limited",
    "server_error",
]

COMPLETIONS_PATH = "/api/preset/v2/chat/completions"
API_KEY = "laas-test-key-5f1c0d9e7a"
PROJECT = "WANTED_DATA"
PRESET_HASH = "90571f07e6b60e047620162ecc29b423dba8280aba60dba503aac082082ad0c4"


class LaasServer(LlmServer):
    """The LaaS preset API: `project` + `apiKey` headers, `{"hash", "messages"}` bodies."""

    def __init__(
        self, api_key: str = API_KEY, project: str = PROJECT, preset_hash: str = PRESET_HASH
    ) -> None:
        super().__init__(api_key)
        self.project = project
        self.preset_hash = preset_hash

    def check(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[Reply | None, Any, str]:
        if path != COMPLETIONS_PATH:
            return Reply(status=404, raw=b'{"error": "not found"}'), None, ""
        if headers.get("project") != self.project or headers.get("apikey") != self.api_key:
            return Reply(status=401, raw=b'{"error": "invalid project or apiKey"}'), None, ""
        content_type = re.sub(r"\s+", "", headers.get("content-type", "")).lower()
        if content_type != "application/json;charset=utf-8":
            return Reply(status=400, raw=b'{"error": "content type"}'), None, ""
        try:
            body = json.loads(raw.decode("utf-8"))
            message = body["messages"][0]
            valid = (
                body["hash"] == self.preset_hash
                and message["role"] == "user"
                and isinstance(message["content"], str)
                and message["content"]
                and isinstance(body.get("params", {}), dict)
            )
        except (ValueError, KeyError, IndexError, TypeError):
            valid = False
        if not valid:
            return Reply(status=400, raw=b'{"error": "bad request body"}'), None, ""
        return None, body, message["content"]
