"""The LaaS preset API (SPEC §6) as a transport for the follow-up analyses (flows/llm/calls.py).

`POST {LAAS_BASE_URL}/api/preset/v2/chat/completions` with the `project` and `apiKey` headers and
`{"hash": <preset>, "messages": [...]}`; the answer is OpenAI-like, its content a string or text parts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import httpx
from pydantic import SecretStr

from flows.llm.calls import LlmError, content_text, status_error
from flows.settings import VocSettings

COMPLETIONS_PATH = "/api/preset/v2/chat/completions"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
REFUSED_KEY = "LaaS refused the API key, check LAAS_API_KEY or VOC_LAAS_SECRET_BLOCK"


class LaasTransport:
    """Sends one prompt to the LaaS preset API and reads the answer's text."""

    origin: Literal["laas"] = "laas"
    service = "LaaS"

    def __init__(self, http: httpx.AsyncClient, settings: VocSettings, api_key: SecretStr) -> None:
        self._http = http
        self._url = settings.laas_base_url.rstrip("/") + COMPLETIONS_PATH
        self._project = settings.laas_project
        self._preset_hash = settings.laas_preset_hash
        self._api_key = api_key

    async def send(self, prompt: str) -> str:
        body = {"hash": self._preset_hash, "messages": [{"role": "user", "content": prompt}]}
        headers = {
            "project": self._project,
            "apiKey": self._api_key.get_secret_value(),
            "Content-Type": JSON_CONTENT_TYPE,
        }
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            response = await self._http.post(self._url, content=content, headers=headers)
        except httpx.TimeoutException:
            raise LlmError("timeout", retryable=True) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            raise LlmError("LAAS_BASE_URL is not an http(s) URL") from None
        except httpx.ConnectError:  # refused, DNS, TLS: the address is wrong or the service down
            raise LlmError("cannot connect, check LAAS_BASE_URL", retryable=True) from None
        except httpx.TransportError:
            raise LlmError("connection error", retryable=True) from None
        except httpx.HTTPError:
            raise LlmError("malformed response (undecodable)") from None
        if not 200 <= response.status_code < 300:
            raise status_error(response.status_code, response.headers, key_hint=REFUSED_KEY)
        return parse_answer(response)


def parse_answer(response: httpx.Response) -> str:
    """`choices[0].message.content` as text: a string, or the joined texts of `{"type": "text"}` parts."""
    try:
        payload = response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        raise LlmError("malformed response (not JSON)") from None
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LlmError("malformed response (no choices[0].message.content)") from None
    return content_text(content)


@asynccontextmanager
async def laas_transport(settings: VocSettings, api_key: SecretStr) -> AsyncIterator[LaasTransport]:
    """A LaaS transport on its own HTTP client, closed when the analyses are done."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(settings.llm_timeout_seconds)) as http:
        yield LaasTransport(http, settings, api_key)
