"""The `docs` deployment's flow: the page published to Cloud Storage through a GcsBucket block, on a
local emulator (gcp-storage-emulator) behind a front that issues and records OAuth tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from prefect.states import State
from prefect_gcp import GcpCredentials
from prefect_gcp.cloud_storage import GcsBucket

from flows.docs import ARTIFACT_KEY, CACHE_CONTROL, publish_docs, upload_docs
from flows.errors import VocError
from flows.warehouse.dbt import PROJECT_NAME
from tests.bigquery.recorder import Recorder, write_service_account_key
from tests.docs.gcs_emulator import BUCKET
from tests.flow_runs import run_records

BLOCK = "voc-docs-test"
FOLDER = "voc-weekly/docs"
SERVICE_ACCOUNT = "docs-publisher@voc-test.iam.gserviceaccount.com"
PUBLISHED = {
    f"{FOLDER}/index.html": "text/html",
    f"{FOLDER}/manifest.json": "application/json",
    f"{FOLDER}/catalog.json": "application/json",
}


@pytest.fixture(scope="module")
def front(gcs_emulator: str) -> Iterator[Recorder]:
    """The storage API the product talks to (STORAGE_EMULATOR_HOST): tokens issued and recorded here."""
    recorder = Recorder(gcs_emulator).start()
    yield recorder
    recorder.stop()


def bucket_objects(gcs_emulator: str) -> dict[str, storage.Blob]:
    client = storage.Client(project="voc-test", credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                            client_options={"api_endpoint": gcs_emulator})  # fmt: skip
    return {blob.name: blob for blob in client.list_blobs(BUCKET)}


@dataclass
class Published:
    first: State[Any]
    second: State[Any]
    after_first: dict[str, bytes]
    after_second: dict[str, storage.Blob]
    local_page: bytes


@pytest.fixture(scope="module")
def published(
    prefect_server: None,
    gcs_emulator: str,
    front: Recorder,
    docs_source: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Published:
    """Two weekly publishes of the page, the second over the first."""
    tmp = tmp_path_factory.mktemp("publish")
    bucket_block(front, tmp).save(BLOCK, overwrite=True)
    env = {
        "STORAGE_EMULATOR_HOST": front.url,
        "VOC_DOCS_BUCKET_BLOCK": BLOCK,
        "VOC_HOME": str(tmp / ".voc"),
        "VOC_SOURCE_PATH": str(docs_source),
        "VOC_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        first = publish_docs(return_state=True)
        after_first = {name: blob.download_as_bytes() for name, blob in bucket_objects(gcs_emulator).items()}
        second = publish_docs(return_state=True)
    local_page = (tmp / ".voc" / "docs" / "index.html").read_bytes()
    return Published(first, second, after_first, bucket_objects(gcs_emulator), local_page)


def test_the_page_lands_at_a_fixed_path_with_a_short_cache_control(published: Published) -> None:
    assert published.first.is_completed(), published.first.message
    assert published.second.is_completed(), published.second.message
    objects = published.after_second
    assert {name: blob.content_type for name, blob in objects.items()} == PUBLISHED
    assert {blob.cache_control for blob in objects.values()} == {CACHE_CONTROL}
    assert (
        f'"model.{PROJECT_NAME}.voc_weekly_comparison"' in objects[f"{FOLDER}/index.html"].download_as_text()
    )


def test_a_second_publish_replaces_the_first(published: Published) -> None:
    assert set(published.after_first) == set(PUBLISHED)  # the same three objects, nothing added
    page = f"{FOLDER}/index.html"
    assert published.after_second[page].download_as_bytes() == published.local_page  # the second build's
    assert published.after_first[page] != published.local_page  # (each build has its own invocation id)


def test_the_run_publishes_a_link_artifact_to_the_page(published: Published, front: Recorder) -> None:
    logs, artifacts = run_records(published.second)
    [link] = [artifact for artifact in artifacts if artifact.key == ARTIFACT_KEY]
    assert str(link.data).startswith(f"[VOC Weekly 모델 문서]({front.url}/{BUCKET}/{FOLDER}/index.html)")
    assert f"Published the docs: {front.url}/{BUCKET}/{FOLDER}/index.html" in logs


def test_uploads_use_the_blocks_service_account(published: Published, front: Recorder) -> None:
    assert front.bearer_tokens() == {f"issued-for-{SERVICE_ACCOUNT}"}
    assert "private_key" not in json.dumps([artifact.data for artifact in run_records(published.first)[1]])


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (None, "publishing the docs needs VOC_DOCS_BUCKET_BLOCK: the name of a prefect-gcp GcsBucket block"),
        ("no-such-bucket-block", "VOC_DOCS_BUCKET_BLOCK=no-such-bucket-block: no such GcsBucket block"),
    ],
)
def test_a_missing_bucket_block_fails_in_one_line_before_dbt_runs(
    prefect_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: str | None, message: str
) -> None:
    monkeypatch.setenv("VOC_HOME", str(tmp_path / ".voc"))
    if block:
        monkeypatch.setenv("VOC_DOCS_BUCKET_BLOCK", block)
    state = publish_docs(return_state=True)
    assert state.is_failed()
    assert (state.message or "").startswith(message) and "\n" not in (state.message or "")
    logs, _ = run_records(state)
    assert "dbt" not in logs


@pytest.fixture
def page_files(tmp_path: Path) -> Path:
    """A built page's three files (their content does not matter to the upload)."""
    for name in ("index.html", "manifest.json", "catalog.json"):
        (tmp_path / name).write_text(f"{name} of a test", encoding="utf-8")
    return tmp_path


def bucket_block(front: Recorder, folder: Path, bucket: str = BUCKET) -> GcsBucket:
    key = json.loads(
        write_service_account_key(folder / "key.json", SERVICE_ACCOUNT, front.token_uri).read_text()
    )
    return GcsBucket(
        bucket=bucket, bucket_folder=FOLDER, gcp_credentials=GcpCredentials(service_account_info=key)
    )


def test_voc_docs_url_is_the_link_when_the_bucket_is_served_elsewhere(
    front: Recorder, page_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", front.url)
    url = upload_docs.fn(bucket_block(front, page_files), page_files, "https://docs.example.com/voc-weekly/")
    assert url == "https://docs.example.com/voc-weekly/"


def test_a_bucket_that_does_not_exist_is_one_line_naming_the_setting(
    front: Recorder, page_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", front.url)
    with pytest.raises(
        VocError, match=r"^bucket 'no-such-bucket' \(VOC_DOCS_BUCKET_BLOCK\): no such bucket$"
    ):
        upload_docs.fn(bucket_block(front, page_files, "no-such-bucket"), page_files, None)
