"""LLM follow-ups through the LaaS preset API: a real client against a LaaS-compatible loopback server."""

from __future__ import annotations

import asyncio
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
from flows.llm.followups import FollowUp, builtin_follow_up
from flows.llm.laas import (
    Backoff,
    choose_analyst,
    write_laas_follow_ups,
    write_laas_follow_ups_sync,
)
from flows.llm.prompt import as_data, build_prompt
from flows.report import CategoryChange, WeeklyReport
from flows.settings import VocSettings
from flows.slack import mrkdwn
from flows.slack.messages import build_follow_up_messages, build_summary
from flows.warehouse.dbt import build_week
from flows.warehouse.readers import open_warehouse, read_report
from flows.warehouse.source import prepare_source
from tests.factories import change, make_settings, weekly_report
from tests.llm.prompt_sections import data_block
from tests.pii_corpus import CORPUS, secrets
from tests.servers import laas as laas_server
from tests.servers.laas import API_KEY, LaasServer, Reply
from tests.sources import LOGIN, ticket, write_source

FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.01, retry_after_cap=5)
REPORT_WEEK = date(2026, 11, 16)


@pytest.fixture
def server() -> Iterator[LaasServer]:
    laas = LaasServer().start()
    yield laas
    laas.stop()


def laas_settings(tmp_path: Path, server: LaasServer, **overrides: Any) -> VocSettings:
    values = {
        "LAAS_API_KEY": API_KEY,
        "LAAS_BASE_URL": server.url,
        "VOC_LLM_TIMEOUT_SECONDS": 5,
        "VOC_LLM_MAX_ATTEMPTS": 3,
        **overrides,
    }
    return make_settings(tmp_path, None, **values)


def flagged(count: int) -> WeeklyReport:
    """A report with `count` CRITICAL categories named cat-01, cat-02, …"""
    return weekly_report([change(f"cat-{n:02d}", 20, 40 + n, "CRITICAL") for n in range(1, count + 1)])


def run(
    report: WeeklyReport, settings: VocSettings, categories: list[CategoryChange] | None = None
) -> list[FollowUp]:
    return write_laas_follow_ups_sync(report, categories or report.follow_ups, settings, backoff=FAST)


# The response


@pytest.mark.parametrize(
    "reply",
    [
        laas_server.answer("## 요약\n**로그인** 오류 증가"),
        laas_server.answer_in_parts("## 요약", "**로그인** 오류 증가"),
        Reply(
            content=[{"type": "image", "url": "x"}, {"type": "text", "text": "## 요약\n**로그인** 오류 증가"}]
        ),
    ],
    ids=["string", "text-parts", "mixed-parts"],
)
def test_both_content_shapes_become_the_reply(tmp_path: Path, server: LaasServer, reply: Reply) -> None:
    server.plan("cat-01", reply)
    [follow_up] = run(flagged(1), laas_settings(tmp_path, server))
    assert follow_up.origin == "laas"
    assert "*요약*" in follow_up.body
    assert "*로그인* 오류 증가" in follow_up.body


def test_a_link_the_model_writes_shows_the_host_it_opens(tmp_path: Path, server: LaasServer) -> None:
    # A ticket that says "tell them to log in at …" can steer the model into a friendly label.
    link = "[사내 SSO 로그인](https://sso.wanted.co.kr.evil.example/x)"
    server.plan("cat-01", laas_server.answer(f"### 후속 조치\n- {link} 확인"))
    [follow_up] = run(flagged(1), laas_settings(tmp_path, server))
    assert follow_up.origin == "laas"
    assert (
        "<https://sso.wanted.co.kr.evil.example/x|사내 SSO 로그인> (sso.wanted.co.kr.evil.example)"
        in follow_up.body
    )


