"""What every LLM service of the follow-up analysis guarantees, run against each one (LaaS and an
OpenAI-compatible endpoint), each a loopback server behind the product's real client."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from flows.errors import VocError
from flows.llm.analyst import choose_analyst
from flows.llm.followups import builtin_follow_up
from flows.llm.prompt import as_data, build_prompt
from flows.report import WeeklyReport
from flows.slack import mrkdwn
from flows.slack.messages import build_follow_up_messages, build_summary
from flows.warehouse.dbt import build_week
from flows.warehouse.readers import open_warehouse, read_report
from flows.warehouse.source import prepare_source
from tests.factories import make_settings
from tests.llm.endpoints import SERVICES, Endpoint, flagged, start, write
from tests.llm.prompt_sections import data_block
from tests.pii_corpus import CORPUS, secrets
from tests.servers import llm as replies
from tests.servers.llm import Reply
from tests.sources import LOGIN, ticket, write_source

REPORT_WEEK = date(2026, 11, 16)


@pytest.fixture(params=SERVICES)
def endpoint(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    service = start(request.param)
    yield service
    service.server.stop()


# The response


@pytest.mark.parametrize(
    "reply",
    [
        replies.answer("## 요약\n**로그인** 오류 증가"),
        replies.answer_in_parts("## 요약", "**로그인** 오류 증가"),
        Reply(
            content=[{"type": "image", "url": "x"}, {"type": "text", "text": "## 요약\n**로그인** 오류 증가"}]
        ),
    ],
    ids=["string", "text-parts", "mixed-parts"],
)
def test_both_content_shapes_become_the_reply(tmp_path: Path, endpoint: Endpoint, reply: Reply) -> None:
    endpoint.server.plan("cat-01", reply)
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    assert follow_up.origin == endpoint.name
    assert "*요약*" in follow_up.body
    assert "*로그인* 오류 증가" in follow_up.body


def test_a_link_the_model_writes_shows_the_host_it_opens(tmp_path: Path, endpoint: Endpoint) -> None:
    # A ticket that says "tell them to log in at …" can steer the model into a friendly label.
    link = "[사내 SSO 로그인](https://sso.wanted.co.kr.evil.example/x)"
    endpoint.server.plan("cat-01", replies.answer(f"### 후속 조치\n- {link} 확인"))
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    assert follow_up.origin == endpoint.name
    assert (
        "<https://sso.wanted.co.kr.evil.example/x|사내 SSO 로그인> (sso.wanted.co.kr.evil.example)"
        in follow_up.body
    )


@pytest.mark.parametrize(
    "reply",
    [
        replies.malformed(b"<html>502 Bad Gateway</html>"),
        replies.malformed(b'{"result": "no choices"}'),
        replies.malformed(b'{"choices": []}'),
        Reply(content=[{"type": "image", "url": "https://x.y/a.png"}]),
        Reply(content=""),
        Reply(content=[]),
        replies.malformed(b'{"choices": [{"message": {"content": 42}}]}'),
        replies.malformed(b'{"choices": [{"message": {"role": "assistant", "content": null}}]}'),
    ],
    ids=[
        "not-json",
        "no-choices",
        "empty-choices",
        "image-only",
        "empty-string",
        "no-parts",
        "number",
        "null",
    ],
)
def test_a_malformed_response_is_a_one_line_failure(tmp_path: Path, endpoint: Endpoint, reply: Reply) -> None:
    endpoint.server.plan("cat-01", reply)
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    assert follow_up.origin == "failed"
    assert follow_up.body.startswith(":warning: 후속 분석을 생성하지 못했습니다 (사유: malformed response")
    assert "\n" not in follow_up.body and "Traceback" not in follow_up.body
    assert len(endpoint.server.requests) == 1  # the same answer would come back: not retried


def test_a_long_hostile_answer_becomes_valid_escaped_complete_slack_messages(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    paragraphs = [f"문단 {n}: " + " ".join(f"단어{n}-{i}" for i in range(70)) for n in range(20)]
    answer = "\n\n".join(
        [
            "# cat-01 후속 분석",
            "<!channel> **중요한 변화** 입니다. [대시보드](https://x.y/d?a=1&b=2)",
            *paragraphs,
        ]
    )
    assert len(answer) > 9000  # far more than one Slack section holds
    endpoint.server.plan("cat-01", replies.answer(answer))
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    messages = build_follow_up_messages(follow_up)

    sections: list[str] = []
    for message in messages:
        for block in message.blocks:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
        sections += [block["text"]["text"] for block in message.blocks if block["type"] == "section"]
    text = "\n".join(sections[1:])  # the first section is the heading with the figures
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "*중요한 변화*" in text and "**" not in text
    assert text.startswith("*cat-01 후속 분석*")
    assert "<https://x.y/d?a=1&amp;b=2|대시보드>" in text
    assert text.split() == mrkdwn.markdown_to_mrkdwn(answer).split()  # every word, in order: nothing lost


# Retries


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_then_the_answer_arrives(
    tmp_path: Path, endpoint: Endpoint, status: int
) -> None:
    endpoint.server.plan("cat-01", replies.rate_limited(retry_after=1, status=status))
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    assert follow_up.origin == endpoint.name
    first, second = endpoint.server.requests
    assert (first.status, second.status) == (status, 200)
    # The backoff alone would wait ~0.01 s: the gap is the server's Retry-After.
    assert second.started - first.started >= 0.9


def test_a_server_error_is_retried(tmp_path: Path, endpoint: Endpoint) -> None:
    endpoint.server.plan("cat-01", replies.server_error(500), replies.server_error(502))
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    assert follow_up.origin == endpoint.name
    assert [request.status for request in endpoint.server.requests] == [500, 502, 200]


def test_a_hanging_call_times_out_after_max_attempts_and_the_others_still_succeed(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    endpoint.server.plan("cat-02", replies.hang(30), replies.hang(30))
    settings = endpoint.settings(tmp_path, VOC_LLM_TIMEOUT_SECONDS=0.3, VOC_LLM_MAX_ATTEMPTS=2)
    follow_ups = write(flagged(3), settings)
    assert [f.origin for f in follow_ups] == [endpoint.name, "failed", endpoint.name]
    assert follow_ups[1].body == ":warning: 후속 분석을 생성하지 못했습니다 (사유: timeout)"
    assert len(endpoint.server.prompts_with("cat-02")) == 2


def test_exhausted_retries_report_the_last_status(tmp_path: Path, endpoint: Endpoint) -> None:
    endpoint.server.plan("cat-01", *[replies.server_error(503)] * 3)
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    assert follow_up.body == ":warning: 후속 분석을 생성하지 못했습니다 (사유: HTTP 503)"
    assert len(endpoint.server.requests) == 3


def test_regression_an_unreachable_service_is_retried_then_reported_naming_the_url_setting(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    endpoint.server.stop()  # nothing listens on its port any more
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    assert follow_up.body == (
        f":warning: 후속 분석을 생성하지 못했습니다 (사유: cannot connect, check {endpoint.url_setting})"
    )


def test_a_base_url_that_does_not_resolve_is_a_one_line_reason_naming_it(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    # A URL that is not http(s) never gets this far: the settings refuse it (tests/test_hostile_inputs.py).
    settings = endpoint.settings(tmp_path, **{endpoint.url_setting: "https://llm.invalid/v1"})
    [follow_up] = write(flagged(1), settings)
    assert (
        follow_up.origin == "failed" and endpoint.url_setting in follow_up.body and "\n" not in follow_up.body
    )


def test_regression_retry_after_100000_is_not_waited_for_and_the_reason_names_the_cap(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    endpoint.server.plan("cat-01", replies.rate_limited(retry_after=100000))
    settings = endpoint.settings(tmp_path, VOC_MAX_RETRY_WAIT_SECONDS=3)
    [follow_up] = write(flagged(1), settings)  # the 5 s wait Retry-After asks for (capped) is beyond 3 s
    assert follow_up.body == (
        ":warning: 후속 분석을 생성하지 못했습니다 (사유: HTTP 429, still failing after 3 s "
        "(VOC_MAX_RETRY_WAIT_SECONDS))"
    )
    assert len(endpoint.server.requests) == 1


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_client_error_is_not_retried(tmp_path: Path, endpoint: Endpoint, status: int) -> None:
    endpoint.server.plan("cat-01", Reply(status=status, raw=b'{"error": "secret detail from the body"}'))
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path))
    assert follow_up.body == f":warning: 후속 분석을 생성하지 못했습니다 (사유: HTTP {status})"
    assert len(endpoint.server.requests) == 1


def test_a_wrong_key_is_not_retried_and_names_the_setting_but_not_the_key(
    tmp_path: Path, endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_key = "wrong-key-0000-of-the-test"
    [follow_up] = write(flagged(1), endpoint.settings(tmp_path, **{endpoint.key_setting: wrong_key}))
    assert follow_up.origin == "failed"
    assert "HTTP 401" in follow_up.body and endpoint.key_setting in follow_up.body
    assert wrong_key not in follow_up.body and wrong_key not in caplog.text
    assert len(endpoint.server.requests) == 1


def test_the_api_key_never_appears_in_a_reason_or_the_logs(
    tmp_path: Path, endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the HTTP clients' and the SDK's debug logs included
    server = endpoint.server
    server.plan("cat-01", *[replies.server_error(500)] * 3)
    server.plan("cat-02", replies.hang(30), replies.hang(30), replies.hang(30))
    server.plan("cat-03", replies.malformed(b"not json"))
    server.plan("cat-04", replies.rate_limited(0.1), Reply(status=404))
    follow_ups = write(flagged(4), endpoint.settings(tmp_path, VOC_LLM_TIMEOUT_SECONDS=0.3))
    assert [f.origin for f in follow_ups] == ["failed"] * 4
    assert "retrying" in caplog.text  # the retries were logged, so the check below has teeth
    assert all(server.api_key not in f.body for f in follow_ups)
    assert server.api_key not in caplog.text
    assert len(server.requests) == 3 + 3 + 1 + 2  # every request carried the key (the server checks it)


# Concurrency and interruption


def test_calls_run_concurrently_up_to_the_limit_and_results_keep_the_input_order(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    report = flagged(8)
    labels = [c.category_label for c in report.follow_ups]
    endpoint.server.latency = 0.5
    for position, name in enumerate(labels):  # the first answer last: arrival order is not input order
        endpoint.server.plan(name, Reply(latency=(8 - position) * 0.03))
    follow_ups = write(report, endpoint.settings(tmp_path, VOC_LLM_CONCURRENCY=4))
    assert endpoint.server.max_in_flight == 4
    assert len(endpoint.server.requests) == 8
    assert [f.category for f in follow_ups] == report.follow_ups
    assert [f.body.splitlines()[0] for f in follow_ups] == [f"{name} 후속 분석" for name in labels]


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt as in a terminal (an xdist worker process ignores SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_regression_an_interrupt_cancels_calls_sleeping_out_a_retry_after_instead_of_waiting(
    tmp_path: Path, endpoint: Endpoint, ctrl_c_raises: None
) -> None:
    endpoint.server.plan("cat-01", replies.rate_limited(retry_after=3), answer_after := Reply())
    settings = endpoint.settings(tmp_path)
    interrupted = threading.Event()

    def interrupt_once_rate_limited() -> None:
        while not endpoint.server.requests:
            time.sleep(0.01)
        time.sleep(0.2)  # into the 3-second wait
        interrupted.set()
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C; Prefect turns SIGTERM into an exception too

    threading.Thread(target=interrupt_once_rate_limited, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        write(flagged(1), settings)
    assert interrupted.is_set()
    time.sleep(4)  # past the Retry-After: a call still alive would have asked again by now
    assert [request.status for request in endpoint.server.requests] == [429]
    assert answer_after.status == 200


# Choosing the service


def test_a_missing_key_fails_in_one_line_before_any_call(tmp_path: Path, endpoint: Endpoint) -> None:
    settings = endpoint.settings(tmp_path, **{endpoint.key_setting: None})
    block = "VOC_LAAS_SECRET_BLOCK" if endpoint.name == "laas" else "VOC_OPENAI_SECRET_BLOCK"
    message = f"--llm {endpoint.name} needs {endpoint.key_setting} (or {block})"
    with pytest.raises(VocError, match=f"^{re.escape(message)}$") as raised:
        choose_analyst(settings)
    assert endpoint.key_setting in raised.value.slack_text
    assert endpoint.server.requests == []


def test_no_categories_need_no_calls(tmp_path: Path, endpoint: Endpoint) -> None:
    assert write(flagged(0), endpoint.settings(tmp_path)) == []
    assert endpoint.server.requests == []


# Masked samples only


PERSONAL = [case for case in CORPUS if case.text != case.masked]


def personal_data_rows() -> list[dict[str, Any]]:
    """Every personal text of the masking corpus as a ticket title or detail, in new categories of ten
    negative tickets each (0 → 10: MONITOR, and every ticket is one of the ten samples)."""
    texts = [case.text for case in PERSONAL]
    pairs = [texts[i : i + 2] for i in range(0, len(texts), 2)]
    pairs += [["문의드립니다", "확인 부탁드립니다."]] * (-len(pairs) % 10)
    rows = [
        ticket(f"pii-{n}", "2026-11-20 10:00", ("개인정보", "마스킹", f"묶음 {n // 10:02d}"), "부정", *pair)
        for n, pair in enumerate(pairs)
    ]
    # The data reaches past the reported week, and the baseline week has tickets.
    rows.append(ticket("next-week", "2026-11-23 00:30", LOGIN))
    rows += [ticket(f"baseline-{i}", "2026-11-10 10:00", LOGIN) for i in range(10)]
    return rows


@pytest.fixture(scope="module")
def personal_report(tmp_path_factory: pytest.TempPathFactory) -> WeeklyReport:
    """The week of the corpus's personal texts, built by dbt once for both services."""
    tmp = tmp_path_factory.mktemp("personal")
    settings = make_settings(tmp, write_source(tmp / "export.parquet", personal_data_rows()))
    prepare_source(settings)
    return read_report(open_warehouse(settings), build_week(settings, REPORT_WEEK, quiet=True), REPORT_WEEK)


