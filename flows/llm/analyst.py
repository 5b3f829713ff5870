"""Who writes the follow-up analyses: LaaS, an OpenAI-compatible endpoint, or the built-in summary.

The choice and the key are settled once, at the start of a run, so a missing key fails in one line
before any work.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, cast

from pydantic import SecretStr

from flows.errors import VocError
from flows.llm.calls import DEFAULT_BACKOFF, Backoff, Transport, write_follow_ups_sync
from flows.llm.followups import FollowUp, builtin_follow_up
from flows.report import CategoryChange, WeeklyReport
from flows.settings import VocSettings

LlmChoice = Literal["auto", "laas", "openai", "builtin"]
LLM_CHOICES: tuple[LlmChoice, ...] = ("auto", "laas", "openai", "builtin")


@dataclass(frozen=True)
class KeySource:
    """Where one service's API key comes from, and what a user reads when it is missing or bad."""

    setting: str  # LAAS_API_KEY
    block_setting: str  # VOC_LAAS_SECRET_BLOCK
    service_ko: str  # LaaS, OpenAI 호환 API

    def missing(self, llm: str) -> VocError:
        return VocError(
            f"--llm {llm} needs {self.setting} (or {self.block_setting})",
            slack_text=f"LLM({self.service_ko}) API 키가 없어 후속 분석을 만들 수 없습니다. "
            f"{self.setting}를 확인해 주세요.",
        )

    def bad_block(self, block: str, problem: str) -> VocError:
        return VocError(
            f"{self.block_setting}={block}: {problem}",
            slack_text=f"LLM({self.service_ko}) API 키를 담은 Prefect Secret 블록을 읽을 수 없습니다. "
            f"{self.block_setting}을 확인해 주세요.",
        )


LAAS_KEY = KeySource("LAAS_API_KEY", "VOC_LAAS_SECRET_BLOCK", "LaaS")
OPENAI_KEY = KeySource("OPENAI_API_KEY", "VOC_OPENAI_SECRET_BLOCK", "OpenAI 호환 API")


def api_key(source: KeySource, value: SecretStr | None, block: str | None) -> SecretStr | None:
    """A service's API key: from the Prefect Secret block if one is named, else the setting."""
    if not block:
        return value
    from prefect.blocks.system import Secret

    try:
        # _sync: a sync caller inside an async flow would otherwise get a coroutine back.
        loaded = Secret.load(block, _sync=True)  # type: ignore[call-arg]
    except ValueError:
        raise source.bad_block(
            block, "no such Secret block (create it in Prefect, or unset the variable)"
        ) from None
    secret = cast("Secret[Any]", loaded).get()
    if not isinstance(secret, str) or not secret.strip():
        raise source.bad_block(block, "the Secret block must hold the API key as a non-empty string")
    return SecretStr(secret.strip())


def laas_api_key(settings: VocSettings) -> SecretStr | None:
    """The LaaS API key: from VOC_LAAS_SECRET_BLOCK's Secret block, else LAAS_API_KEY."""
    return api_key(LAAS_KEY, settings.laas_api_key, settings.laas_api_key_block)


def openai_api_key(settings: VocSettings) -> SecretStr | None:
    """The OpenAI-compatible endpoint's key: from VOC_OPENAI_SECRET_BLOCK's block, else OPENAI_API_KEY."""
    return api_key(OPENAI_KEY, settings.openai_api_key, settings.openai_api_key_block)


@dataclass(frozen=True)
class Analyst:
    """Writes the follow-up analyses: `laas` or `openai` with its key, or the `builtin` summary."""

    settings: VocSettings
    name: Literal["laas", "openai", "builtin"]
    api_key: SecretStr | None = None
    backoff: Backoff = DEFAULT_BACKOFF

    def description(self) -> str:
        """Which analysis the run uses, for the run log (never the key)."""
        if self.name == "laas":
            return f"LaaS at {self.settings.laas_base_url}"
        if self.name == "openai":
            settings = self.settings
            return f"the OpenAI-compatible endpoint {settings.openai_base_url}, model {settings.llm_model}"
        return "the built-in summary (no LLM key configured)"

    def write(self, report: WeeklyReport, categories: list[CategoryChange]) -> list[FollowUp]:
        """One analysis per category, in order (LLM calls run concurrently)."""
        if self.name == "builtin" or self.api_key is None:
            return [builtin_follow_up(report, change) for change in categories]
        return write_follow_ups_sync(
            report, categories, self.settings, self._connect(self.api_key), backoff=self.backoff
        )

    def _connect(self, key: SecretStr) -> Callable[[], AbstractAsyncContextManager[Transport]]:
        if self.name == "laas":
            from flows.llm.laas import laas_transport

            return partial(laas_transport, self.settings, key)
        from flows.llm.openai_compatible import openai_transport  # imports the SDK only when used

        return partial(openai_transport, self.settings, key)


def choose_analyst(settings: VocSettings, llm: str | None = None) -> Analyst:
    """`--llm` (or VOC_LLM): `builtin`, `laas` or `openai` (a key is required), or `auto` (LaaS when
    keyed, else the OpenAI-compatible endpoint when keyed, else built-in); keys are looked up once."""
    choice = llm or settings.llm
    if choice not in LLM_CHOICES:
        raise VocError(f"--llm {choice}: choose one of {', '.join(LLM_CHOICES)}")
    if choice == "builtin":
        return Analyst(settings, "builtin")
    if choice in ("laas", "auto"):
        if (key := laas_api_key(settings)) is not None:
            return Analyst(settings, "laas", key)
        if choice == "laas":
            raise LAAS_KEY.missing(choice)
    key = openai_api_key(settings)
    if key is None:
        if choice == "openai":
            raise OPENAI_KEY.missing(choice)
        return Analyst(settings, "builtin")
    if settings.llm_model is None:
        raise VocError(
            f"--llm {choice} uses the OpenAI-compatible endpoint ({OPENAI_KEY.setting} is set), which needs "
            "VOC_LLM_MODEL: the name of the model it serves (or choose --llm builtin)",
            slack_text="LLM 모델 이름(VOC_LLM_MODEL)이 설정되지 않아 후속 분석을 만들 수 없습니다.",
        )
    return Analyst(settings, "openai", key)
