"""Follow-up analyses by the LaaS preset API (SPEC §6): concurrent, retried, and failing one at a time.

Every failure ends as a short reason (`timeout`, `HTTP 503`, `malformed response`) that is safe to
show in Slack: never a response body, a stack trace or the API key.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any, Literal, cast

import httpx
from pydantic import SecretStr
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from flows.errors import VocError
from flows.llm.followups import FollowUp, builtin_follow_up, failed_follow_up
from flows.llm.prompt import build_prompt
from flows.logs import run_logger
from flows.report import CategoryChange, WeeklyReport
from flows.settings import VocSettings
from flows.slack import mrkdwn

COMPLETIONS_PATH = "/api/preset/v2/chat/completions"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
NO_KEY_MESSAGE = "--llm laas needs LAAS_API_KEY (or VOC_LAAS_SECRET_BLOCK)"
NO_KEY_SLACK_TEXT = "LLM(LaaS) API 키가 없어 후속 분석을 만들 수 없습니다. LAAS_API_KEY를 확인해 주세요."
BAD_BLOCK_SLACK_TEXT = (
    "LLM(LaaS) API 키를 담은 Prefect Secret 블록을 읽을 수 없습니다. VOC_LAAS_SECRET_BLOCK을 확인해 주세요."
)
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts: exponential with jitter, or the server's Retry-After (capped)."""

    initial: float = 1.0
    maximum: float = 30.0
    jitter: float = 1.0
    retry_after_cap: float = 60.0


DEFAULT_BACKOFF = Backoff()


class LaasError(Exception):
    """A LaaS call that failed; `reason` is short and safe to show (no body, no key)."""

    def __init__(self, reason: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


def laas_api_key(settings: VocSettings) -> SecretStr | None:
    """The LaaS API key: from the Prefect Secret block if one is named, else LAAS_API_KEY."""
    if not settings.laas_api_key_block:
        return settings.laas_api_key
    from prefect.blocks.system import Secret

    where = f"VOC_LAAS_SECRET_BLOCK={settings.laas_api_key_block}"
    try:
        # _sync: a sync caller inside an async flow would otherwise get a coroutine back.
        loaded = Secret.load(settings.laas_api_key_block, _sync=True)  # type: ignore[call-arg]
    except ValueError:
        raise VocError(
            f"{where}: no such Secret block (create it in Prefect, or unset the variable)",
            slack_text=BAD_BLOCK_SLACK_TEXT,
        ) from None
    value = cast("Secret[Any]", loaded).get()
    if not isinstance(value, str) or not value.strip():
        raise VocError(
            f"{where}: the Secret block must hold the API key as a non-empty string",
            slack_text=BAD_BLOCK_SLACK_TEXT,
        )
    return SecretStr(value.strip())


@dataclass(frozen=True)
class Analyst:
    """Who writes the follow-up analyses: the LaaS preset API with its key, or the built-in summary."""

    settings: VocSettings
    api_key: SecretStr | None  # None: the built-in summary

    @property
    def name(self) -> Literal["laas", "builtin"]:
        return "builtin" if self.api_key is None else "laas"

    def write(self, report: WeeklyReport, categories: list[CategoryChange]) -> list[FollowUp]:
        """One analysis per category, in order (LaaS calls run concurrently)."""
        if self.api_key is None:
            return [builtin_follow_up(report, change) for change in categories]
        return write_laas_follow_ups_sync(report, categories, self.settings, self.api_key)


def choose_analyst(settings: VocSettings, llm: str) -> Analyst:
    """`builtin`, `laas` (a key is required), or `auto` (LaaS when keyed); the key is looked up once."""
    if llm == "builtin":
        return Analyst(settings, None)
    if llm not in ("laas", "auto"):
        raise VocError(f"--llm {llm}: choose auto, laas or builtin")
    api_key = laas_api_key(settings)
    if llm == "laas" and api_key is None:
        raise VocError(NO_KEY_MESSAGE, slack_text=NO_KEY_SLACK_TEXT)
    return Analyst(settings, api_key)


class LaasClient:
    """Sends prompts to the LaaS preset API; retries 429, 5xx, timeouts and connection errors."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: VocSettings,
        api_key: SecretStr,
        *,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self._http = http
        self._url = settings.laas_base_url.rstrip("/") + COMPLETIONS_PATH
        self._project = settings.laas_project
        self._preset_hash = settings.laas_preset_hash
        self._api_key = api_key
        self._timeout = settings.llm_timeout_seconds
        self._max_attempts = settings.llm_max_attempts
        self._max_wait = settings.max_retry_wait_seconds
        self._backoff = backoff
        # Held per attempt, not per category: a call sleeping before its retry leaves its slot free.
        self._slots = asyncio.Semaphore(settings.llm_concurrency)

    async def complete(self, prompt: str, *, label: str = "") -> str:
        """The model's answer to `prompt` as text; raises LaasError once retrying cannot help."""
        retrying = AsyncRetrying(
            # The next wait must not take the call past VOC_MAX_RETRY_WAIT_SECONDS (Retry-After included).
            stop=stop_after_attempt(self._max_attempts) | stop_before_delay(self._max_wait),
            wait=WaitRetryAfter(self._backoff),
            retry=retry_if_exception(lambda exc: isinstance(exc, LaasError) and exc.retryable),
            before_sleep=lambda state: _log_retry(state, label, self._max_attempts),
            retry_error_callback=self._give_up,
        )
        answer: str = await retrying(self._attempt, prompt)
        return answer

    def _give_up(self, state: RetryCallState) -> str:
        """The last failure once retrying stopped, saying so when the wait cap stopped it."""
        error = state.outcome.exception() if state.outcome else None
        reason = error.reason if isinstance(error, LaasError) else type(error).__name__
        if state.attempt_number < self._max_attempts:
            reason += f", still failing after {self._max_wait:g} s (VOC_MAX_RETRY_WAIT_SECONDS)"
        raise LaasError(reason)

    async def _attempt(self, prompt: str) -> str:
        body = {"hash": self._preset_hash, "messages": [{"role": "user", "content": prompt}]}
        headers = {
            "project": self._project,
            "apiKey": self._api_key.get_secret_value(),
            "Content-Type": JSON_CONTENT_TYPE,
        }
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        async with self._slots:
            try:
                # httpx's timeout bounds each read; this bounds the whole call, slow trickles included.
                async with asyncio.timeout(self._timeout):
                    response = await self._http.post(self._url, content=content, headers=headers)
            except (TimeoutError, httpx.TimeoutException):
                raise LaasError("timeout", retryable=True) from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL):
                raise LaasError("LAAS_BASE_URL is not an http(s) URL") from None
            except httpx.ConnectError:  # refused, DNS, TLS: the address is wrong or the service down
                raise LaasError("cannot connect, check LAAS_BASE_URL", retryable=True) from None
            except httpx.TransportError:
                raise LaasError("connection error", retryable=True) from None
            except httpx.HTTPError:
                raise LaasError("malformed response (undecodable)") from None
        check_status(response)
        return parse_answer(response)


