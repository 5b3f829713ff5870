"""The Slack messages of a report (SPEC §5, §6), as Block Kit built with slack_sdk's block models.

Plain functions: no I/O, so every message can be checked without Slack or Prefect.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from flows.formatting import (
    baseline_weeks_text,
    criteria_text,
    evidence_footer_text,
    evidence_line,
    neg_ratio_text,
    q_text,
    rollup_change_text,
    rollup_drivers_text,
    significance_text,
    streak_text,
    ticket_change_text,
)
from flows.llm.followups import FollowUp
from flows.report import CategoryChange, CategoryKey, Coverage, Rollup, Severity, WeeklyReport
from flows.slack import mrkdwn
from flows.weeks import kst_text, week_range_text

# Slack's limits (https://api.slack.com/reference/block-kit/blocks)
MAX_BLOCKS = 50
SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
FIELDS_PER_SECTION = 10
LABEL_LIMIT = 200  # a category label longer than this is clipped (before escaping)
# The budget every message we post is held to, with room under Slack's limits: at most 40 blocks
# (of 50) and 11,000 characters of text in its blocks (Slack refuses much past 12,000 with
# msg_blocks_too_long, and truncates a message past 40,000). The summary lists fewer categories
# ('외 N건') and a long reply continues in another message, rather than break either.
MESSAGE_BLOCK_BUDGET = 40
MESSAGE_TEXT_BUDGET = 11_000

LISTED_SEVERITIES: tuple[Severity, ...] = ("CRITICAL", "MONITOR", "IMPROVED")
SEVERITY_TITLES: dict[Severity, str] = {
    "CRITICAL": ":rotating_light: *CRITICAL*",
    "MONITOR": ":eyes: *MONITOR*",
    "IMPROVED": ":large_green_circle: *IMPROVED*",
    "STABLE": "*STABLE*",
}
QUIET_WEEK_TEXT = "✅ 눈에 띄는 변화가 없습니다."
ROLLUP_TITLE = "🔎 묶음 변화"
MAX_ROLLUP_LINES = 5
SIGNIFICANT_MARK = "◆"  # before the label of a flag that passes the false-discovery gate
SUMMARY_KEY = "summary"  # the summary's ledger key
SNOOZED_TITLE = "🔕 숨김 중"
SNOOZE_ENDED_TEXT = "숨김 해제: 악화"
# The only mentions the product ever writes: owners from the seed voc_category_owners (SPEC §13).
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_USER_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage: `key` names it in the delivery ledger, `text` is the fallback."""

    key: str
    text: str
    blocks: tuple[dict[str, Any], ...]

    def post_args(self, channel: str, thread_ts: str | None = None) -> dict[str, Any]:
        """Exactly the chat.postMessage arguments (the dry run writes these to disk)."""
        args: dict[str, Any] = {
            "channel": channel,
            "text": self.text,
            "blocks": list(self.blocks),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            args["thread_ts"] = thread_ts
        return args


def _md(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn names or URLs in the data into links or mentions
    return MarkdownTextObject(text=text, verbatim=True)


def _to_dicts(blocks: list[Block]) -> tuple[dict[str, Any], ...]:
    return tuple(block.to_dict() for block in blocks)


def block_text_length(blocks: list[Block] | tuple[dict[str, Any], ...]) -> int:
    """Characters of text in the blocks: every `text` of every block, field, element and button."""
    total = 0
    pending: list[Any] = [block.to_dict() if isinstance(block, Block) else block for block in blocks]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "text" and isinstance(item, str):
                    total += len(item)
                else:
                    pending.append(item)
        elif isinstance(value, list):
            pending.extend(value)
    return total


def within_budget(blocks: list[Block]) -> bool:
    """Whether a message of these blocks stays within MESSAGE_BLOCK_BUDGET and MESSAGE_TEXT_BUDGET."""
    return len(blocks) <= MESSAGE_BLOCK_BUDGET and block_text_length(blocks) <= MESSAGE_TEXT_BUDGET


def period_text(report: WeeklyReport) -> str:
    return (
        f"기간: 기준주 ({week_range_text(report.previous_week)}) vs. "
        f"비교주 ({week_range_text(report.report_week)})"
    )


def counts_text(report: WeeklyReport) -> str:
    return " · ".join(f"{severity} {n}건" for severity, n in report.counts().items())


def is_quiet(report: WeeklyReport) -> bool:
    """Nothing to follow up: no CRITICAL and no MONITOR category."""
    return not report.follow_ups


def category_field(change: CategoryChange) -> str:
    """A category's cell in the summary: label (marked if significant), counts, negative ratio, evidence."""
    label = mrkdwn.escape(mrkdwn.clip(change.category_label, LABEL_LIMIT))
    mark = f"{SIGNIFICANT_MARK} " if change.is_significant else ""
    text = (
        f"{mark}*{label}*\nVOC 수: {ticket_change_text(change)}\n부정비율: {neg_ratio_text(change)}"
        f"\n{evidence_line(change)}"
    )
    return mrkdwn.clip(text, FIELD_TEXT_LIMIT)


def significant_first(changes: list[CategoryChange]) -> list[CategoryChange]:
    """Significant flags first; within each group the report order (largest change first) stays."""
    return sorted(changes, key=lambda change: not change.is_significant)


def _severity_blocks(severity: Severity, changes: list[CategoryChange], max_listed: int) -> list[Block]:
    """Title, the largest `max_listed` categories as two-column fields, and '외 N건' for the rest."""
    listed, hidden = changes[:max_listed], len(changes) - max_listed
    blocks: list[Block] = [
        DividerBlock(),
        SectionBlock(text=_md(f"{SEVERITY_TITLES[severity]} ({len(changes)}건)")),
    ]
    for start in range(0, len(listed), FIELDS_PER_SECTION):
        chunk = listed[start : start + FIELDS_PER_SECTION]
        blocks.append(SectionBlock(fields=[_md(category_field(change)) for change in chunk]))
    if hidden > 0:
        blocks.append(ContextBlock(elements=[_md(f"외 {hidden}건")]))
    return blocks


def build_summary(
    report: WeeklyReport,
    *,
    max_per_severity: int = 20,
    dashboard_url: str | None = None,
    docs_url: str | None = None,
) -> SlackMessage:
    """The summary message (SPEC §5): always valid Block Kit, whatever the number of categories."""
    head: list[Block] = [
        HeaderBlock(text="Weekly VOC 변화"),
        SectionBlock(text=_md(period_text(report))),
    ]
    if is_quiet(report):
        head.append(SectionBlock(text=_md(QUIET_WEEK_TEXT)))
    head.append(SectionBlock(text=_md(counts_text(report))))
    foot: list[Block] = [
        DividerBlock(),
        ContextBlock(elements=[_md(f"{SIGNIFICANT_MARK} {evidence_footer_text(report.thresholds)}")]),
        ContextBlock(elements=[_md(f"기준: {criteria_text(report.thresholds)}")]),
    ]
    if snoozed := snoozed_line(report):
        foot.insert(0, SectionBlock(text=_md(snoozed)))
    if feedback := feedback_footer(report):
        foot.append(ContextBlock(elements=[_md(feedback)]))
    foot += [ContextBlock(elements=[_md(note)]) for note in data_notes(report.coverage)]
    links = (
        [ButtonElement(text="대시보드 열기", url=dashboard_url, action_id="dashboard")]
        if dashboard_url
        else []
    )
    # The dbt docs of the comparison model: how the rule and the evidence above are computed.
    links += [ButtonElement(text="모델 문서", url=docs_url, action_id="docs")] if docs_url else []
    if links:
        foot.append(ActionsBlock(elements=links))

    # The 🔎 section (at most MAX_ROLLUP_LINES short lines) comes first out of the budget.
    rollups = rollup_blocks(report)
    # Each severity costs at most: divider, title, its field sections and the overflow line. Then
    # as many categories per severity as keep the message within its budget (long labels fill the
    # text budget long before the block budget); the rest are counted as '외 N건'.
    per_severity_budget = (MESSAGE_BLOCK_BUDGET - len(head) - len(foot) - len(rollups)) // len(
        LISTED_SEVERITIES
    ) - 3
    max_listed = max(min(max_per_severity, per_severity_budget * FIELDS_PER_SECTION), 0)
    while True:
        body: list[Block] = []
        for severity in LISTED_SEVERITIES:
            # A snoozed flag is counted above and listed on its own line below, not among the flags.
            if changes := [change for change in report.with_severity(severity) if not change.is_snoozed]:
                body += _severity_blocks(severity, significant_first(changes), max_listed)
        body += rollups
        if within_budget(head + body + foot) or max_listed == 0:
            break
        max_listed -= 1

    text = f"Weekly VOC 변화 · {period_text(report)} · {counts_text(report)}"
    return SlackMessage(key=SUMMARY_KEY, text=text, blocks=_to_dicts(head + body + foot))


def month_day_text(day: date) -> str:
    """'3월 2일'."""
    return f"{day.month}월 {day.day}일"


def snoozed_line(report: WeeklyReport) -> str | None:
    """'🔕 숨김 중: A / B / C (3월 2일까지), …': the flags the team snoozed, on one line (or None)."""
    if not (snoozed := report.snoozed):
        return None
    title = f"{SNOOZED_TITLE}: "
    items = [
        mrkdwn.escape(mrkdwn.clip(change.category_label, LABEL_LIMIT))
        + (f" ({month_day_text(change.snoozed_until)}까지)" if change.snoozed_until else "")
        for change in snoozed
    ]
    shown = items
    while len(title) + len(", ".join(shown)) > SECTION_TEXT_LIMIT - 20 and len(shown) > 1:
        shown = shown[:-1]
    hidden = len(items) - len(shown)
    return title + ", ".join(shown) + (f" 외 {hidden}건" if hidden else "")


def feedback_footer(report: WeeklyReport) -> str | None:
    """'지난 12주 팀 피드백: 👍 n · 👎 m (유효 비율 x%)', when the window's replies got any feedback."""
    weeks = report.feedback
    if not any(week.replies_with_feedback for week in weeks):
        return None
    useful = sum(week.useful for week in weeks)
    false_alarm = sum(week.false_alarm for week in weeks)
    judged = useful + false_alarm
    share = f"{round(100 * useful / judged)}%" if judged else "-"
    return f"지난 {report.feedback_weeks}주 팀 피드백: 👍 {useful} · 👎 {false_alarm} (유효 비율 {share})"


def owner_mentions(owners: str | None) -> str:
    """'<@U…> <!subteam^S…>' for the owners' Slack IDs; anything else in the text is left out.

    The seed's dbt tests refuse a bad ID before a run gets here; this keeps anything but an ID from
    ever becoming a mention all the same.
    """
    mentions = []
    for token in (owners or "").split():
        if _USER_ID.fullmatch(token):
            mentions.append(f"<@{token}>")
        elif _USER_GROUP_ID.fullmatch(token):
            mentions.append(f"<!subteam^{token}>")
    return " ".join(dict.fromkeys(mentions))


def rollup_line(rollup: Rollup) -> str:
    """One roll-up of the 🔎 section: label, both weeks, its q-value and the children that drive it."""
    label = mrkdwn.escape(mrkdwn.clip(rollup.rollup_label, LABEL_LIMIT))
    parts = [f"*{label}* ({rollup.child_categories}개 하위 분류)", rollup_change_text(rollup)]
    parts.append(f"유의 ({q_text(rollup.q_value)})")
    if drivers := rollup_drivers_text(rollup):
        parts.append(mrkdwn.escape(mrkdwn.clip(drivers, LABEL_LIMIT)))
    return " · ".join(parts)


def rollup_blocks(report: WeeklyReport) -> list[Block]:
    """`🔎 묶음 변화`: significant roll-ups that no significant child explains, at most
    MAX_ROLLUP_LINES lines and '외 N건'; nothing when there are none."""
    news = report.rollup_news
    if not news:
        return []
    lines = [f"• {rollup_line(rollup)}" for rollup in news[:MAX_ROLLUP_LINES]]
    if len(news) > MAX_ROLLUP_LINES:
        lines.append(f"외 {len(news) - MAX_ROLLUP_LINES}건")
    text = f"*{ROLLUP_TITLE}* (개별 분류로는 드러나지 않는 묶음 단위 변화)\n" + "\n".join(lines)
    return [DividerBlock(), SectionBlock(text=_md(mrkdwn.clip(text, SECTION_TEXT_LIMIT)))]


def data_notes(coverage: Coverage) -> list[str]:
    """Korean footer lines for source rows the report could not use (nothing is dropped silently)."""
    notes = []
    if coverage.rows_without_id:
        notes.append(
            f":warning: ID가 없는 원본 행 {coverage.rows_without_id}건은 집계에서 제외했습니다 "
            f"(기준주 {coverage.previous_rows_without_id}건 · 비교주 {coverage.reported_rows_without_id}건)."
        )
    if coverage.rows_without_create_time:
        notes.append(
            f":warning: 생성 시각(event_create_time)이 없는 원본 행 {coverage.rows_without_create_time}건은 "
            "어느 주에도 집계하지 않았습니다."
        )
    if coverage.future_tickets and coverage.last_future_ticket_at is not None:
        notes.append(
            f":warning: 생성 시각이 실행 시각보다 늦은 티켓 {coverage.future_tickets}건"
            f"(가장 늦은 것 {kst_text(coverage.last_future_ticket_at)} KST)은 "
            "데이터 적재 확인에서 제외했습니다."
        )
    return notes


def failure_notice(reason: str) -> SlackMessage:
    """The short message saying why this week's report is missing (once per distinct reason).

    `reason` is Korean, like everything posted to the channel: a VocError's `slack_text`.
    """
    text = f":warning: 주간 VOC 리포트를 보내지 않았습니다: {mrkdwn.escape(reason)}"
    digest = hashlib.sha256(reason.encode("utf-8")).hexdigest()[:12]
    return SlackMessage(key=f"notice-{digest}", text=text, blocks=_to_dicts([SectionBlock(text=_md(text))]))


def reply_key(category: CategoryKey, page: int = 1) -> str:
    """The ledger key of a category's thread reply, from its three levels (labels can collide)."""
    # JSON keeps the levels apart: ('a / b', 'c') and ('a', 'b / c') give different keys.
    levels = json.dumps(list(category), ensure_ascii=False)
    digest = hashlib.sha256(levels.encode("utf-8")).hexdigest()[:16]
    return f"reply-{digest}-{page}"


def build_follow_up_messages(follow_up: FollowUp, owners: str | None = None) -> list[SlackMessage]:
    """A category's thread reply: its owners' mentions, heading with its figures, then the analysis.

    A long analysis is split into several sections, and past the message budget (blocks or text)
    into several messages, so nothing is ever cut off and Slack refuses none of them. Only the first
    message mentions the owners.
    """
    change = follow_up.category
    label = mrkdwn.escape(mrkdwn.clip(change.category_label, LABEL_LIMIT))
    mentions = owner_mentions(owners)
    lines = [mentions] if mentions else []
    lines.append(f"*[{change.severity}] {label}*")
    if change.snooze_ended_by_escalation:
        lines.append(snooze_ended_text(change))
    heading = SectionBlock(text=_md("\n".join([*lines, reply_figures_text(change)])))
    fallback = f"[{change.severity}] {mrkdwn.clip(label, 150)} 후속 분석"
    first_fallback = f"{mentions} {fallback}" if mentions else fallback  # notifications show the text

    pages: list[list[Block]] = [[]]
    for piece in mrkdwn.split(follow_up.body, SECTION_TEXT_LIMIT):
        section = SectionBlock(text=_md(piece))
        page = ([heading] if len(pages) == 1 else []) + pages[-1] + [section]
        if pages[-1] and not within_budget(page):
            pages.append([])
        pages[-1].append(section)
    return [
        SlackMessage(
            key=reply_key(change.category, number),
            text=first_fallback if number == 1 else f"{fallback} ({number}/{len(pages)})",
            blocks=_to_dicts(([heading] if number == 1 else []) + page),
        )
        for number, page in enumerate(pages, start=1)
    ]


def snooze_ended_text(change: CategoryChange) -> str:
    """':bell: 숨김 해제: 악화 (…)': the team snoozed this category, and it got worse since."""
    until = f", {month_day_text(change.snoozed_until)}까지 숨김 예정이었음" if change.snoozed_until else ""
    return f":bell: {SNOOZE_ENDED_TEXT} (🔕 이후 더 나빠져 다시 알립니다{until})"


def reply_figures_text(change: CategoryChange) -> str:
    """The reply's figures before the analysis: both weeks, the baseline weeks against this week's
    expected band, and whether the change is significant (with its streak)."""
    lines = [f"VOC 수: {ticket_change_text(change)} · 부정비율: {neg_ratio_text(change)}"]
    if change.baseline_weeks_used > 0:
        lines.append(baseline_weeks_text(change))
    verdict = " · ".join(part for part in (significance_text(change), streak_text(change)) if part)
    lines.append(f"판정: {verdict}")
    return "\n".join(lines)


def preview(message: SlackMessage) -> str:
    """A readable plain-text rendering of a message's blocks, for the terminal and artifacts."""
    lines: list[str] = []
    for block in message.blocks:
        kind = block["type"]
        if kind == "header":
            lines.append(f"# {block['text']['text']}")
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "section" and "text" in block:
            lines.append(block["text"]["text"])
        elif kind == "section":
            lines += [field["text"].replace("\n", "\n  ") for field in block["fields"]]
        elif kind == "context":
            lines += [element["text"] for element in block["elements"]]
        elif kind == "actions":
            lines += [f"[{el['text']['text']}]({el.get('url', '')})" for el in block["elements"]]
    return _unescape("\n".join(lines))


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
