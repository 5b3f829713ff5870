"""The delivery ledger on real storage (a local folder, an fsspec file system, a bucket in a folder that
can answer 503) with the loopback Slack server: what counts as delivered, and what a failure leaves."""

from __future__ import annotations

import json
import resource
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from google.api_core.exceptions import Forbidden, NotFound, RetryError, ServiceUnavailable
from prefect.filesystems import LocalFileSystem, RemoteFileSystem, WritableFileSystem
from prefect.results import ResultStore
from pydantic import SecretStr
from slack_sdk import WebClient

from flows.slack import delivery
from flows.slack.client import METADATA_EVENT_TYPE, slack_client
from flows.slack.delivery import deliver_message, post_report
from flows.slack.ledger import COMPLETE_KEY, DeliveryLedger, LedgerError, is_not_found
from flows.slack.messages import SlackMessage
from tests.buckets import FolderBucket
from tests.servers.slack import VALID_TOKEN, SlackServer

CHANNEL = "C0VOCWEEKLY"
WEEK = date(2026, 11, 16)
ROOT = "voc-weekly-deliveries/C0VOCWEEKLY/channel/2026-11-16"


def ledger_on(storage: WritableFileSystem, thread: str | None = None) -> DeliveryLedger:
    """The ledger of WEEK in CHANNEL as a new process sees it."""
    return DeliveryLedger(CHANNEL, thread, WEEK, storage=storage)


def summary_and_replies() -> list[SlackMessage]:
    return [SlackMessage(key=key, text=key, blocks=()) for key in ("summary", "reply-a-1", "reply-b-1")]


def texts(server: SlackServer) -> list[str]:
    return [m["text"] for m in server.messages]


@pytest.fixture
def client(slack_server: SlackServer) -> WebClient:
    return slack_client(SecretStr(VALID_TOKEN), slack_server.url, timeout=1)


# Only "not found" is absent (item 6)


def test_regression_a_bucket_503_on_a_rerun_stops_the_delivery_in_one_line_instead_of_posting_again(
    slack_server: SlackServer, client: WebClient, tmp_path: Path
) -> None:
    bucket = FolderBucket(folder=str(tmp_path / "bucket"))
    assert post_report(client, ledger_on(bucket), summary_and_replies(), CHANNEL, None) == (3, 0)

    bucket.failing_reads = 1  # the bucket is briefly unavailable when the rerun reads it
    with pytest.raises(LedgerError) as error:
        post_report(client, ledger_on(bucket), summary_and_replies(), CHANNEL, None)
    message = str(error.value)
    assert message.startswith("cannot read the delivery ledger at FolderBucket") and "\n" not in message
    assert "503 Service Unavailable" in message and "nothing is posted twice" in message
    assert texts(slack_server) == ["summary", "reply-a-1", "reply-b-1"]

    # Once the bucket answers again, the rerun finds everything delivered.
    assert post_report(client, ledger_on(bucket), summary_and_replies(), CHANNEL, None) == (0, 3)
    assert len(slack_server.messages) == 3


def test_regression_a_local_ledger_that_cannot_be_read_stops_the_delivery(
    slack_server: SlackServer, client: WebClient, tmp_path: Path
) -> None:
    storage = LocalFileSystem(basepath=str(tmp_path / "storage"))
    week_folder = tmp_path / "storage" / ROOT
    week_folder.parent.mkdir(parents=True)
    week_folder.write_text("not a folder", encoding="utf-8")  # every entry read fails, none is "missing"
    with pytest.raises(LedgerError, match="^cannot read the delivery ledger at .*NotADirectoryError"):
        post_report(client, ledger_on(storage), summary_and_replies(), CHANNEL, None)
    assert slack_server.requests == []


class BotocoreLikeError(Exception):
    """The shape of botocore's ClientError, as prefect-aws's S3Bucket raises it."""

    def __init__(self, code: str) -> None:
        super().__init__(f"An error occurred ({code})")
        self.response = {"Error": {"Code": code}}