class WaitRetryAfter(wait_base):
    """The server's Retry-After when it sent one, else exponential backoff with jitter."""

    def __init__(self, backoff: Backoff) -> None:
        self._cap = backoff.retry_after_cap
        self._exponential = wait_exponential_jitter(
            initial=backoff.initial, max=backoff.maximum, jitter=backoff.jitter
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, LaasError) and error.retry_after is not None:
            return min(error.retry_after, self._cap)
        return float(self._exponential(retry_state))


def _log_retry(state: RetryCallState, label: str, max_attempts: int) -> None:
    error = state.outcome.exception() if state.outcome else None
    reason = error.reason if isinstance(error, LaasError) else type(error).__name__
    wait = state.next_action.sleep if state.next_action else 0.0
    run_logger(__name__).warning(
        "LaaS analysis of %s: %s (attempt %d/%d), retrying in %.1f s",
        label or "a category",
        reason,
        state.attempt_number,
        max_attempts,
        wait,
    )


def check_status(response: httpx.Response) -> None:
    """Raise LaasError for any non-2xx answer, retryable for 408, 429 and 5xx; bodies are never quoted."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (408, 429) or status >= 500:
        retry_after = retry_after_seconds(response) if status in RETRY_AFTER_STATUSES else None
        raise LaasError(f"HTTP {status}", retryable=True, retry_after=retry_after)
    if status in (401, 403):
        raise LaasError(
            f"HTTP {status}: LaaS refused the API key, check LAAS_API_KEY or VOC_LAAS_SECRET_BLOCK"
        )
    raise LaasError(f"HTTP {status}")


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds, or None when absent or not a number of seconds."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def parse_answer(response: httpx.Response) -> str:
    """`choices[0].message.content` as text: a string, or the joined texts of `{"type": "text"}` parts."""
    try:
        payload = response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        raise LaasError("malformed response (not JSON)") from None
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LaasError("malformed response (no choices[0].message.content)") from None
    text = content_text(content)
    if not text.strip():
        raise LaasError("malformed response (empty answer)")
    return text.strip()


def content_text(content: Any) -> str:
    """The text of a message content; parts other than text ones (images, tool calls) are skipped."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
        )
    raise LaasError("malformed response (content is neither text nor a list of parts)")


async def analyse(client: LaasClient, report: WeeklyReport, change: CategoryChange) -> FollowUp:
    """One category's follow-up: the model's answer as mrkdwn, or a one-line failure notice."""
    label = change.category_label
    try:
        answer = await client.complete(build_prompt(report, change), label=label)
    except LaasError as exc:
        run_logger(__name__).warning("LaaS analysis of %s failed: %s", label, exc.reason)
        return failed_follow_up(change, exc.reason)
    except Exception as exc:  # a bug in one analysis must not cost the other categories theirs
        run_logger(__name__).error("LaaS analysis of %s failed unexpectedly", label, exc_info=True)
        return failed_follow_up(change, f"unexpected error ({type(exc).__name__})")
    return FollowUp(category=change, body=mrkdwn.markdown_to_mrkdwn(answer), origin="laas")


async def write_laas_follow_ups(
    report: WeeklyReport,
    categories: list[CategoryChange],
    settings: VocSettings,
    api_key: SecretStr,
    *,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> list[FollowUp]:
    """All categories analysed at once (at most `llm_concurrency` calls in flight), in input order."""
    if not categories:
        return []
    timeout = httpx.Timeout(settings.llm_timeout_seconds)
    async with httpx.AsyncClient(timeout=timeout) as http:
        client = LaasClient(http, settings, api_key, backoff=backoff)
        return list(await asyncio.gather(*(analyse(client, report, change) for change in categories)))


def write_laas_follow_ups_sync(
    report: WeeklyReport,
    categories: list[CategoryChange],
    settings: VocSettings,
    api_key: SecretStr,
    *,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> list[FollowUp]:
    """`write_laas_follow_ups` for a sync caller (the flow's task): Ctrl-C or SIGTERM cancels the calls."""
    return asyncio.run(write_laas_follow_ups(report, categories, settings, api_key, backoff=backoff))
