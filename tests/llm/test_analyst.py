"""Choosing the follow-up analysis: --llm / VOC_LLM, the keys (settings or Prefect Secret blocks), and
the one-line errors that stop a run before any work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prefect.blocks.system import Secret

from flows.errors import VocError
from flows.llm.analyst import choose_analyst
from tests.factories import make_settings

LAAS = {"LAAS_API_KEY": "laas-key-for-choosing"}
OPENAI = {"OPENAI_API_KEY": "sk-key-for-choosing", "VOC_LLM_MODEL": "some-model"}


@pytest.mark.parametrize(
    ("llm", "configured", "expected"),
    [
        ("builtin", LAAS | OPENAI, "builtin"),
        ("laas", LAAS | OPENAI, "laas"),
        ("openai", LAAS | OPENAI, "openai"),
        ("auto", LAAS | OPENAI, "laas"),
        ("auto", OPENAI, "openai"),
        ("auto", LAAS, "laas"),
        ("auto", {}, "builtin"),
        ("auto", {"VOC_LLM_MODEL": "some-model"}, "builtin"),
    ],
)
def test_llm_choice(tmp_path: Path, llm: str, configured: dict[str, str], expected: str) -> None:
    analyst = choose_analyst(make_settings(tmp_path, None, **configured), llm)
    assert analyst.name == expected
    assert (analyst.api_key is None) == (expected == "builtin")


@pytest.mark.parametrize(
    ("voc_llm", "expected"), [("openai", "openai"), ("builtin", "builtin"), ("auto", "laas")]
)
def test_voc_llm_chooses_when_no_llm_is_given(tmp_path: Path, voc_llm: str, expected: str) -> None:
    settings = make_settings(tmp_path, None, VOC_LLM=voc_llm, **LAAS, **OPENAI)
    assert choose_analyst(settings).name == expected
    assert choose_analyst(settings, "builtin").name == "builtin"  # --llm wins over VOC_LLM


def test_a_bad_voc_llm_is_a_one_line_settings_error(tmp_path: Path) -> None:
    with pytest.raises(VocError, match=r"^VOC_LLM='gpt': must be one of auto, laas, openai, builtin$"):
        make_settings(tmp_path, None, VOC_LLM="gpt")


@pytest.mark.parametrize(
    ("llm", "configured", "message"),
    [
        ("laas", OPENAI, "--llm laas needs LAAS_API_KEY (or VOC_LAAS_SECRET_BLOCK)"),
        ("openai", LAAS, "--llm openai needs OPENAI_API_KEY (or VOC_OPENAI_SECRET_BLOCK)"),
        (
            "openai",
            {"OPENAI_API_KEY": "sk-x"},
            "--llm openai uses the OpenAI-compatible endpoint (OPENAI_API_KEY is set), which needs "
            "VOC_LLM_MODEL: the name of the model it serves (or choose --llm builtin)",
        ),
        (
            "auto",
            {"OPENAI_API_KEY": "sk-x"},
            "--llm auto uses the OpenAI-compatible endpoint (OPENAI_API_KEY is set), which needs "
            "VOC_LLM_MODEL: the name of the model it serves (or choose --llm builtin)",
        ),
    ],
)
def test_what_is_missing_is_said_in_one_line(
    tmp_path: Path, llm: str, configured: dict[str, str], message: str
) -> None:
    with pytest.raises(VocError, match=f"^{re.escape(message)}$"):
        choose_analyst(make_settings(tmp_path, None, **configured), llm)


def test_the_description_for_the_run_log_names_the_service_and_never_the_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, None, OPENAI_BASE_URL="http://127.0.0.1:9/v1", **OPENAI)
    description = choose_analyst(settings, "openai").description()
    assert description == "the OpenAI-compatible endpoint http://127.0.0.1:9/v1, model some-model"
    assert "sk-key" not in description
    assert choose_analyst(make_settings(tmp_path, None, **LAAS), "laas").description().startswith("LaaS at ")


@pytest.mark.parametrize(
    ("llm", "block_setting"), [("laas", "VOC_LAAS_SECRET_BLOCK"), ("openai", "VOC_OPENAI_SECRET_BLOCK")]
)
def test_the_key_comes_from_a_secret_block_when_one_is_named(
    prefect_server: None, tmp_path: Path, llm: str, block_setting: str
) -> None:
    block = f"voc-test-{llm}-key"
    Secret(value=f"  key-from-the-{llm}-block  ").save(block, overwrite=True)
    settings = make_settings(tmp_path, None, VOC_LLM_MODEL="some-model", **{block_setting: block})
    analyst = choose_analyst(settings, llm)
    assert analyst.name == llm
    assert analyst.api_key is not None and analyst.api_key.get_secret_value() == f"key-from-the-{llm}-block"


@pytest.mark.parametrize("block_setting", ["VOC_LAAS_SECRET_BLOCK", "VOC_OPENAI_SECRET_BLOCK"])
def test_a_missing_secret_block_is_one_line_naming_the_setting(
    prefect_server: None, tmp_path: Path, block_setting: str
) -> None:
    settings = make_settings(tmp_path, None, VOC_LLM_MODEL="some-model", **{block_setting: "no-such-block"})
    llm = "laas" if "LAAS" in block_setting else "openai"
    with pytest.raises(VocError, match=f"^{block_setting}=no-such-block: no such Secret block") as raised:
        choose_analyst(settings, llm)
    assert block_setting in raised.value.slack_text
