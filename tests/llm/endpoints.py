"""The two LLM services the follow-up tests run against, each a loopback server behind its real client:
LaaS (httpx) and an OpenAI-compatible endpoint (the `openai` SDK)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from flows.llm.analyst import choose_analyst
from flows.llm.calls import Backoff
from flows.llm.followups import FollowUp
from flows.report import CategoryChange, WeeklyReport
from flows.settings import VocSettings
from tests.factories import change, make_settings, weekly_report
from tests.servers.laas import LaasServer
from tests.servers.llm import LlmServer
from tests.servers.openai_compatible import MODEL, OpenAiServer

FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.01, retry_after_cap=5)
SERVICES = ("laas", "openai")


@dataclass(frozen=True)
class Endpoint:
    """A running loopback service and the settings that point the product at it."""

    name: Literal["laas", "openai"]
    server: LlmServer

    @property
    def key_setting(self) -> str:
        return "LAAS_API_KEY" if self.name == "laas" else "OPENAI_API_KEY"

    @property
    def url_setting(self) -> str:
        return "LAAS_BASE_URL" if self.name == "laas" else "OPENAI_BASE_URL"

    def env(self) -> dict[str, str]:
        """The settings of a run that uses this service (as environment variables)."""
        values = {
            "VOC_LLM": self.name,
            self.key_setting: self.server.api_key,
            self.url_setting: self.server.url,
        }
        return values | ({"VOC_LLM_MODEL": MODEL} if self.name == "openai" else {})

    def settings(self, tmp_path: Path, **overrides: Any) -> VocSettings:
        values = {"VOC_LLM_TIMEOUT_SECONDS": 5, "VOC_LLM_MAX_ATTEMPTS": 3, **self.env(), **overrides}
        return make_settings(tmp_path, None, **values)


def start(name: str) -> Endpoint:
    server: LlmServer = LaasServer() if name == "laas" else OpenAiServer()
    return Endpoint(name, server.start())  # type: ignore[arg-type]


def write(
    report: WeeklyReport, settings: VocSettings, categories: list[CategoryChange] | None = None
) -> list[FollowUp]:
    """The follow-ups of the analyst the settings choose, with quick retries."""
    analyst = replace(choose_analyst(settings), backoff=FAST)
    return analyst.write(report, report.follow_ups if categories is None else categories)


def flagged(count: int) -> WeeklyReport:
    """A report with `count` CRITICAL categories named cat-01, cat-02, …"""
    return weekly_report([change(f"cat-{n:02d}", 20, 40 + n, "CRITICAL") for n in range(1, count + 1)])
