"""The docs page, built once for this package, and a local Cloud Storage started with the first test
that publishes (package scope, like the BigQuery emulators)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.gcs_emulator import running


@pytest.fixture(scope="package")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gcp-storage-emulator's URL, with the test bucket created."""
    with running(tmp_path_factory.mktemp("gcs") / "gcs-emulator.log") as url:
        yield url


@pytest.fixture(scope="package")
def docs_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small export for the docs builds of this package (the docs describe the models, not the data)."""
    from tests.sources import edge_case_rows, write_source

    return write_source(tmp_path_factory.mktemp("docs-source") / "export.parquet", edge_case_rows())
