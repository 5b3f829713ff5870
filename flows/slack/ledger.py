"""The delivery ledger: which messages of a report already reached Slack, kept where Prefect keeps results.

Every entry is a small JSON file, written whole or not at all (a local file is written beside its
place and renamed over it; GCS and S3 replace an object whole), so a crash leaves the old entry or the
new one, never half of one. A message's ts and the attempt to post it are separate entries, and a
recorded ts is never overwritten. Only "not found" reads as absent: any other storage error stops the
delivery (`LedgerError`), since reading "absent" by mistake would post everything again.

Entries written by versions before JSON (pickled Prefect result records at the bare key) are never
unpickled: one there counts as delivered, so it can never cause a second post.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from prefect.filesystems import LocalFileSystem, WritableFileSystem

from flows.errors import VocError, one_line

LEDGER_ROOT = "voc-weekly-deliveries"
COMPLETE_KEY = "complete"  # ledger entry of a fully delivered report: its table of categories
LEDGER_SLACK_TEXT = (
    "전송 기록(delivery ledger) 저장소를 읽거나 쓰지 못해, 같은 메시지를 두 번 올리지 않도록 "
    "전송을 멈췄습니다. 저장소가 복구된 뒤 다시 실행해 주세요."
)
# S3 (prefect-aws) answers a missing object with one of these error codes.
_S3_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})


class LedgerError(VocError):
    """The ledger could not be read or written: the delivery stops rather than risk a second post."""

    def __init__(self, message: str) -> None:
        super().__init__(message, slack_text=LEDGER_SLACK_TEXT)


class EarlierVersionEntry:
    """What an entry written by a version before JSON holds: unknown, since it is never unpickled."""

    def __repr__(self) -> str:
        return "<entry written by an earlier version>"


EARLIER_VERSION_ENTRY = EarlierVersionEntry()


@dataclass(frozen=True)
class Attempt:
    """When posting a message was first and last attempted, while Slack's answer is unknown."""

    first: float
    last: float


