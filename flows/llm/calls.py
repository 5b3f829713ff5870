"""Follow-up analyses by an LLM (SPEC §6): one prompt per category, sent concurrently, retried, and
failing one category at a time, whichever service carries the prompt (LaaS or an OpenAI-compatible
endpoint: a `Transport`).

Every failure ends as a short reason (`timeout`, `HTTP 503`, `malformed response`) that is safe to
show in Slack: never a response body, a stack trace or the API key.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from flows.llm.followups import FollowUp, failed_follow_up
from flows.llm.prompt import build_prompt
from flows.logs import run_logger
from flows.report import CategoryChange, WeeklyReport
from flows.settings import VocSettings
from flows.slack import mrkdwn

RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts: exponential with jitter, or the server's Retry-After (capped)."""

    initial: float = 1.0
    maximum: float = 30.0
    jitter: float = 1.0
    retry_after_cap: float = 60.0


DEFAULT_BACKOFF = Backoff()


class LlmError(Exception):
    """An LLM call that failed; `reason` is short and safe to show (no body, no key)."""

    def __init__(self, reason: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Transport(Protocol):
    """One service's way of sending a prompt; it raises LlmError, never anything else it expects."""

    @property
    def origin(self) -> Literal["laas", "openai"]:
        """The FollowUp's origin."""
        ...

    @property
    def service(self) -> str:
        """How the run log names the service: "LaaS", "OpenAI-compatible endpoint"."""
        ...

    async def send(self, prompt: str) -> str:
        """The model's answer as text (not yet checked for emptiness)."""
        ...


# Opens a transport inside the event loop that uses it (HTTP clients belong to one loop).
Connect = Callable[[], AbstractAsyncContextManager[Transport]]


class LlmCaller:
    """Sends prompts through a transport: at most VOC_LLM_CONCURRENCY in flight, each attempt timed
    out, 429/5xx/timeouts/connection errors retried within VOC_MAX_RETRY_WAIT_SECONDS."""

    def __init__(
        self, transport: Transport, settings: VocSettings, backoff: Backoff = DEFAULT_BACKOFF
    ) -> None:
        self._transport = transport
        self._timeout = settings.llm_timeout_seconds
        self._max_attempts = settings.llm_max_attempts
        self._max_wait = settings.max_retry_wait_seconds
        self._backoff = backoff
        # Held per attempt, not per category: a call sleeping before its retry leaves its slot free.
        self._slots = asyncio.Semaphore(settings.llm_concurrency)

    async def complete(self, prompt: str, *, label: str = "") -> str:
        """The model's answer to `prompt` as text; raises LlmError once retrying cannot help."""
        retrying = AsyncRetrying(
            # The next wait must not take the call past VOC_MAX_RETRY_WAIT_SECONDS (Retry-After included).
            stop=stop_after_attempt(self._max_attempts) | stop_before_delay(self._max_wait),
            wait=WaitRetryAfter(self._backoff),
            retry=retry_if_exception(lambda exc: isinstance(exc, LlmError) and exc.retryable),
            before_sleep=lambda state: self._log_retry(state, label),
            retry_error_callback=self._give_up,
        )
        answer: str = await retrying(self._attempt, prompt)
        return answer

    async def _attempt(self, prompt: str) -> str:
        async with self._slots:
            try:
                # The client's timeout bounds each read; this bounds the whole call, slow trickles included.
                async with asyncio.timeout(self._timeout):
                    answer = await self._transport.send(prompt)
            except TimeoutError:
                raise LlmError("timeout", retryable=True) from None
        if not answer.strip():
            raise LlmError("malformed response (empty answer)")
        return answer.strip()

    def _give_up(self, state: RetryCallState) -> str:
        """The last failure once retrying stopped, saying so when the wait cap stopped it."""
        reason = _reason(state)
        if state.attempt_number < self._max_attempts:
            reason += f", still failing after {self._max_wait:g} s (VOC_MAX_RETRY_WAIT_SECONDS)"
        raise LlmError(reason)

    def _log_retry(self, state: RetryCallState, label: str) -> None:
        wait = state.next_action.sleep if state.next_action else 0.0
        run_logger(__name__).warning(
            "%s analysis of %s: %s (attempt %d/%d), retrying in %.1f s",
            self._transport.service,
            label or "a category",
            _reason(state),
            state.attempt_number,
            self._max_attempts,
            wait,
        )


def _reason(state: RetryCallState) -> str:
    error = state.outcome.exception() if state.outcome else None
    return error.reason if isinstance(error, LlmError) else type(error).__name__


class WaitRetryAfter(wait_base):
    """The server's Retry-After when it sent one, else exponential backoff with jitter."""

    def __init__(self, backoff: Backoff) -> None:
        self._cap = backoff.retry_after_cap
        self._exponential = wait_exponential_jitter(
            initial=backoff.initial, max=backoff.maximum, jitter=backoff.jitter
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, LlmError) and error.retry_after is not None:
            return min(error.retry_after, self._cap)
        return float(self._exponential(retry_state))


def status_error(status: int, headers: Mapping[str, str], *, key_hint: str) -> LlmError:
    """The LlmError for a non-2xx answer: retryable for 408, 429 and 5xx; bodies are never quoted.

    `key_hint` says where the key comes from, for a refused key: "LaaS refused the API key, check …".
    """
    if status in (408, 429) or status >= 500:
        retry_after = retry_after_seconds(headers) if status in RETRY_AFTER_STATUSES else None
        return LlmError(f"HTTP {status}", retryable=True, retry_after=retry_after)
    if status in (401, 403):
        return LlmError(f"HTTP {status}: {key_hint}")
    return LlmError(f"HTTP {status}")


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The Retry-After header in seconds, or None when absent or not a number of seconds."""
    try:
        seconds = float(headers.get("Retry-After", "") or "")
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def content_text(content: Any) -> str:
    """The text of a message content: a string, or the joined texts of `{"type": "text"}` parts
    (other parts, such as images or tool calls, are skipped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
        )
    if content is None:
        return ""
    raise LlmError("malformed response (content is neither text nor a list of parts)")


async def analyse(
    caller: LlmCaller, transport: Transport, report: WeeklyReport, change: CategoryChange
) -> FollowUp:
    """One category's follow-up: the model's answer as mrkdwn, or a one-line failure notice."""
    label = change.category_label
    try:
        answer = await caller.complete(build_prompt(report, change), label=label)
    except LlmError as exc:
        run_logger(__name__).warning("%s analysis of %s failed: %s", transport.service, label, exc.reason)
        return failed_follow_up(change, exc.reason)
    except Exception as exc:  # a bug in one analysis must not cost the other categories theirs
        run_logger(__name__).error(
            "%s analysis of %s failed unexpectedly", transport.service, label, exc_info=True
        )
        return failed_follow_up(change, f"unexpected error ({type(exc).__name__})")
    return FollowUp(category=change, body=mrkdwn.markdown_to_mrkdwn(answer), origin=transport.origin)


async def write_follow_ups(
    report: WeeklyReport,
    categories: list[CategoryChange],
    settings: VocSettings,
    connect: Connect,
    *,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> list[FollowUp]:
    """All categories analysed at once (at most `llm_concurrency` calls in flight), in input order."""
    if not categories:
        return []
    async with connect() as transport:
        caller = LlmCaller(transport, settings, backoff)
        analyses = (analyse(caller, transport, report, change) for change in categories)
        return list(await asyncio.gather(*analyses))


def write_follow_ups_sync(
    report: WeeklyReport,
    categories: list[CategoryChange],
    settings: VocSettings,
    connect: Connect,
    *,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> list[FollowUp]:
    """`write_follow_ups` for the sync Prefect task and the CLI (no event loop runs in their thread).

    Ctrl-C (or SIGTERM, which Prefect turns into an exception) cancels every call, those sleeping
    out a Retry-After included: asyncio.run cancels its task on an interrupt.
    """
    return asyncio.run(write_follow_ups(report, categories, settings, connect, backoff=backoff))