@pytest.mark.parametrize(
    "reply",
    [
        laas_server.malformed(b"<html>502 Bad Gateway</html>"),
        laas_server.malformed(b'{"result": "no choices"}'),
        laas_server.malformed(b'{"choices": []}'),
        Reply(content=[{"type": "image", "url": "https://x.y/a.png"}]),
        Reply(content=""),
        Reply(content=[]),
        laas_server.malformed(b'{"choices": [{"message": {"content": 42}}]}'),
    ],
    ids=["not-json", "no-choices", "empty-choices", "image-only", "empty-string", "no-parts", "number"],
)
def test_a_malformed_response_is_a_one_line_failure(tmp_path: Path, server: LaasServer, reply: Reply) -> None:
    server.plan("cat-01", reply)
    [follow_up] = run(flagged(1), laas_settings(tmp_path, server))
    assert follow_up.origin == "failed"
    assert follow_up.body.startswith(":warning: 후속 분석을 생성하지 못했습니다 (사유: malformed response")
    assert "\n" not in follow_up.body and "Traceback" not in follow_up.body
    assert len(server.requests) == 1  # the same answer would come back: not retried


# Retries


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_then_the_answer_arrives(
    tmp_path: Path, server: LaasServer, status: int
) -> None:
    server.plan("cat-01", laas_server.rate_limited(retry_after=1, status=status))
    [follow_up] = run(flagged(1), laas_settings(tmp_path, server))
    assert follow_up.origin == "laas"
    first, second = server.requests
    assert (first.status, second.status) == (status, 200)
    # The backoff alone would wait ~0.01 s: the gap is the server's Retry-After.
    assert second.started - first.started >= 0.9


def test_a_server_error_is_retried(tmp_path: Path, server: LaasServer) -> None:
    server.plan("cat-01", laas_server.server_error(500), laas_server.server_error(502))
    [follow_up] = run(flagged(1), laas_settings(tmp_path, server))
    assert follow_up.origin == "laas"
    assert [request.status for request in server.requests] == [500, 502, 200]


def test_a_hanging_call_times_out_after_max_attempts_and_the_others_still_succeed(
    tmp_path: Path, server: LaasServer
) -> None:
    server.plan("cat-02", laas_server.hang(30), laas_server.hang(30))
    settings = laas_settings(tmp_path, server, VOC_LLM_TIMEOUT_SECONDS=0.3, VOC_LLM_MAX_ATTEMPTS=2)
    follow_ups = run(flagged(3), settings)
    assert [f.origin for f in follow_ups] == ["laas", "failed", "laas"]
    assert follow_ups[1].body == ":warning: 후속 분석을 생성하지 못했습니다 (사유: timeout)"
    assert len(server.prompts_with("cat-02")) == 2


def test_exhausted_retries_report_the_last_status(tmp_path: Path, server: LaasServer) -> None:
    server.plan("cat-01", *[laas_server.server_error(503)] * 3)
    [follow_up] = run(flagged(1), laas_settings(tmp_path, server))
    assert follow_up.body == ":warning: 후속 분석을 생성하지 못했습니다 (사유: HTTP 503)"
    assert len(server.requests) == 3


def test_regression_an_unreachable_service_is_retried_then_reported_naming_the_url_setting(
    tmp_path: Path,
) -> None:
    gone = LaasServer().start()
    gone.stop()  # nothing listens on its port any more
    [follow_up] = run(flagged(1), laas_settings(tmp_path, gone))
    assert (
        follow_up.body
        == ":warning: 후속 분석을 생성하지 못했습니다 (사유: cannot connect, check LAAS_BASE_URL)"
    )


def test_a_base_url_that_does_not_resolve_is_a_one_line_reason_naming_it(tmp_path: Path) -> None:
    # A URL that is not http(s) never gets this far: the settings refuse it (tests/test_hostile_inputs.py).
    settings = make_settings(tmp_path, None, LAAS_API_KEY=API_KEY, LAAS_BASE_URL="http://laas.invalid")
    [follow_up] = run(flagged(1), settings)
    assert follow_up.origin == "failed" and "LAAS_BASE_URL" in follow_up.body and "\n" not in follow_up.body


def test_regression_retry_after_100000_is_not_waited_for_and_the_reason_names_the_cap(
    tmp_path: Path, server: LaasServer
) -> None:
    server.plan("cat-01", laas_server.rate_limited(retry_after=100000))
    settings = laas_settings(tmp_path, server, VOC_MAX_RETRY_WAIT_SECONDS=3)
    [follow_up] = run(flagged(1), settings)  # the 5 s wait Retry-After asks for (capped) is beyond 3 s
    assert follow_up.body == (
        ":warning: 후속 분석을 생성하지 못했습니다 (사유: HTTP 429, still failing after 3 s "
        "(VOC_MAX_RETRY_WAIT_SECONDS))"
    )
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_client_error_is_not_retried(tmp_path: Path, server: LaasServer, status: int) -> None:
    server.plan("cat-01", Reply(status=status, raw=b'{"error": "secret detail from the body"}'))
    [follow_up] = run(flagged(1), laas_settings(tmp_path, server))
    assert follow_up.body == f":warning: 후속 분석을 생성하지 못했습니다 (사유: HTTP {status})"
    assert len(server.requests) == 1


