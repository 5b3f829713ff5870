"""The delivery ledger: which messages of a report already reached Slack, kept in Prefect result storage."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from prefect.results import ResultStore

COMPLETE_KEY = "complete"  # ledger entry of a fully delivered report: its table of categories
ATTEMPT_STARTED = "attempt_started"  # ledger value of a post not yet known to be in Slack


class DeliveryLedger:
    """Which messages of one report already reached Slack: message key → ts.

    Kept in Prefect's result storage (the PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK, the server's
    default result storage, or else PREFECT_LOCAL_STORAGE_PATH), so it survives the process: a
    rerun posts nothing again, and a run that died half-way resumes in the same thread.
    """

    def __init__(self, channel: str, thread_ts: str | None, week: date, store: ResultStore | None = None):
        self.store = store or ResultStore()
        thread = thread_ts or "channel"
        self.prefix = f"voc-weekly-deliveries/{safe_name(channel)}/{safe_name(thread)}/{week.isoformat()}"

    def _path(self, key: str) -> str:
        return f"{self.prefix}/{key}"

    def key(self, key: str) -> str:
        """The key in full (channel, thread, week): what a message carries in its Slack metadata."""
        return self._path(key)

    def get(self, key: str) -> Any | None:
        """What was recorded under `key` (a message's ts, or the completed report), if anything."""
        path = self._path(key)
        return self.store.read(path).result if self.store.exists(path) else None

    def posted_ts(self, key: str) -> str | None:
        """The ts of the message already posted under `key`, if any."""
        ts = self.get(key)
        return ts if isinstance(ts, str) else None

    def attempt_started(self, key: str) -> float | None:
        """When posting under `key` was first attempted, if that attempt's outcome is not recorded."""
        value = self.get(key)
        return float(value[ATTEMPT_STARTED]) if isinstance(value, dict) and ATTEMPT_STARTED in value else None

    def record(self, key: str, value: Any) -> None:
        """Remember `value` under `key` (a message's ts once it is in Slack)."""
        self.store.write(obj=value, key=self._path(key))


def safe_name(text: str) -> str:
    """`text` with every character outside [A-Za-z0-9._-] replaced: a path segment, a limit name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)
