"""Slack mrkdwn from untrusted text: LLM Markdown converted, and nothing that can ping or break a message."""

from __future__ import annotations

import pytest

from flows.slack import mrkdwn


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**굵게**입니다", "*굵게*\u200b입니다"),  # Slack needs a boundary before a Korean particle
        ("## 원인 가설", "*원인 가설*"),
        ("- 첫째\n* 둘째", "• 첫째\n• 둘째"),
        (
            "[대시보드](https://bi.example.com/a__b__c)",
            "<https://bi.example.com/a__b__c|대시보드> (bi.example.com)",
        ),
        ("[악성](javascript:alert(1))", "악성 (javascript:alert(1))"),
        ("`__init__` 와 ```\n**raw**\n```", "`__init__` 와 ```\n**raw**\n```"),
        ("<!channel> & <@U1>", "&lt;!channel&gt; &amp; &lt;@U1&gt;"),
    ],
)
def test_llm_markdown_becomes_safe_slack_mrkdwn(markdown: str, expected: str) -> None:
    assert mrkdwn.markdown_to_mrkdwn(markdown) == expected


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        # Ticket text can steer the model into a friendly label on someone else's site: the host the
        # link opens is always shown beside it.
        ("[사내 대시보드](https://evil.example/x)", "<https://evil.example/x|사내 대시보드> (evil.example)"),
        (
            "[https://wanted.co.kr](https://evil.example)",
            "<https://evil.example|https://wanted.co.kr> (evil.example)",
        ),
        (
            "[원티드](https://wanted.co.kr@evil.example)",
            "<https://wanted.co.kr@evil.example|원티드> (evil.example)",
        ),
        ("[원티드](HTTPS://Evil.Example:8443/x)", "<HTTPS://Evil.Example:8443/x|원티드> (evil.example:8443)"),
        # A look-alike Unicode host (Cyrillic а) shows as what it is.
        ("[원티드](https://wаnted.co.kr/)", "<https://wаnted.co.kr/|원티드> (xn--wnted-4ve.co.kr)"),
        # A label that already is the host or the address says it once.
        (
            "[status.example.com](https://status.example.com)",
            "<https://status.example.com|status.example.com>",
        ),
        ("[https://a.example/b](https://a.example/b)", "<https://a.example/b|https://a.example/b>"),
        # No host Slack could open: plain text, as for any other scheme.
        ("[로컬](http://[::1]:80/x)", "로컬 (http://[::1]:80/x)"),
        ("[깨짐](https://exa&lt;mple.com/)", "깨짐 (https://exa&amp;lt;mple.com/)"),
    ],
)
def test_llm_links_show_the_host_they_open(markdown: str, expected: str) -> None:
    assert mrkdwn.markdown_to_mrkdwn(markdown) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!channel> 확인", "&lt;!channel&gt; 확인"),
        ("<@U123|name> & <#C1>", "&lt;@U123|name&gt; &amp; &lt;#C1&gt;"),
        ("&lt; already escaped", "&amp;lt; already escaped"),  # data is data, even if it looks escaped
        ("*굵게* _기울임_ `코드`", "*굵게* _기울임_ `코드`"),  # formatting is not markup that acts
    ],
)
def test_escape_makes_mentions_and_links_inert(text: str, expected: str) -> None:
    assert mrkdwn.escape(text) == expected


def test_clip_marks_the_cut_and_keeps_short_text_as_is() -> None:
    assert mrkdwn.clip("로그인 오류", 10) == "로그인 오류"
    assert mrkdwn.clip("가" * 20, 10) == "가" * 9 + "…"
    assert len(mrkdwn.clip("x" * 500, 150)) == 150


@pytest.mark.parametrize("limit", [20, 50, 3000])
def test_split_keeps_every_word_in_order_within_the_limit(limit: int) -> None:
    text = "\n\n".join(" ".join(f"단어{p}-{i}" for i in range(40)) for p in range(5))
    pieces = mrkdwn.split(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert " ".join(pieces).split() == text.split()


def test_split_never_cuts_inside_an_escape() -> None:
    text = "a" * 17 + "&amp;" + "b" * 30  # one long word: it must be cut, but not inside &amp;
    pieces = mrkdwn.split(text, 20)
    assert "".join(pieces) == text
    assert all(not piece.endswith(("&", "&a", "&am", "&amp")) for piece in pieces)
