"""The dbt docs analysts open in a browser: one static page, built on the configured target
(`voc-weekly docs build`), and the flow `voc-weekly-docs` that publishes it to a Cloud Storage bucket
through a prefect-gcp GcsBucket block (the `docs` deployment, Monday 09:30 KST).

The page is dbt's `docs generate --static`: the manifest and the catalog are inlined, so it opens from
a file or a bucket with no server and no network. It is published under a fixed path (the block's
folder + `index.html`), so its URL never changes, with a Cache-Control that makes browsers ask again.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from flows.dry_run import check_out_folder, replace_files
from flows.errors import VocError, hide_user_error_tracebacks
from flows.settings import VocSettings
from flows.warehouse.dbt import PROJECT_NAME, invoke_dbt
from flows.warehouse.gcp_credentials import with_gcp_credentials_block
from flows.warehouse.source import prepare_source

if TYPE_CHECKING:
    from prefect_gcp.cloud_storage import GcsBucket

# What a published page consists of: the page itself (everything inlined) and dbt's two artifacts
# beside it, for tools that read them. The page goes last, so it never refers to older artifacts.
DOCS_FILES = {
    "manifest.json": "application/json",
    "catalog.json": "application/json",
    "index.html": "text/html; charset=utf-8",
}
# Browsers and caches may keep a copy but must ask the bucket before showing it: a refresh after the
# Monday publish shows the new models (GCS serves public objects with max-age=3600 otherwise).
CACHE_CONTROL = "no-cache"
ARTIFACT_KEY = "voc-weekly-docs"
COMPARISON_MODEL = "voc_weekly_comparison"


def model_page_url(docs_url: str, model: str = COMPARISON_MODEL) -> str:
    """The docs page of one model: the published page with dbt docs' own anchor for it."""
    page = docs_url.split("#", 1)[0]
    return f"{page}#!/model/model.{PROJECT_NAME}.{model}"


def build_docs(settings: VocSettings, out: Path | None = None) -> Path:
    """`dbt docs generate --static` on the configured target; write index.html (with manifest.json
    and catalog.json) into `out` (default `<VOC_HOME>/docs/`) and return the page's path."""
    folder, is_default = (out, False) if out is not None else (settings.home / "docs", True)
    check_out_folder(folder, is_default, what="the docs")  # refused in one line before dbt runs
    prepare_source(settings)
    invoke_dbt(settings, ["docs", "generate", "--static"], node_tasks=False)
    target = settings.dbt_project_dir / "target"
    built = {
        "index.html": "static_index.html",
        "manifest.json": "manifest.json",
        "catalog.json": "catalog.json",
    }
    files = {name: (target / source).read_text(encoding="utf-8") for name, source in built.items()}
    replace_files(folder, files, is_default)
    return folder / "index.html"


@flow(name="voc-weekly-docs")
def publish_docs() -> State[Any]:
    """Build the dbt docs page on the configured target and publish it to the VOC_DOCS_BUCKET_BLOCK bucket."""
    hide_user_error_tracebacks()
    try:
        with with_gcp_credentials_block(VocSettings()) as settings:  # BigQuery's service account
            bucket = load_bucket(settings.docs_bucket_block)  # a missing block fails before dbt runs
            page = build_docs_page(settings)
            url = upload_docs(bucket, page.parent, settings.docs_url)
            create_link_artifact(
                key=ARTIFACT_KEY,
                link=url,
                link_text="VOC Weekly 모델 문서",
                description="The dbt docs of VOC Weekly: every model, column and rule (published weekly)",
            )
            get_run_logger().info("Published the docs: %s", url)
            return Completed(message=f"published the docs: {url}")
    except VocError as exc:
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))


def load_bucket(block_name: str | None) -> GcsBucket:
    """The GcsBucket block named by VOC_DOCS_BUCKET_BLOCK, or a one-line error saying what to set."""
    from prefect_gcp.cloud_storage import GcsBucket

    if not block_name:
        raise VocError(
            "publishing the docs needs VOC_DOCS_BUCKET_BLOCK: the name of a prefect-gcp GcsBucket block"
        )
    try:
        # _sync: a sync caller inside an async flow would otherwise get a coroutine back.
        loaded = GcsBucket.load(block_name, _sync=True)
    except ValueError:
        raise VocError(
            f"VOC_DOCS_BUCKET_BLOCK={block_name}: no such GcsBucket block (create it in Prefect, see README)"
        ) from None
    return cast("GcsBucket", loaded)


@task(cache_policy=NO_CACHE)
def build_docs_page(settings: VocSettings) -> Path:
    """The static docs page of the configured target, in `<VOC_HOME>/docs/`."""
    return build_docs(settings)


@task(cache_policy=NO_CACHE)
def upload_docs(bucket_block: GcsBucket, folder: Path, docs_url: str | None) -> str:
    """Upload the page and its artifacts over the previous ones; return the page's URL."""
    from google.api_core import exceptions
    from google.cloud.storage.retry import DEFAULT_RETRY

    where = f"bucket {bucket_block.bucket!r} (VOC_DOCS_BUCKET_BLOCK)"
    # bucket(), not get_bucket(): writing objects needs no permission on the bucket's own metadata.
    bucket = bucket_block.gcp_credentials.get_cloud_storage_client().bucket(bucket_block.bucket)
    blobs = {name: bucket.blob(posixpath.join(bucket_block.bucket_folder, name)) for name in DOCS_FILES}
    try:
        for name, content_type in DOCS_FILES.items():
            blobs[name].cache_control = CACHE_CONTROL
            # Each object is replaced whole; the library retries 429/5xx and dropped connections.
            blobs[name].upload_from_filename(folder / name, content_type=content_type, retry=DEFAULT_RETRY)
    except exceptions.NotFound:
        raise VocError(f"{where}: no such bucket") from None
    except exceptions.Forbidden:
        raise VocError(
            f"{where}: the block's credentials may not write there (grant Storage Object Admin)"
        ) from None
    return docs_url or str(blobs["index.html"].public_url)