def test_a_wrong_key_is_not_retried_and_names_the_setting_but_not_the_key(
    tmp_path: Path, server: LaasServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_key = "laas-wrong-key-0000"
    [follow_up] = run(flagged(1), laas_settings(tmp_path, server, LAAS_API_KEY=wrong_key))
    assert follow_up.origin == "failed"
    assert "HTTP 401" in follow_up.body and "LAAS_API_KEY" in follow_up.body
    assert wrong_key not in follow_up.body and wrong_key not in caplog.text
    assert len(server.requests) == 1


def test_the_api_key_never_appears_in_a_reason_or_the_logs(
    tmp_path: Path, server: LaasServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    server.plan("cat-01", *[laas_server.server_error(500)] * 3)
    server.plan("cat-02", laas_server.hang(30), laas_server.hang(30), laas_server.hang(30))
    server.plan("cat-03", laas_server.malformed(b"not json"))
    server.plan("cat-04", laas_server.rate_limited(0.1), Reply(status=404))
    settings = laas_settings(tmp_path, server, VOC_LLM_TIMEOUT_SECONDS=0.3)
    follow_ups = run(flagged(4), settings)
    assert [f.origin for f in follow_ups] == ["failed"] * 4
    assert "retrying" in caplog.text  # the retries were logged, so the check below has teeth
    assert all(API_KEY not in f.body for f in follow_ups)
    assert API_KEY not in caplog.text
    assert all(request.headers["apikey"] == API_KEY for request in server.requests)


# Concurrency


def test_calls_run_concurrently_up_to_the_limit_and_results_keep_the_input_order(
    tmp_path: Path, server: LaasServer
) -> None:
    report = flagged(8)
    labels = [c.category_label for c in report.follow_ups]
    server.latency = 0.5
    for position, name in enumerate(labels):  # the first answer last: arrival order is not input order
        server.plan(name, Reply(latency=(8 - position) * 0.03))
    follow_ups = run(report, laas_settings(tmp_path, server, VOC_LLM_CONCURRENCY=4))
    assert server.max_in_flight == 4
    assert len(server.requests) == 8
    assert [f.category for f in follow_ups] == report.follow_ups
    assert [f.body.splitlines()[0] for f in follow_ups] == [f"{name} 후속 분석" for name in labels]


def test_the_sync_wrapper_works_where_an_event_loop_is_already_running(
    tmp_path: Path, server: LaasServer
) -> None:
    settings = laas_settings(tmp_path, server)

    async def caller() -> list[FollowUp]:
        return run(flagged(2), settings)

    assert [f.origin for f in asyncio.run(caller())] == ["laas", "laas"]


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt as in a terminal (an xdist worker process ignores SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_regression_an_interrupt_cancels_calls_sleeping_out_a_retry_after_instead_of_waiting(
    tmp_path: Path, server: LaasServer, ctrl_c_raises: None
) -> None:
    server.plan("cat-01", laas_server.rate_limited(retry_after=3), answer_after := Reply())
    settings = laas_settings(tmp_path, server)
    interrupted = threading.Event()

    def interrupt_once_rate_limited() -> None:
        while not server.requests:
            time.sleep(0.01)
        time.sleep(0.2)  # into the 3-second wait
        interrupted.set()
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C; Prefect turns SIGTERM into an exception too

    async def caller() -> list[FollowUp]:  # a running loop: the follow-ups run in another thread
        return write_laas_follow_ups_sync(flagged(1), flagged(1).follow_ups, settings)

    threading.Thread(target=interrupt_once_rate_limited, daemon=True).start()
    loop = asyncio.new_event_loop()  # not asyncio.run, whose Ctrl-C handler would only cancel
    with pytest.raises(KeyboardInterrupt):
        loop.run_until_complete(caller())
    loop.close()
    assert interrupted.is_set()
    time.sleep(4)  # past the Retry-After: a call still alive would have asked again by now
    assert [request.status for request in server.requests] == [429]
    assert answer_after.status == 200


def test_the_async_api_runs_in_the_callers_loop(tmp_path: Path, server: LaasServer) -> None:
    report = flagged(2)
    follow_ups = asyncio.run(
        write_laas_follow_ups(report, report.follow_ups, laas_settings(tmp_path, server))
    )
    assert [f.origin for f in follow_ups] == ["laas", "laas"]


def test_no_categories_need_no_key_and_no_calls(tmp_path: Path) -> None:
    assert write_laas_follow_ups_sync(flagged(0), [], make_settings(tmp_path, None)) == []


def test_a_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    report = flagged(1)
    with pytest.raises(VocError, match="LAAS_API_KEY"):
        write_laas_follow_ups_sync(report, report.follow_ups, make_settings(tmp_path, None))


# Choosing the analyst


@pytest.mark.parametrize(
    ("llm", "key", "expected"),
    [
        ("builtin", API_KEY, "builtin"),
        ("builtin", None, "builtin"),
        ("laas", API_KEY, "laas"),
        ("auto", API_KEY, "laas"),
        ("auto", None, "builtin"),
    ],
)
def test_choose_analyst(tmp_path: Path, llm: str, key: str | None, expected: str) -> None:
    assert choose_analyst(make_settings(tmp_path, None, LAAS_API_KEY=key), llm).name == expected


def test_choosing_laas_without_a_key_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(VocError, match=re.escape("--llm laas needs LAAS_API_KEY (or VOC_LAAS_SECRET_BLOCK)")):
        choose_analyst(make_settings(tmp_path, None), "laas")


# The request and the prompt


def test_the_request_has_the_preset_api_shape(tmp_path: Path, server: LaasServer) -> None:
    run(flagged(1), laas_settings(tmp_path, server))
    [request] = server.requests
    assert request.headers["project"] == "WANTED_DATA"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.body["hash"] == laas_server.PRESET_HASH
    assert request.body["messages"] == [{"role": "user", "content": request.prompt}]
    assert "cat-01" in request.prompt


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


def test_no_personal_text_of_the_corpus_reaches_a_prompt_or_a_slack_payload(
    tmp_path: Path, server: LaasServer
) -> None:
    settings = laas_settings(tmp_path, server, VOC_SOURCE_PATH=str(tmp_path / "export.parquet"))
    rows = personal_data_rows()
    write_source(tmp_path / "export.parquet", rows)
    prepare_source(settings)
    report = read_report(open_warehouse(settings), build_week(settings, REPORT_WEEK, quiet=True), REPORT_WEEK)
    flagged = [change_ for change_ in report.follow_ups if change_.category_label.startswith("개인정보")]
    assert len(flagged) == len({row["category3"] for row in rows if row["category1"] == "개인정보"})
    # The LLM quotes every sample back: the Slack replies then carry all the customer text it saw.
    for change_ in flagged:
        quoted = data_block(build_prompt(report, change_))
        server.plan(f"- 카테고리: {change_.category_label}\n", laas_server.answer(quoted))
    follow_ups = run(report, settings, flagged) + [builtin_follow_up(report, c) for c in flagged]
    assert {f.origin for f in follow_ups} == {"laas", "builtin"}

    prompts = "\n".join(request.prompt for request in server.requests)
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


# From the answer to Slack


def test_a_long_hostile_answer_becomes_valid_escaped_complete_slack_messages(
    tmp_path: Path, server: LaasServer
) -> None:
    paragraphs = [f"문단 {n}: " + " ".join(f"단어{n}-{i}" for i in range(70)) for n in range(20)]
    answer = "\n\n".join(
        [
            "# cat-01 후속 분석",
            "<!channel> **중요한 변화** 입니다. [대시보드](https://x.y/d?a=1&b=2)",
            *paragraphs,
        ]
    )
    assert len(answer) > 9000
    server.plan("cat-01", laas_server.answer(answer))
    [follow_up] = run(flagged(1), laas_settings(tmp_path, server))
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