def is_not_found(error: BaseException) -> bool:
    """Whether a storage block's read error means "no such entry", as each block says it.

    LocalFileSystem and fsspec file systems (RemoteFileSystem) raise FileNotFoundError; prefect-gcp's
    GcsBucket raises google-api-core's NotFound (HTTP 404); prefect-aws's S3Bucket a botocore
    ClientError coded NoSuchKey or 404. A 503, a refused permission or an exhausted retry is not.
    """
    from google.api_core.exceptions import NotFound

    if isinstance(error, FileNotFoundError | NotFound):
        return True
    response = getattr(error, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") in _S3_NOT_FOUND


class LedgerStorage:
    """Reads and writes whole entries in a Prefect storage block, telling "not found" from failure."""

    def __init__(self, block: WritableFileSystem) -> None:
        self.block = block

    def where(self, path: str) -> str:
        """Where an entry lives, for an error line: a file path, or the block type and the key."""
        if isinstance(self.block, LocalFileSystem):
            return str(self.block._resolve_path(path))
        bucket = getattr(self.block, "bucket", None) or getattr(self.block, "bucket_name", None)
        return f"{type(self.block).__name__}{f' {bucket}' if bucket else ''}: {path}"

    def read(self, path: str) -> bytes | None:
        """The entry's bytes; None only when the storage says it does not exist."""
        from prefect._internal.compatibility.blocks import call_explicitly_sync_block_method

        try:
            if isinstance(self.block, LocalFileSystem):
                return Path(self.block._resolve_path(path)).read_bytes()
            content: bytes = call_explicitly_sync_block_method(self.block, "read_path", (path,), {})
            return content
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise LedgerError(
                f"cannot read the delivery ledger at {self.where(path)} ({one_line(exc)}): the delivery "
                "stopped so that nothing is posted twice; run again once the storage answers"
            ) from None

    def write(self, path: str, content: bytes) -> None:
        """Replace the entry whole: a crash leaves the old entry or the new one."""
        from prefect._internal.compatibility.blocks import call_explicitly_sync_block_method

        try:
            if isinstance(self.block, LocalFileSystem):
                replace_file(Path(self.block._resolve_path(path)), content)
            else:  # object stores (GCS, S3) replace an object whole
                call_explicitly_sync_block_method(self.block, "write_path", (path,), {"content": content})
        except Exception as exc:
            raise LedgerError(
                f"cannot write the delivery ledger at {self.where(path)} ({one_line(exc)}): the delivery "
                "stopped so that nothing is posted twice; run again once the storage answers"
            ) from None


def replace_file(path: Path, content: bytes) -> None:
    """Write `content` to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def ledger_storage() -> WritableFileSystem:
    """Where Prefect keeps results: PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK, the server's default result
    storage, or PREFECT_LOCAL_STORAGE_PATH.

    Prefect itself falls back to the local path when it cannot read the server's default; here that
    would be an empty ledger, so only a server without the setting (HTTP 4xx) means "none".
    """
    from prefect.results import resolve_result_storage
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    reference: str | UUID | None = settings.results.default_storage_block
    try:
        if reference is None:
            reference = server_default_storage()
        if reference is not None:
            storage = resolve_result_storage(reference, _sync=True)  # type: ignore[call-arg]
            return cast(WritableFileSystem, storage)
    except Exception as exc:
        raise LedgerError(
            f"cannot find the delivery ledger's storage ({one_line(exc)}): check "
            "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK and the Prefect API, then run again"
        ) from None
    return LocalFileSystem(basepath=str(settings.results.local_storage_path))


def server_default_storage() -> UUID | None:
    """The Prefect server's default result storage block, None when it has none (or no such setting)."""
    import httpx
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        try:
            return client.read_server_default_result_storage().default_result_storage_block_id
        except httpx.HTTPStatusError as exc:
            code = exc.response.status_code
            if 400 <= code < 500 and code not in (408, 429):
                return None  # a server that does not offer the setting
            raise


class DeliveryLedger:
    """Which messages of one report (channel, thread, week) already reached Slack: message key → ts.

    Kept in Prefect's result storage (see `ledger_storage`), so it survives the process: a rerun
    posts nothing again, and a run that died half-way resumes in the same thread. A forced delivery
    starts a new generation of entries (`start_over`), so a forced run that dies part-way is resumed
    in its own thread by the next run.
    """

    def __init__(
        self, channel: str, thread_ts: str | None, week: date, storage: WritableFileSystem | None = None
    ) -> None:
        self.week = week
        thread = thread_ts or "channel"
        self.root = f"{LEDGER_ROOT}/{safe_name(channel)}/{safe_name(thread)}/{week.isoformat()}"
        self._block = storage
        self._storage: LedgerStorage | None = None
        self._generation: int | None = None

    @property
    def storage(self) -> LedgerStorage:
        """The storage block, looked up on first use (constructing a ledger does no I/O)."""
        if self._storage is None:
            self._storage = LedgerStorage(self._block or ledger_storage())
        return self._storage

    @property
    def generation(self) -> int:
        """How many forced deliveries started over (0: none); each has entries of its own."""
        if self._generation is None:
            entry = self._read_json(f"{self.root}/generation.json")
            self._generation = int(entry["generation"]) if entry else 0
        return self._generation

    def key(self, key: str) -> str:
        """The key in full (channel, thread, week, generation): what a message carries in Slack metadata."""
        base = self.root if self.generation == 0 else f"{self.root}/forced-{self.generation}"
        return f"{base}/{key}"

    def get(self, key: str) -> Any | None:
        """What was recorded under `key` (a message's ts, or the completed report's table), if anything.

        An entry written by a version before JSON is `EARLIER_VERSION_ENTRY`: present, contents unknown.
        """
        if (entry := self._read_json(f"{self.key(key)}.json")) is not None:
            return entry["value"]
        if self.generation == 0 and self.storage.read(f"{self.root}/{key}") is not None:
            return EARLIER_VERSION_ENTRY  # never unpickled: what others can write would run here
        return None

    def has(self, key: str) -> bool:
        """Whether `key` was recorded (by this version or an earlier one): it is never posted again."""
        return self.get(key) is not None

    def posted_ts(self, key: str) -> str | None:
        """The ts of the message already posted under `key`, if any (unknown for an earlier version's)."""
        ts = self.get(key)
        return ts if isinstance(ts, str) else None

    def attempt(self, key: str) -> Attempt | None:
        """When posting under `key` was attempted, if an attempt may have reached Slack."""
        entry = self._read_json(f"{self.key(key)}.attempt.json")
        if not entry or entry.get("refused"):
            return None
        return Attempt(float(entry["first"]), float(entry["last"]))

    def note_attempt(self, key: str, when: float) -> Attempt:
        """Note, before posting, that an attempt starts now: a crash leaves a trace to look up in Slack."""
        previous = self.attempt(key)
        attempt = Attempt(first=previous.first if previous else when, last=when)
        self._write_json(f"{self.key(key)}.attempt.json", {"first": attempt.first, "last": attempt.last})
        return attempt

    def note_refused(self, key: str) -> None:
        """Slack refused the attempt (and none before it may be in Slack): nothing to look up next time."""
        if (attempt := self.attempt(key)) is not None:
            entry = {"first": attempt.first, "last": attempt.last, "refused": True}
            self._write_json(f"{self.key(key)}.attempt.json", entry)

    def record(self, key: str, value: Any) -> Any:
        """Remember `value` under `key` once; an entry already there is kept (a ts is never overwritten)."""
        if (existing := self.get(key)) is not None:
            return existing
        self._write_json(f"{self.key(key)}.json", {"value": value})
        return value

    def start_over(self) -> None:
        """A forced delivery: a new generation, so nothing recorded before counts (nor is deleted)."""
        generation = self.generation + 1
        self._write_json(f"{self.root}/generation.json", {"generation": generation})
        self._generation = generation

    def _read_json(self, path: str) -> dict[str, Any] | None:
        content = self.storage.read(path)
        if content is None:
            return None
        try:
            entry = json.loads(content)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            raise LedgerError(
                f"the delivery ledger entry {self.storage.where(path)} is not what this tool writes "
                "(JSON): the delivery stopped so that nothing is posted twice"
            )
        return entry

    def _write_json(self, path: str, entry: dict[str, Any]) -> None:
        self.storage.write(path, json.dumps(entry, ensure_ascii=False).encode("utf-8"))


def safe_name(text: str) -> str:
    """`text` with every character outside [A-Za-z0-9._-] replaced: a path segment, a limit name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)
