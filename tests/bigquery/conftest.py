"""One emulator of each kind for this package, loaded with a multi-week slice of the demo data.

Package scope: each emulator starts with the first test that needs it and stops after the last test
of tests/bigquery/ (bqemulator idles at ~15% of a core), not at the end of the session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from flows.demo.generator import write_demo_data
from tests.bigquery.emulators import Emulator, create_source_table, load_source, running
from tests.bigquery.recorder import Recorder

REPORT_WEEK = date(2026, 11, 16)
NEXT_WEEK = date(2026, 11, 23)
SLICE_WEEKS = 4  # two weeks before the report week's baseline, so the next week has one too


@pytest.fixture(scope="package")
def demo_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four weeks of demo tickets through NEXT_WEEK (~2,100 rows), as Parquet."""
    path = tmp_path_factory.mktemp("bq-source") / "zendesk_voc_classified.parquet"
    write_demo_data(path, NEXT_WEEK, weeks=SLICE_WEEKS)
    return path


def _loaded(name: str, demo_slice: Path, tmp: Path) -> Iterator[Emulator]:
    with running(name, tmp / f"{name}.log") as emulator:
        create_source_table(emulator)
        load_source(emulator, demo_slice)
        yield emulator


@pytest.fixture(scope="package")
def crucible(demo_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """crucible with the source table loaded: faithful SQL, no scripting or query parameters."""
    yield from _loaded("crucible", demo_slice, tmp_path_factory.mktemp("crucible"))


@pytest.fixture(scope="package")
def bqemulator(demo_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """bqemulator with the source table loaded: incremental scripts and query parameters."""
    yield from _loaded("bqemulator", demo_slice, tmp_path_factory.mktemp("bqemulator"))


@pytest.fixture
def recorder(bqemulator: Emulator) -> Iterator[Recorder]:
    """A loopback front for bqemulator that records bearer tokens and issues OAuth tokens."""
    front = Recorder(bqemulator.url).start()
    yield front
    front.stop()