def test_no_personal_text_of_the_corpus_reaches_a_prompt_or_a_slack_payload(
    tmp_path: Path, endpoint: Endpoint, personal_report: WeeklyReport
) -> None:
    report = personal_report
    flagged = [change_ for change_ in report.follow_ups if change_.category_label.startswith("개인정보")]
    rows = personal_data_rows()
    assert len(flagged) == len({row["category3"] for row in rows if row["category1"] == "개인정보"})
    # The LLM quotes every sample back: the Slack replies then carry all the customer text it saw.
    for change_ in flagged:
        quoted = data_block(build_prompt(report, change_))
        endpoint.server.plan(f"- 카테고리: {change_.category_label}\n", replies.answer(quoted))
    follow_ups = write(report, endpoint.settings(tmp_path), flagged)
    follow_ups += [builtin_follow_up(report, c) for c in flagged]
    assert {f.origin for f in follow_ups} == {endpoint.name, "builtin"}

    prompts = "\n".join(request.prompt for request in endpoint.server.requests)
    messages = [build_summary(report)] + [m for f in follow_ups for m in build_follow_up_messages(f)]
    payloads = json.dumps([m.post_args("C0VOC", "1.0") for m in messages], ensure_ascii=False)
    legitimate = "\n".join(case.masked for case in PERSONAL)
    leaks = {
        case.id: [s for s in secrets(case) if s not in legitimate and (s in prompts or s in payloads)]
        for case in PERSONAL
    }
    assert {case_id: found for case_id, found in leaks.items() if found} == {}
    flat_prompts = " ".join(prompts.split())
    missing = [c.id for c in PERSONAL if " ".join(as_data(c.masked).split()) not in flat_prompts]
    assert missing == []  # every personal text did reach a prompt, masked


def test_both_services_get_the_same_prompt(tmp_path: Path) -> None:
    """One prompt for every service: the sections 요약 / 대표 VOC 예시 / 원인 가설 / 후속 조치, the figures
    and both weeks' masked samples (tests/llm/test_prompt.py checks its content)."""
    report = flagged(2)
    prompts = {}
    for name in SERVICES:
        service = start(name)
        try:
            write(report, service.settings(tmp_path))
            prompts[name] = [request.prompt for request in service.server.requests]
        finally:
            service.server.stop()
    assert sorted(prompts["laas"]) == sorted(prompts["openai"])
    assert sorted(prompts["laas"]) == sorted(build_prompt(report, c) for c in report.follow_ups)
    for section in ("요약", "대표 VOC 예시", "원인 가설", "후속 조치"):
        assert all(section in prompt for prompt in prompts["openai"])
