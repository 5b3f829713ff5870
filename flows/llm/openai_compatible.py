"""Any OpenAI-compatible chat completions endpoint as a transport for the follow-up analyses
(flows/llm/calls.py): OpenAI, Azure OpenAI, Gemini's OpenAI-compatible endpoint, a LiteLLM proxy,
vLLM or Ollama, through the official `openai` SDK.

The SDK's own retries are off: the shared caller retries, so both services keep one retry policy
(VOC_LLM_MAX_ATTEMPTS, Retry-After within VOC_MAX_RETRY_WAIT_SECONDS).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import openai
from pydantic import SecretStr

from flows.llm.calls import LlmError, content_text, status_error
from flows.settings import VocSettings

REFUSED_KEY = "the endpoint refused the API key, check OPENAI_API_KEY or VOC_OPENAI_SECRET_BLOCK"


class OpenAiTransport:
    """Sends one prompt as a chat completion to VOC_LLM_MODEL and reads the answer's text."""

    origin: Literal["openai"] = "openai"
    service = "OpenAI-compatible endpoint"

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model

    async def send(self, prompt: str) -> str:
        try:
            completion = await self._client.chat.completions.create(
                model=self._model, messages=[{"role": "user", "content": prompt}]
            )
        except openai.APITimeoutError:
            raise LlmError("timeout", retryable=True) from None
        except openai.APIConnectionError:  # refused, DNS, TLS, dropped: the address or the service
            raise LlmError("cannot connect, check OPENAI_BASE_URL", retryable=True) from None
        except openai.APIResponseValidationError:
            raise LlmError("malformed response (not a chat completion)") from None
        except openai.APIStatusError as exc:
            raise status_error(exc.status_code, exc.response.headers, key_hint=REFUSED_KEY) from None
        except (json.JSONDecodeError, UnicodeDecodeError):  # a 200 whose body is not JSON
            raise LlmError("malformed response (not JSON)") from None
        except ValueError:  # the SDK could not read the JSON as a chat completion
            raise LlmError("malformed response (not a chat completion)") from None
        try:
            # The SDK builds the model without validating it: a body of another shape gets here.
            content = completion.choices[0].message.content
        except (AttributeError, IndexError, TypeError):
            raise LlmError("malformed response (no choices[0].message.content)") from None
        return content_text(content)


@asynccontextmanager
async def openai_transport(settings: VocSettings, api_key: SecretStr) -> AsyncIterator[OpenAiTransport]:
    """An OpenAI-compatible transport on its own SDK client, closed when the analyses are done."""
    model = settings.llm_model
    if model is None:  # choose_analyst refuses this before any work
        raise LlmError("VOC_LLM_MODEL is not set")
    client = openai.AsyncOpenAI(
        api_key=api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=0,
    )
    async with client:
        yield OpenAiTransport(client, model)