@pytest.mark.parametrize(
    ("error", "absent"),
    [
        (FileNotFoundError(2, "No such file or directory"), True),  # LocalFileSystem, fsspec
        (NotFound("No such object: bucket/key"), True),  # GcsBucket
        (BotocoreLikeError("NoSuchKey"), True),  # S3Bucket
        (ServiceUnavailable("503 Service Unavailable"), False),
        (Forbidden("403 does not have storage.objects.get access"), False),
        (RetryError("Deadline of 120.0s exceeded", cause=ServiceUnavailable("503")), False),
        (BotocoreLikeError("SlowDown"), False),
        (PermissionError(13, "Permission denied"), False),
        (IsADirectoryError(21, "Is a directory"), False),
        # LocalFileSystem.read_path's wording for a missing file: the ledger reads local files itself.
        (ValueError("Path /x does not exist."), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_only_a_not_found_answer_reads_as_absent(error: BaseException, absent: bool) -> None:
    assert is_not_found(error) is absent


@pytest.mark.parametrize("kind", ["local", "fsspec", "bucket"])
def test_each_kind_of_storage_reads_a_missing_entry_as_absent_and_a_recorded_one_back(
    tmp_path: Path, kind: str
) -> None:
    storage: WritableFileSystem = {
        "local": lambda: LocalFileSystem(basepath=str(tmp_path)),
        "fsspec": lambda: RemoteFileSystem(basepath=f"memory://{tmp_path.name}/ledger"),
        "bucket": lambda: FolderBucket(folder=str(tmp_path)),
    }[kind]()
    assert ledger_on(storage).posted_ts("summary") is None and ledger_on(storage).attempt("summary") is None
    ledger_on(storage).record("summary", "1790000000.000001")
    assert ledger_on(storage).posted_ts("summary") == "1790000000.000001"
    assert ledger_on(storage, "1790000000.5").posted_ts("summary") is None


def test_regression_a_recorded_ts_is_never_overwritten(
    slack_server: SlackServer, client: WebClient, tmp_path: Path
) -> None:
    storage = LocalFileSystem(basepath=str(tmp_path))
    ledger_on(storage).record("summary", "1790000000.000001")
    # Delivering it again returns the recorded message: no new attempt marker, no second post.
    assert deliver_message(client, ledger_on(storage), "summary", {"channel": CHANNEL, "text": "hi"}) == (
        "1790000000.000001"
    )
    assert slack_server.requests == []
    assert ledger_on(storage).record("summary", "1790000000.000002") == "1790000000.000001"
    assert ledger_on(storage).posted_ts("summary") == "1790000000.000001"


# Whole entries, plain JSON (item 7)


@contextmanager
def disk_fills_up() -> Iterator[Callable[[], None]]:
    """Call the function it gives, and every write that grows a file fails (EFBIG) until the block ends."""
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of the signal's kill
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        yield lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1, hard))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def test_regression_a_ledger_write_that_fails_half_way_leaves_the_attempt_and_the_rerun_posts_nothing_twice(
    slack_server: SlackServer, client: WebClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalFileSystem(basepath=str(tmp_path / "storage"))
    post_message = delivery.post_message
    with disk_fills_up() as fill_disk:

        def posted_then_disk_full(client: WebClient, args: dict[str, Any]) -> str:
            ts = post_message(client, args)  # Slack has the summary; then recording its ts fails
            fill_disk()
            return ts

        monkeypatch.setattr(delivery, "post_message", posted_then_disk_full)
        with pytest.raises((LedgerError, OSError)):
            post_report(client, ledger_on(storage), summary_and_replies(), CHANNEL, None)
    monkeypatch.undo()

    assert post_report(client, ledger_on(storage), summary_and_replies(), CHANNEL, None) == (3, 0)
    assert texts(slack_server) == ["summary", "reply-a-1", "reply-b-1"]  # the summary was found, not reposted
    assert slack_server.requests.count("chat.postMessage") == 3


def test_ledger_entries_are_plain_json(slack_server: SlackServer, client: WebClient, tmp_path: Path) -> None:
    storage = LocalFileSystem(basepath=str(tmp_path))
    post_report(client, ledger_on(storage), summary_and_replies(), CHANNEL, None)
    entries = {
        str(path.relative_to(tmp_path / ROOT)): json.loads(path.read_bytes())
        for path in (tmp_path / ROOT).rglob("*")
        if path.is_file()
    }
    summary_ts = slack_server.messages[0]["ts"]
    assert entries["summary.json"] == {"value": summary_ts}
    assert set(entries["summary.attempt.json"]) == {"first", "last"}
    assert sorted(entries) == sorted(f"{key}{kind}" for key in ("summary", "reply-a-1", "reply-b-1")
                                     for kind in (".json", ".attempt.json"))  # fmt: skip
    assert "pickle" not in json.dumps(entries)


class RunsCodeWhenUnpickled:
    """An entry someone with write access to the bucket could leave: unpickling it touches `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_entries_of_earlier_versions_count_as_delivered_and_are_never_unpickled(
    slack_server: SlackServer, client: WebClient, tmp_path: Path
) -> None:
    """Earlier versions pickled each entry into a Prefect result record at the bare key. Such an entry
    is never unpickled and never re-posted: a summary's ts is looked up in Slack by its metadata key."""
    storage = LocalFileSystem(basepath=str(tmp_path / "storage"))
    earlier = ResultStore(result_storage=storage)  # exactly how earlier versions wrote their entries
    marker = tmp_path / "unpickled"
    summary = client.chat_postMessage(
        channel=CHANNEL,
        text="summary",
        metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": f"{ROOT}/summary"}},
    )
    earlier.write(obj=RunsCodeWhenUnpickled(marker), key=f"{ROOT}/summary")
    earlier.write(obj="1790000000.000002", key=f"{ROOT}/reply-a-1")  # its ts, or an attempt: unknown

    assert post_report(client, ledger_on(storage), summary_and_replies(), CHANNEL, None) == (1, 2)
    assert texts(slack_server) == ["summary", "reply-b-1"]
    assert slack_server.messages[1]["thread_ts"] == summary["ts"]
    assert not marker.exists()

    earlier.write(obj=RunsCodeWhenUnpickled(marker), key=f"{ROOT}/{COMPLETE_KEY}")
    assert ledger_on(storage).has(COMPLETE_KEY) and not marker.exists()


def test_an_earlier_versions_summary_missing_from_slack_stops_in_one_line_without_posting(
    slack_server: SlackServer, client: WebClient, tmp_path: Path
) -> None:
    storage = LocalFileSystem(basepath=str(tmp_path / "storage"))
    ResultStore(result_storage=storage).write(obj="1790000000.000001", key=f"{ROOT}/summary")
    with pytest.raises(LedgerError, match="^the summary of week 2026-11-16 in C0VOCWEEKLY was recorded by"):
        post_report(client, ledger_on(storage), summary_and_replies(), CHANNEL, None)
    assert slack_server.messages == []


def test_an_entry_this_tool_did_not_write_stops_the_delivery_instead_of_reading_as_absent(
    slack_server: SlackServer, client: WebClient, tmp_path: Path
) -> None:
    (tmp_path / ROOT).mkdir(parents=True)
    (tmp_path / ROOT / "summary.json").write_bytes(b'{"value": "17900')  # torn, as no write here leaves one
    with pytest.raises(LedgerError, match=r"summary\.json is not what this tool writes \(JSON\)"):
        post_report(
            client, ledger_on(LocalFileSystem(basepath=str(tmp_path))), summary_and_replies(), CHANNEL, None
        )
    assert slack_server.requests == []


# Where the ledger lives: the storage Prefect keeps results in, looked up without falling back


def test_regression_a_prefect_api_that_cannot_say_where_results_live_stops_the_delivery(
    slack_server: SlackServer, client: WebClient
) -> None:
    """Prefect's own lookup of the server's default result storage falls back to the local folder on
    any error: an empty ledger, so everything would be posted again."""
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api", PREFECT_CLIENT_MAX_RETRIES: 0}):
        with pytest.raises(LedgerError, match=r"^cannot find the delivery ledger's storage \(ConnectError"):
            post_report(client, DeliveryLedger(CHANNEL, None, WEEK), summary_and_replies(), CHANNEL, None)
    assert slack_server.requests == []


def test_the_ledger_lives_in_the_servers_default_result_storage_or_the_block_named(
    prefect_server: None, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK, temporary_settings

    server_default = LocalFileSystem(basepath=str(tmp_path / "server-default"))
    block_id = server_default.save("voc-weekly-test-server-default", overwrite=True)
    with get_client(sync_client=True) as prefect:
        prefect.update_server_default_result_storage(block_id)
        try:
            DeliveryLedger(CHANNEL, None, WEEK).record("summary", "1790000000.000001")
        finally:
            prefect.clear_server_default_result_storage()
    assert json.loads((tmp_path / "server-default" / ROOT / "summary.json").read_bytes()) == {
        "value": "1790000000.000001"
    }

    with temporary_settings({PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK: "local-file-system/no-such-block"}):
        with pytest.raises(LedgerError, match=r"^cannot find the delivery ledger's storage \(ValueError"):
            DeliveryLedger(CHANNEL, None, WEEK).posted_ts("summary")
