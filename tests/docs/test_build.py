"""`voc-weekly docs build`: one static page that holds every model and opens without a network,
looked at in a real headless Chromium."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.docs import COMPARISON_MODEL, model_page_url
from flows.dry_run import RECORD
from flows.settings import PACKAGE_ROOT
from flows.warehouse.dbt import PROJECT_NAME
from tests.browser import rendered_text

MODELS = sorted(path.stem for path in (PACKAGE_ROOT / "dbt_project" / "models").rglob("*.sql"))
EXPOSURE = f"exposure.{PROJECT_NAME}.weekly_voc_slack_report"


@pytest.fixture(scope="module")
def docs_folder(tmp_path_factory: pytest.TempPathFactory, docs_source: Path) -> Path:
    """The page as `voc-weekly docs build --out DIR` writes it, on the embedded default."""
    tmp = tmp_path_factory.mktemp("docs-build")
    out = tmp / "site"
    env = {"VOC_HOME": str(tmp / ".voc"), "VOC_SOURCE_PATH": str(docs_source),
           "VOC_DUCKDB_PATH": str(tmp / "warehouse.duckdb")}  # fmt: skip
    result = CliRunner().invoke(app, ["docs", "build", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert f"Wrote {(out / 'index.html').resolve()}" in result.output
    return out


def page(docs_folder: Path) -> str:
    return (docs_folder / "index.html").read_text(encoding="utf-8")


def test_the_page_and_dbts_artifacts_are_written_beside_it(docs_folder: Path) -> None:
    names = sorted(path.name for path in docs_folder.iterdir())
    assert names == sorted([RECORD, "index.html", "manifest.json", "catalog.json"])
    manifest = json.loads((docs_folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["project_name"] == PROJECT_NAME


def test_the_page_holds_every_model_and_the_exposure_inline(docs_folder: Path) -> None:
    html = page(docs_folder)
    assert "MANIFEST.JSON INLINE DATA" not in html and "CATALOG.JSON INLINE DATA" not in html
    assert len(MODELS) >= 10
    missing = [model for model in MODELS if f'"model.{PROJECT_NAME}.{model}"' not in html]
    assert missing == []
    assert f'"{EXPOSURE}"' in html


class _Resources(HTMLParser):
    """Every URL the document itself would fetch to render: scripts, styles, images, frames, fonts."""

    FETCHED = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src",
               "video": "src", "embed": "src", "object": "data", "input": "src"}  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in self.FETCHED and values.get(self.FETCHED[tag]):
            self.urls.append(values[self.FETCHED[tag]])
        if tag == "link" and values.get("href") and not {"canonical"} & set(values.get("rel", "").split()):
            self.urls.append(values["href"])
        self.urls += css_urls(values.get("style", ""))
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self.in_style = self.in_style and tag != "style"

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.urls += css_urls(data)


def css_urls(css: str) -> list[str]:
    return re.findall(r"""url\(\s*['"]?([^'")\s]+)""", css) + re.findall(r"""@import\s+['"]([^'"]+)""", css)


def is_remote(url: str) -> bool:
    return bool(re.match(r"^\s*(https?:)?//", url, re.IGNORECASE))


def test_the_page_fetches_nothing_from_any_host(docs_folder: Path) -> None:
    resources = _Resources()
    resources.feed(page(docs_folder))
    assert resources.urls  # the check reads the page's resources, so it has something to judge
    assert [url for url in resources.urls if is_remote(url)] == []


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://cdn.example.com/angular.js"></script>',
        '<link rel="stylesheet" href="//fonts.example.com/css">',
        '<style>@import "https://fonts.example.com/x.css";</style>',
        '<div style="background: url(http://img.example.com/a.png)"></div>',
    ],
)
def test_the_offline_check_catches_a_page_that_would_fetch_from_a_host(html: str) -> None:
    resources = _Resources()
    resources.feed(f"<html><head></head><body>{html}</body></html>")
    assert any(is_remote(url) for url in resources.urls)


def test_in_a_browser_offline_the_comparison_models_page_shows_its_description(docs_folder: Path) -> None:
    manifest = json.loads((docs_folder / "manifest.json").read_text(encoding="utf-8"))
    description = manifest["nodes"][f"model.{PROJECT_NAME}.{COMPARISON_MODEL}"]["description"]
    first_sentence = " ".join(description.split(". ")[0].split())
    assert len(first_sentence) > 30

    text = " ".join(rendered_text(model_page_url((docs_folder / "index.html").as_uri())).split())
    # The model's own page (not the overview): its name, its description section, then the text.
    own_page = rf"{COMPARISON_MODEL} \w+ Details Description .*Description {re.escape(first_sentence)}"
    assert re.search(own_page, text), text[:3000]
    assert "severity" in text.split(first_sentence, 1)[1]  # its columns are listed below


@pytest.mark.parametrize(
    "docs_url",
    [
        "https://storage.googleapis.com/b/voc/index.html",
        "https://storage.googleapis.com/b/voc/index.html#!/overview",
    ],
)
def test_the_model_page_url_is_the_page_with_dbt_docs_anchor_for_the_model(docs_url: str) -> None:
    assert model_page_url(docs_url) == (
        "https://storage.googleapis.com/b/voc/index.html#!/model/model.voc_weekly.voc_weekly_comparison"
    )


def test_out_with_files_of_someone_else_is_refused_in_one_line_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("my own page", encoding="utf-8")
    result = CliRunner().invoke(app, ["docs", "build", "--out", str(out)], env={"VOC_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "the folder has files this tool did not write" in result.output
    assert (out / "index.html").read_text(encoding="utf-8") == "my own page"
