"""The Slack messages as a user sees them: text, order, limits, escaping (no Slack, no Prefect)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from flows.formatting import KEYWORD_CHARS
from flows.llm.followups import builtin_follow_up, failed_follow_up
from flows.outcome import messages_preview
from flows.slack.messages import (
    MAX_BLOCKS,
    MESSAGE_BLOCK_BUDGET,
    MESSAGE_TEXT_BUDGET,
    SlackMessage,
    block_text_length,
    build_follow_up_messages,
    build_summary,
    preview,
)
from tests.factories import change, keyword, rollup, sample, weekly_report

HOSTILE = "결제 <!channel> & <@U123> <#C0GENERAL|general> <https://evil.example|click> 🚨"
MENTION = re.compile(r"<[!@#]|<https?://")


def assert_valid(message: SlackMessage) -> None:
    """What Slack requires of every message we send (SPEC §5)."""
    assert message.text.strip(), "a plain-text fallback is always set"
    assert 0 < len(message.blocks) <= MAX_BLOCKS
    # The budget every message is held to (README: "Message size"), well inside Slack's limits.
    assert len(message.blocks) <= MESSAGE_BLOCK_BUDGET
    assert block_text_length(message.blocks) <= MESSAGE_TEXT_BUDGET
    assert len(message.text) <= 4000
    for block in message.blocks:
        Block.parse(block).validate_json()  # raises SlackObjectFormationError
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(field["text"]) <= 2000 for field in block.get("fields", []))
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


def all_text(message: SlackMessage) -> str:
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


def sections(message: SlackMessage) -> list[str]:
    texts = []
    for block in message.blocks:
        if "text" in block and block["type"] != "header":
            texts.append(block["text"]["text"])
        texts += [field["text"] for field in block.get("fields", [])]
        texts += [element.get("text", "") for element in block.get("elements", [])]
    return texts


@pytest.fixture
def typical_report() -> Any:
    return weekly_report(
        [
            change("개인회원 / 계정 / 로그인 오류", 20, 26, "CRITICAL", 2, 3),
            change("기업회원 / 결제 / 결제 오류", 20, 20, "CRITICAL", 2, 6),
            change("개인회원 / 이벤트 / 당첨 문의", 0, 12, "MONITOR", 0, 3),
            change("기업회원 / 결제 / 환불 요청", 12, 0, "IMPROVED", 3, 0),
            change("개인회원 / 지원 / 지원 취소", 30, 31, "STABLE", 3, 3),
            change("개인회원 / 알림 / 푸시", 5, 5, "STABLE"),
        ]
    )


def test_summary_reads_as_specified(typical_report: Any) -> None:
    summary = build_summary(typical_report)
    assert_valid(summary)
    assert summary.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Weekly VOC 변화", "emoji": True},
    }
    texts = sections(summary)
    assert "기간: 기준주 (2026-11-09 ~ 2026-11-15) vs. 비교주 (2026-11-16 ~ 2026-11-22)" in texts
    assert "CRITICAL 2건 · MONITOR 1건 · IMPROVED 1건 · STABLE 2건" in texts
    assert (
        "*개인회원 / 계정 / 로그인 오류*\nVOC 수: 20 → 26 (↑6) / +30.0%\n"
        "부정비율: 10.0% → 11.5% (+1.5p)\n이력 부족" in texts
    )
    assert (
        "*개인회원 / 이벤트 / 당첨 문의*\nVOC 수: 0 → 12 (↑12) / 신규\n부정비율: n/a → 25.0%\n이력 부족"
        in texts
    )
    assert (
        "*기업회원 / 결제 / 환불 요청*\nVOC 수: 12 → 0 (↓12) / -100.0%\n부정비율: 25.0% → n/a\n이력 부족"
        in texts
    )
    assert not any("지원 취소" in text for text in texts), "STABLE is counted, not listed"


def test_severities_are_listed_in_order_then_largest_change_first(typical_report: Any) -> None:
    text = all_text(build_summary(typical_report))
    order = [text.index(s) for s in (":rotating_light: *CRITICAL*", ":eyes: *MONITOR*", "*IMPROVED*")]
    assert order == sorted(order)
    assert text.index("로그인 오류") < text.index("결제 오류")  # +6 before ±0


def test_footer_states_the_thresholds_in_force(typical_report: Any) -> None:
    stricter = typical_report.model_copy(
        update={"thresholds": typical_report.thresholds.model_copy(update={"critical_min_volume": 35})}
    )
    footer = sections(build_summary(stricter))[-1]
    assert footer.startswith("기준: CRITICAL: (증가≥30% 또는 부정비율 +20%p) & VOC≥35")
    assert "IMPROVED: 감소≥20% & VOC≥10" in footer


def test_dashboard_button_only_when_configured(typical_report: Any) -> None:
    assert build_summary(typical_report).blocks[-1]["type"] == "context"
    with_button = build_summary(typical_report, dashboard_url="https://bi.example.com/voc")
    assert_valid(with_button)
    assert with_button.blocks[-1]["elements"][0]["url"] == "https://bi.example.com/voc"


@pytest.mark.parametrize("dashboard_url", [None, "https://bi.example.com/voc"])
def test_docs_link_in_the_footer_only_when_configured(typical_report: Any, dashboard_url: str | None) -> None:
    docs = "https://storage.googleapis.com/b/docs/index.html#!/model/model.voc_weekly.voc_weekly_comparison"
    with_docs = build_summary(typical_report, dashboard_url=dashboard_url, docs_url=docs)
    assert_valid(with_docs)
    buttons = with_docs.blocks[-1]["elements"]
    assert [(b["text"]["text"], b["url"]) for b in buttons][-1] == ("모델 문서", docs)
    assert len(buttons) == (2 if dashboard_url else 1)
    assert "모델 문서" in preview(with_docs)
    assert all(block["type"] != "actions" for block in build_summary(typical_report).blocks)


def test_quiet_week_says_so_with_the_counts() -> None:
    quiet = build_summary(weekly_report([change("a / b / c", 10, 10, "STABLE")]))
    assert_valid(quiet)
    texts = sections(quiet)
    assert "✅ 눈에 띄는 변화가 없습니다." in texts
    assert "CRITICAL 0건 · MONITOR 0건 · IMPROVED 0건 · STABLE 1건" in texts


def test_300_flagged_categories_fit_one_valid_message_with_the_largest_shown() -> None:
    changes = [change(f"개인회원 / 대량 / 항목 {i:03d}", 20, 26 + i, "CRITICAL") for i in range(300)]
    summary = build_summary(weekly_report(changes))
    assert_valid(summary)
    texts = sections(summary)
    assert "외 280건" in texts
    assert any("항목 299" in text for text in texts)  # the largest change is shown
    assert not any("항목 000" in text for text in texts)


def test_data_cannot_ping_anyone_anywhere_in_the_report() -> None:
    label = f"{HOSTILE} / {HOSTILE} / {'긴 이름' * 400}"
    report = weekly_report(
        [change(label, 20, 40, "CRITICAL", 0, 10)],
        samples=[
            sample(label, "reported", 1, HOSTILE, HOSTILE * 200),
            sample(label, "previous", 1, "a", "b"),
        ],
        keywords=[keyword(label, "<!here>", 1, 9, 1)],
    )
    messages = [build_summary(report)]
    messages += build_follow_up_messages(builtin_follow_up(report, report.follow_ups[0]))
    messages += build_follow_up_messages(failed_follow_up(report.follow_ups[0], "<!channel> timeout"))
    for message in messages:
        assert_valid(message)
        assert not MENTION.search(all_text(message)), all_text(message)[:300]
        assert "&lt;!channel&gt;" in all_text(message) and "&amp;" in all_text(message)
    assert "🚨" in all_text(messages[1])


def test_builtin_follow_up_labels_each_weeks_samples_correctly() -> None:
    label = "개인회원 / 계정 / 로그인 오류"
    report = weekly_report(
        [change(label, 10, 30, "CRITICAL", 1, 12)],
        samples=[
            sample(label, "reported", 1, "이번 주 로그인 불가", "앱 업데이트 후 로그인이 안 됩니다"),
            sample(label, "previous", 1, "지난주 비밀번호", "비밀번호 재설정 메일이 안 와요", "중립"),
        ],
        keywords=[keyword(label, "앱 업데이트", 0, 9, 1), keyword(label, "비밀번호", 5, 4, 2)],
    )
    (message,) = build_follow_up_messages(builtin_follow_up(report, report.follow_ups[0]))
    assert_valid(message)
    text = preview(message)
    assert text.startswith("*[CRITICAL] 개인회원 / 계정 / 로그인 오류*\nVOC 수: 10 → 30 (↑20) / +200.0%")
    assert "_자동 요약 (LLM 미설정)_" in text
    assert "• 앱 업데이트: 0 → 9 (+9)" in text and "비밀번호: 5 → 4" not in text
    reported = text.index("비교주 (2026-11-16 ~ 2026-11-22):")
    baseline = text.index("기준주 (2026-11-09 ~ 2026-11-15):")
    assert reported < text.index("이번 주 로그인 불가") < baseline < text.index("지난주 비밀번호")


def test_long_analysis_is_split_across_blocks_and_messages_without_loss() -> None:
    report = weekly_report([change("a / b / c", 10, 30, "CRITICAL")])
    words = [f"단어{i}" for i in range(40_000)]
    body = " ".join(words)  # ~250,000 characters: more than one message can hold
    follow_up = builtin_follow_up(report, report.follow_ups[0])
    messages = build_follow_up_messages(
        type(follow_up)(category=follow_up.category, body=body, origin="laas")
    )
    assert len(messages) > 1
    for message in messages:
        assert_valid(message)
    body_text = " ".join(
        block["text"]["text"]
        for message in messages
        for block in message.blocks[(1 if message is messages[0] else 0) :]
    )
    assert body_text.split() == words
    assert [m.key for m in messages] == [f"{messages[0].key[:-2]}-{n}" for n in range(1, len(messages) + 1)]


def test_failure_notice_is_valid_escaped_and_keyed_by_its_reason() -> None:
    from flows.slack.messages import failure_notice

    notice = failure_notice("the source data ends at <!channel> & 2026-11-20 18:45 KST")
    assert_valid(notice)
    assert notice.text == (
        ":warning: 주간 VOC 리포트를 보내지 않았습니다: "
        "the source data ends at &lt;!channel&gt; &amp; 2026-11-20 18:45 KST"
    )
    assert notice.key == failure_notice("the source data ends at <!channel> & 2026-11-20 18:45 KST").key
    assert notice.key != failure_notice("another reason").key


def with_evidence(weekly: str, q: float, significant: bool, streak: int = 1, **more: Any) -> dict[str, Any]:
    """The evidence columns of a comparison row with an 8-week baseline."""
    return {
        "baseline_weeks_used": len(weekly.split(",")),
        "baseline_weekly_tickets": weekly,
        "expected_tickets_low": 8.4,
        "expected_tickets_high": 15.6,
        "q_value": q,
        "is_significant": significant,
        "flagged_weeks_in_a_row": streak,
        **more,
    }


@pytest.fixture
def evidence_report() -> Any:
    return weekly_report(
        [
            # The larger change is within normal variation; the smaller one is significant.
            change(
                "개인회원 / 결제 / 흔들림",
                10,
                30,
                "CRITICAL",
                **with_evidence("9,31,8,30,12,29,10,10", 0.42, False),
            ),
            change(
                "개인회원 / 계정 / 로그인 오류",
                24,
                28,
                "CRITICAL",
                **with_evidence("0,4,8,12,16,20,24", 0.0004, True, streak=3),
            ),
            change(
                "기업회원 / 결제 / 환불",
                40,
                20,
                "IMPROVED",
                **with_evidence("40,41,39,40,40,42,38,40", 0.01, True),
            ),
        ],
        baseline_weeks=8,
        fdr_alpha=0.05,
    )


def test_significant_flags_come_first_with_a_marker_others_say_within_normal_variation(
    evidence_report: Any,
) -> None:
    summary = build_summary(evidence_report)
    assert_valid(summary)
    text = all_text(summary)
    assert text.index("로그인 오류") < text.index("흔들림"), "significant first, though its change is smaller"
    texts = sections(summary)
    login = next(t for t in texts if "로그인 오류" in t)
    assert login.startswith("◆ *개인회원 / 계정 / 로그인 오류*\n")
    assert login.endswith("\n▁▂▃▄▅▆▇█ · 유의 (q<0.001) · 3주 연속")
    wobbly = next(t for t in texts if "흔들림" in t)
    assert wobbly.startswith("*개인회원 / 결제 / 흔들림*")
    assert wobbly.endswith("· 변동 범위 내 (q=0.420)")
    assert "주 연속" not in wobbly, "a first flagged week is no streak"
    assert next(t for t in texts if "환불" in t).startswith("◆ *기업회원 / 결제 / 환불*")


def test_sparkline_shows_the_last_eight_weeks_with_this_week_last() -> None:
    eight = change("a / b / c", 8, 16, "CRITICAL", **with_evidence("99,0,2,4,6,8,10,8", 0.01, True))
    field = sections(build_summary(weekly_report([eight])))[3]
    # 99 is nine weeks back: outside the sparkline, so 16 is the tallest bar.
    assert field.splitlines()[-1].startswith("▁▂▃▄▅▅▅█ ·")


def test_footer_states_the_baseline_and_false_discovery_level_in_force(evidence_report: Any) -> None:
    stricter = evidence_report.model_copy(
        update={
            "thresholds": evidence_report.thresholds.model_copy(
                update={"baseline_weeks": 6, "fdr_alpha": 0.1}
            )
        }
    )
    summary = build_summary(stricter)
    evidence_footer = summary.blocks[-2]["elements"][0]["text"]
    assert evidence_footer.startswith("◆ 근거: 최근 6주 기준선 대비 · FDR 10% (Benjamini–Hochberg)")
    assert "변동 범위 내" in evidence_footer
    assert sections(summary)[-1].startswith("기준: CRITICAL:")


def test_300_flagged_categories_with_evidence_still_fit_one_valid_message() -> None:
    changes = [
        change(
            f"개인회원 / 대량 / 항목 {i:03d}",
            20,
            26 + i,
            "CRITICAL",
            **with_evidence("20,21,19,22,20,18,21,20", 0.001 * (i % 7), i % 2 == 0, streak=i % 9),
        )
        for i in range(300)
    ]
    summary = build_summary(weekly_report(changes))
    assert_valid(summary)
    assert "외 280건" in sections(summary)


def test_reply_shows_the_baseline_weeks_and_verdict_before_the_analysis(evidence_report: Any) -> None:
    login = evidence_report.with_severity("CRITICAL")[1]
    assert login.category_label.endswith("로그인 오류")
    messages = build_follow_up_messages(builtin_follow_up(evidence_report, login))
    heading = messages[0].blocks[0]["text"]["text"]
    assert heading == (
        "*[CRITICAL] 개인회원 / 계정 / 로그인 오류*\n"
        "VOC 수: 24 → 28 (↑4) / +16.7% · 부정비율: 0.0% → 0.0% (+0.0p)\n"
        "최근 7주 0, 4, 8, 12, 16, 20, 24 → 이번 주 28 (예상 8–16건)\n"
        "판정: 유의 (q<0.001) · 3주 연속"
    )
    assert "자동 요약" in messages[0].blocks[1]["text"]["text"], "the analysis comes after the figures"


def test_reply_without_history_says_the_evidence_is_missing() -> None:
    new = change("a / b / 신규", 0, 30, "CRITICAL")
    heading = build_follow_up_messages(builtin_follow_up(weekly_report([new]), new))[0].blocks[0]["text"][
        "text"
    ]
    assert heading.endswith("\n판정: 이력 부족")
    assert "최근" not in heading


def rollup_section(message: SlackMessage) -> str | None:
    """The text of the 🔎 묶음 변화 section, or None when the summary has none."""
    return next((t for t in sections(message) if t.startswith("*🔎 묶음 변화*")), None)


def test_a_spread_change_no_category_shows_gets_one_line_with_its_drivers(typical_report: Any) -> None:
    report = typical_report.model_copy(
        update={
            "rollups": (
                rollup("기업회원 / 채용공고", 90, 126, 0.003, drivers="공고 등록 10→15, 공고 수정 9→14"),
                rollup("기업회원", 200, 240, 0.004, explained=True, drivers="채용공고 90→126"),
                rollup("개인회원", 150, 160, 0.4),
            )
        }
    )
    summary = build_summary(report)
    assert_valid(summary)
    assert rollup_section(summary) == (
        "*🔎 묶음 변화* (개별 분류로는 드러나지 않는 묶음 단위 변화)\n"
        "• *기업회원 / 채용공고* (6개 하위 분류) · 90 → 126 (↑36) / +40.0% · 유의 (q=0.003)"
        " · 주요 공고 등록 10→15, 공고 수정 9→14"
    ), "the category1 its group explains and the non-significant roll-up are left out"
    texts = sections(summary)
    position = texts.index(rollup_section(summary) or "")
    assert texts.index(next(t for t in texts if "환불 요청" in t)) < position, "after the severities"
    assert position < next(n for n, t in enumerate(texts) if t.startswith("기준:")), "before the footer"


def test_no_rollup_section_when_every_significant_rollup_is_explained_or_there_is_none(
    typical_report: Any,
) -> None:
    assert rollup_section(build_summary(typical_report)) is None
    explained = typical_report.model_copy(
        update={"rollups": (rollup("개인회원 / 계정", 20, 40, 0.001, explained=True),)}
    )
    assert rollup_section(build_summary(explained)) is None


def test_at_most_five_rollup_lines_then_how_many_more() -> None:
    rollups = [rollup(f"묶음{n} / 하위", 100, 150 + n, 0.001 * (n + 1)) for n in range(8)]
    summary = build_summary(weekly_report([change("a / b / c", 10, 10, "STABLE")], rollups=rollups))
    assert_valid(summary)
    lines = (rollup_section(summary) or "").split("\n")[1:]
    assert [line.split(" · ")[0] for line in lines[:5]] == [
        f"• *묶음{n} / 하위* (6개 하위 분류)" for n in range(5)
    ], "the strongest first"
    assert lines[5:] == ["외 3건"]


def test_rollup_names_and_drivers_cannot_ping_anyone() -> None:
    hostile = rollup(f"{HOSTILE} / 하위", 10, 30, 0.001, drivers=f"{HOSTILE} 1→9")
    summary = build_summary(weekly_report([change("a / b / c", 10, 10, "STABLE")], rollups=[hostile]))
    assert_valid(summary)
    assert not MENTION.search(rollup_section(summary) or "")


# Message size (issue 21): the summary and the replies stay within the documented budget.

LONG_LEVEL = "아주 긴 분류 이름 & <태그>" * 9  # ~150 characters, longer once escaped


@pytest.mark.parametrize("max_per_severity", [20, 100])  # the default and the largest allowed
@pytest.mark.parametrize("label_chars", [30, 150, 200])
def test_summary_stays_within_the_budget_whatever_the_labels_and_the_setting(
    max_per_severity: int, label_chars: int
) -> None:
    """Regression: with VOC_SUMMARY_MAX_PER_SEVERITY=100 a summary carried 31,490 characters of text
    (72,937 with 150-character labels), and 15,093 with the default and long labels."""
    changes = [
        change(f"{LONG_LEVEL[: label_chars - 12]} / {severity[:3]} / {i:03d}", 20, 40 + i, severity)
        for severity in ("CRITICAL", "MONITOR", "IMPROVED")
        for i in range(120)
    ]
    summary = build_summary(weekly_report(changes), max_per_severity=max_per_severity)
    assert_valid(summary)
    texts = sections(summary)
    listed = {
        severity: sum(f" / {severity[:3]} / " in text for text in texts) for severity in ("CRI", "MON", "IMP")
    }
    assert all(n >= 1 for n in listed.values()), listed
    # Every category is either listed or counted in its severity's '외 N건'.
    hidden = [int(text[2:-1]) for text in texts if re.fullmatch(r"외 \d+건", text)]
    assert sum(listed.values()) + sum(hidden) == 360, (listed, hidden)
    assert any(" / CRI / 119" in text for text in texts)  # the largest changes are the ones shown


def test_a_huge_keyword_is_clipped_and_the_reply_stays_within_the_budget() -> None:
    """Regression: one 200,000-character keyword made a reply of 147,157 characters in 50 blocks."""
    label = "a / b / c"
    huge = "키워드" * 66_667
    report = weekly_report(
        [change(label, 10, 30, "CRITICAL")],
        samples=[sample(label, "reported", 1, huge, huge), sample(label, "previous", 1, huge, huge)],
        keywords=[keyword(label, huge, 0, 9, 1), keyword(label, "로그인", 1, 5, 2)],
    )
    (message,) = build_follow_up_messages(builtin_follow_up(report, report.follow_ups[0]))
    assert_valid(message)
    lines = preview(message).splitlines()
    keyword_line = next(line for line in lines if line.startswith("• 키워드"))
    assert len(keyword_line) <= KEYWORD_CHARS + 20 and "…" in keyword_line
    assert "• 로그인: 1 → 5 (+4)" in lines


def test_a_long_analysis_continues_in_messages_that_each_stay_within_the_budget() -> None:
    report = weekly_report([change("a / b / c", 10, 30, "CRITICAL")])
    paragraphs = [f"{n}번째 문단 " + "분석 내용이 이어집니다. " * 120 for n in range(60)]
    body = "\n\n".join(paragraphs)  # ~110,000 characters in paragraphs of ~1,800
    follow_up = builtin_follow_up(report, report.follow_ups[0])
    messages = build_follow_up_messages(
        type(follow_up)(category=follow_up.category, body=body, origin="laas")
    )
    assert len(messages) > 1
    for message in messages:
        assert_valid(message)
    shown = "\n\n".join(
        block["text"]["text"]
        for message in messages
        for block in message.blocks[(1 if message is messages[0] else 0) :]
    )
    assert shown.split() == body.split()  # nothing lost


CONTROL_SEQUENCES = "\x1b]0;owned\x07\x1b[2J\x1b[8m숨김\x1b[0m\x9b31m\r\x00\x7f"


def test_control_characters_from_data_never_reach_a_message_or_the_preview() -> None:
    """Regression (issue 21): ESC]0;… retitled the terminal, ESC[2J cleared it and ESC[8m hid text
    when `voc-weekly run` printed the preview; the same characters went into the Slack payloads."""
    label = f"결제 {CONTROL_SEQUENCES} / b / c"
    report = weekly_report(
        [change(label, 10, 30, "CRITICAL")],
        samples=[sample(label, "reported", 1, CONTROL_SEQUENCES, f"본문{CONTROL_SEQUENCES}")],
        keywords=[keyword(label, CONTROL_SEQUENCES, 0, 9, 1)],
    )
    messages = [build_summary(report)]
    messages += build_follow_up_messages(builtin_follow_up(report, report.follow_ups[0]))
    messages += build_follow_up_messages(failed_follow_up(report.follow_ups[0], CONTROL_SEQUENCES))
    printed = messages_preview(messages)
    for text in [printed, *(all_text(message) for message in messages)]:
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), ascii(text[:200])
        assert "\\u001b" not in text  # nor escaped in the JSON
    assert "결제 ]0;owned[2J[8m숨김[0m31m / b / c" in printed
