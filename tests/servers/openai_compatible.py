"""An OpenAI-compatible chat completions endpoint on loopback, for the real `openai` SDK in tests.

It checks what such an endpoint checks: `POST /v1/chat/completions`, `Authorization: Bearer <key>`, a
JSON body with the served `model` and a `messages` list, and answers with a full `chat.completion`
object (the planned replies and the recording: tests/servers/llm.py).
"""

from __future__ import annotations

import json
from typing import Any

from tests.servers.llm import LlmServer, Reply

COMPLETIONS_PATH = "/v1/chat/completions"
API_KEY = "sk-test-openai-compatible-3b8e51f0"
MODEL = "voc-test-model"


class OpenAiServer(LlmServer):
    """An endpoint serving one model, as vLLM, Ollama or a LiteLLM proxy would."""

    def __init__(self, api_key: str = API_KEY, model: str = MODEL) -> None:
        super().__init__(api_key)
        self.model = model

    @property
    def url(self) -> str:
        """The base URL the SDK takes (OPENAI_BASE_URL): the API root, ending in /v1."""
        return f"{self.root}/v1"

    def check(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[Reply | None, Any, str]:
        if path != COMPLETIONS_PATH:
            return _error(404, "not_found", "Unknown path"), None, ""
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "invalid_api_key", "Incorrect API key provided"), None, ""
        if not headers.get("content-type", "").startswith("application/json"):
            return _error(400, "invalid_request_error", "content type"), None, ""
        try:
            body = json.loads(raw.decode("utf-8"))
            message = body["messages"][0]
            valid = (
                len(body["messages"]) == 1
                and message["role"] == "user"
                and isinstance(message["content"], str)
                and message["content"]
            )
        except (ValueError, KeyError, IndexError, TypeError):
            valid = False
        if not valid:
            return _error(400, "invalid_request_error", "bad request body"), None, ""
        if body.get("model") != self.model:
            return _error(404, "model_not_found", "The model does not exist"), None, ""
        return None, body, message["content"]

    def completion(self, content: str | list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1790000000,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }


def _error(status: int, code: str, message: str) -> Reply:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return Reply(status=status, raw=json.dumps(body).encode())
