"""The owners seed (voc_category_owners): a bad row fails the build in one line that names the row.

Each case writes the seed into a copy of the dbt project and builds only the seed and its tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from flows.errors import DbtError
from flows.settings import PACKAGE_ROOT, VocSettings
from flows.warehouse.dbt import invoke_dbt
from tests.factories import make_settings
from tests.sources import ticket, write_source

HEADER = "category1,category2,category3,owners,note\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VocSettings]:
    """Settings whose dbt project is a copy of ours: each test writes its own seed into it."""
    tmp = tmp_path_factory.mktemp("owners")
    copy = tmp / "dbt_project"
    shutil.copytree(PACKAGE_ROOT / "dbt_project", copy, ignore=shutil.ignore_patterns("target", "logs"))
    source = write_source(tmp / "export.parquet", [ticket("t1", "2026-11-16 10:00")])  # the hook reads it
    yield make_settings(tmp, source, VOC_DBT_PROJECT_DIR=str(copy))


def build_seed(settings: VocSettings, rows: str) -> None:
    (settings.dbt_project_dir / "seeds" / "voc_category_owners.csv").write_text(HEADER + rows, "utf-8")
    invoke_dbt(settings, ["--quiet", "build", "--select", "voc_category_owners"])


def test_the_shipped_example_seed_passes_its_tests(project: VocSettings) -> None:
    shipped = (PACKAGE_ROOT / "dbt_project" / "seeds" / "voc_category_owners.csv").read_text("utf-8")
    build_seed(project, shipped.removeprefix(HEADER))


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        (
            '개인회원,계정,,U0ALICE,\n기업회원,,,"U0BOB, U0CAROL",쉼표로 나눔\n',
            'voc_category_owners row (기업회원 / * / *): owners "U0BOB, U0CAROL" is not Slack user (U…, W…) '
            "or user-group (S…) IDs separated by spaces",
        ),
        (",,,<!channel>,\n", 'voc_category_owners row (* / * / *): owners "<!channel>" is not Slack user'),
        ("개인회원,,,@alice u0bob,\n", 'voc_category_owners row (개인회원 / * / *): owners "@alice u0bob"'),
        (
            ",,,S0ALL,\n개인회원,계정,,U0A,\n,,,S0OTHER,두 번째 catch-all\n",
            "voc_category_owners row (* / * / *) appears 2 times: keep one row per key",
        ),
    ],
)
def test_a_bad_row_fails_the_build_in_one_line_naming_it(project: VocSettings, rows: str, says: str) -> None:
    with pytest.raises(DbtError) as error:
        build_seed(project, rows)
    message = str(error.value)
    test = "one_row_per_key" if "appears" in says else "owners_are_slack_ids"
    # Regression: a generic test was named by its id's hash (test.voc_weekly.<name>.<hash>).
    assert message.startswith(f"dbt build failed: test voc_category_owners_{test} failed: "), message
    assert says in message and "\n" not in message, message
    assert error.value.slack_text.startswith("dbt 데이터 테스트 `")  # the run's Korean notice
