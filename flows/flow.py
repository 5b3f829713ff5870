"""The Prefect flow `voc-weekly-report`: dbt → the week's marts → Slack summary and thread replies."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from flows.dry_run import check_out_folder, replace_files
from flows.errors import SlackDeliveryError, VocError, hide_user_error_tracebacks
from flows.llm.followups import FollowUp, builtin_follow_up
from flows.llm.laas import Analyst, choose_analyst, write_laas_follow_ups_sync
from flows.report import CategoryChange, WeeklyReport, check_coverage, future_dated_note
from flows.settings import VocSettings
from flows.slack.delivery import DeliveryLedger, channel_lock, post_report, slack_client, slack_token
from flows.slack.messages import (
    SlackMessage,
    build_follow_up_messages,
    build_summary,
    failure_notice,
    is_quiet,
    preview,
    reply_key,
)
from flows.warehouse.dbt import build_week
from flows.warehouse.gcp_credentials import with_gcp_credentials_block
from flows.warehouse.readers import open_warehouse, read_report
from flows.warehouse.source import prepare_source
from flows.weeks import resolve_report_week

SUMMARY_TS_PLACEHOLDER = "<ts of the summary message>"
COMPLETE_KEY = "complete"  # ledger entry of a fully delivered report: its table of categories
ALREADY_POSTED = "the report was already in Slack: nothing posted (pass force to post it again)"
LlmChoice = Literal["auto", "laas", "builtin"]
# The evidence columns of voc_weekly_comparison that report.json carries next to the figures.
EVIDENCE_FIELDS = (
    "baseline_weeks_used",
    "baseline_weekly_tickets",
    "baseline_mean_tickets",
    "baseline_neg_ratio",
    "baseline_dispersion",
    "expected_tickets_low",
    "expected_tickets_high",
    "p_value_increase",
    "p_value_decrease",
    "p_value_negative_rise",
    "q_value",
    "is_significant",
    "flagged_weeks_in_a_row",
    "previous_severity",
)


@dataclass
class Outcome:
    """What a run did, for the CLI, the flow run's state message and the artifacts."""

    week: date
    channel: str
    dry_run: bool
    posted: int = 0
    already_posted: int = 0
    follow_up_failures: int = 0
    out_dir: str | None = None
    preview: str = ""
    notes: list[str] = field(default_factory=list)

    def message(self) -> str:
        mode = "dry run" if self.dry_run else f"posted {self.posted} message(s) to {self.channel}"
        parts = [f"week {self.week}: {mode}"]
        if self.already_posted:
            parts.append(f"{self.already_posted} already posted earlier")
        if self.follow_up_failures:
            parts.append(f"{self.follow_up_failures} follow-up analysis failed")
        return "; ".join(parts + self.notes)


@task(cache_policy=NO_CACHE)
def build_marts(settings: VocSettings, week: date) -> dict[str, str]:
    """Check the source and `dbt build` the models for the week; return the marts' relations."""
    prepare_source(settings)
    return build_week(settings, week)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def load_report(settings: VocSettings, relations: dict[str, str], week: date) -> WeeklyReport:
    """Read the week's coverage, categories, samples and keywords from the marts."""
    return read_report(open_warehouse(settings), relations, week)


@task(cache_policy=NO_CACHE)
def write_follow_ups(
    settings: VocSettings, report: WeeklyReport, categories: list[CategoryChange], analyst: Analyst
) -> list[FollowUp]:
    """One analysis per given CRITICAL/MONITOR category, in report order (LaaS calls run concurrently)."""
    if analyst == "laas":
        return write_laas_follow_ups_sync(report, categories, settings)
    return [builtin_follow_up(report, change) for change in categories]


@task(cache_policy=NO_CACHE)
def deliver(
    settings: VocSettings,
    messages: list[SlackMessage],
    ledger: DeliveryLedger,
    channel: str,
    thread_ts: str | None,
    force: bool,
) -> tuple[int, int]:
    """Post the messages not yet in Slack, in order, in one thread; return (posted, skipped)."""
    token = slack_token(settings)
    if token is None:
        raise VocError("no Slack token: set SLACK_BOT_TOKEN or VOC_SLACK_CREDENTIALS_BLOCK")
    max_wait = settings.max_retry_wait_seconds
    client = slack_client(token, settings.slack_api_url, max_wait=max_wait)
    return post_report(client, ledger, messages, channel, thread_ts, force, max_wait=max_wait)


def report_messages(
    settings: VocSettings, report: WeeklyReport, follow_ups: list[FollowUp]
) -> list[SlackMessage]:
    """The summary, then every thread reply, in posting order."""
    summary = build_summary(
        report,
        max_per_severity=settings.summary_max_per_severity,
        dashboard_url=settings.dashboard_url,
    )
    return [summary] + [m for follow_up in follow_ups for m in build_follow_up_messages(follow_up)]


def write_dry_run(
    out_dir: Path,
    messages: list[SlackMessage],
    channel: str,
    thread_ts: str | None,
    summary: dict[str, Any],
    is_default: bool = False,
) -> None:
    """One JSON file per message (exactly the chat.postMessage arguments) plus report.json."""
    reply_thread = thread_ts or SUMMARY_TS_PLACEHOLDER
    files = {
        f"{number:02d}-{message.key}.json": json.dumps(
            message.post_args(channel, thread_ts if number == 1 else reply_thread),
            ensure_ascii=False,
            indent=2,
        )
        for number, message in enumerate(messages, start=1)
    }
    files["report.json"] = json.dumps(summary, ensure_ascii=False, indent=2)
    replace_files(out_dir, files, is_default)


def dry_run_folder(settings: VocSettings, week: date, out_dir: str | None) -> tuple[Path, bool]:
    """Where a dry run writes (--out, or the default `<VOC_HOME>/out/<week>/`), and if it is the default."""
    if out_dir:
        return Path(out_dir), False
    return settings.home / "out" / week.isoformat(), True


def warn_about_unused_rows(report: WeeklyReport) -> None:
    """Say in the run log which source rows the report left out (the summary footer says it too)."""
    coverage, logger = report.coverage, get_run_logger()
    if coverage.rows_without_id:
        logger.warning(
            "%d source row(s) without an id left out of the counts (baseline week %d, reported week %d)",
            coverage.rows_without_id,
            coverage.baseline_rows_without_id,
            coverage.report_rows_without_id,
        )
    if note := future_dated_note(coverage):
        logger.warning("coverage judged on real tickets only%s", note)


def report_summary(report: WeeklyReport) -> dict[str, Any]:
    """Every category of the week with both weeks' figures and its severity (report.json)."""
    return {
        "report_week": report.report_week.isoformat(),
        "baseline_week": report.baseline_week.isoformat(),
        "counts": report.counts(),
        "thresholds": report.thresholds.model_dump(),
        "categories": [
            change.model_dump(
                include={
                    "category_label",
                    "category1",  # the levels tell apart categories that share a label
                    "category2",
                    "category3",
                    "prev_tickets",
                    "last_tickets",
                    "prev_negative_tickets",
                    "last_negative_tickets",
                    "pct_change",
                    "prev_neg_ratio",
                    "last_neg_ratio",
                    "neg_ratio_delta_pp",
                    "severity",
                    *EVIDENCE_FIELDS,
                }
            )
            for change in report.categories
        ],
    }


def publish_table(summary: dict[str, Any]) -> None:
    """A Prefect table artifact with every category of the week and its severity."""
    create_table_artifact(
        key=f"voc-weekly-categories-{summary['report_week']}",
        table=summary["categories"],
        description=f"VOC categories, 기준주 {summary['baseline_week']} vs. 비교주 {summary['report_week']}",
    )


def publish_preview(outcome: Outcome) -> None:
    """A Prefect markdown artifact of the messages (what Slack shows, or would show)."""
    create_markdown_artifact(
        key=f"voc-weekly-message-{outcome.week.isoformat()}",
        markdown=f"### Weekly VOC 변화 — {outcome.message()}\n\n````text\n{outcome.preview}\n````\n",
        description="The Slack messages of this run",
    )


@flow(name="voc-weekly-report")
def voc_weekly_report(
    week_start: date | str | None = None,
    channel: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    thread_ts: str | None = None,
    out_dir: str | None = None,
    llm: LlmChoice = "auto",
) -> State[Any]:
    """Build the week's VOC marts with dbt and post the Slack summary plus one reply per flagged category."""
    hide_user_error_tracebacks()
    logger = get_run_logger()
    try:
        with with_gcp_credentials_block(VocSettings()) as settings:  # BigQuery's service account
            outcome = _run(settings, week_start, channel, dry_run, force, thread_ts, out_dir, llm)
    except VocError as exc:
        logger.error(str(exc))
        return Failed(message=str(exc))
    logger.info(outcome.message())
    return Completed(message=outcome.message(), data=outcome)


def _run(
    settings: VocSettings,
    week_start: date | str | None,
    channel: str | None,
    dry_run: bool,
    force: bool,
    thread_ts: str | None,
    out_dir: str | None,
    llm: LlmChoice,
) -> Outcome:
    logger = get_run_logger()
    week = resolve_report_week(week_start)  # a future week is refused before dbt runs
    target_channel = channel or settings.slack_channel
    if not dry_run and slack_token(settings) is None:
        logger.info("No Slack token configured (SLACK_BOT_TOKEN): dry run, nothing is sent.")
        dry_run = True
    if not dry_run and not target_channel:
        raise VocError("no Slack channel: pass --channel (flow parameter channel) or set VOC_SLACK_CHANNEL")
    outcome = Outcome(week=week, channel=target_channel or "(no channel)", dry_run=dry_run)
    ledger = None if dry_run else DeliveryLedger(outcome.channel, thread_ts, week)
    if ledger is None:  # a folder with someone else's files is refused before any work
        check_out_folder(*dry_run_folder(settings, week, out_dir))
    # One delivery per channel at a time, from reading the ledger to recording the report complete.
    lock = (
        nullcontext()
        if ledger is None
        else channel_lock(outcome.channel, settings.delivery_lock_timeout_seconds)
    )
    with lock:
        return _report_once(settings, outcome, ledger, llm, thread_ts, out_dir, force)


def _report_once(
    settings: VocSettings,
    outcome: Outcome,
    ledger: DeliveryLedger | None,
    llm: LlmChoice,
    thread_ts: str | None,
    out_dir: str | None,
    force: bool,
) -> Outcome:
    """The report, unless the ledger says it is in Slack already; a failure is said in the channel."""
    # A week already delivered to this channel (and thread) costs nothing to rerun: no dbt, no LLM.
    if ledger is not None and not force and (delivered := ledger.get(COMPLETE_KEY)) is not None:
        publish_table(delivered)
        outcome.notes.append(ALREADY_POSTED)
        publish_preview(outcome)
        return outcome

    try:
        analyst = choose_analyst(settings, llm)  # `--llm laas` without a key fails before any work
        return _build_and_deliver(settings, outcome, ledger, analyst, thread_ts, out_dir, force)
    except SlackDeliveryError:
        raise  # Slack itself refused: a notice would be refused too
    except VocError as exc:
        if ledger is not None:  # whoever waits in the channel (or the mention's thread) hears why, in Korean
            deliver(settings, [failure_notice(exc.slack_text)], ledger, outcome.channel, thread_ts, False)
        raise


def _build_and_deliver(
    settings: VocSettings,
    outcome: Outcome,
    ledger: DeliveryLedger | None,
    analyst: Analyst,
    thread_ts: str | None,
    out_dir: str | None,
    force: bool,
) -> Outcome:
    """dbt, the marts, the checks, the analyses, then Slack (or the dry-run folder)."""
    week = outcome.week
    relations = build_marts(settings, week)
    report = load_report(settings, relations, week)
    summary = report_summary(report)
    publish_table(summary)
    warn_about_unused_rows(report)
    check_coverage(report)
    if is_quiet(report) and not settings.post_quiet_weeks:
        outcome.notes.append("quiet week: nothing posted (VOC_POST_QUIET_WEEKS=false)")
        return outcome

    # Only categories whose reply is not in Slack yet are analysed: a rerun costs no LLM calls.
    # VOC_FOLLOW_UPS=significant leaves flags within normal variation without a reply.
    wanted = report.follow_ups_for(settings.follow_ups)
    pending = [
        change
        for change in wanted
        if ledger is None or force or ledger.posted_ts(reply_key(change.category)) is None
    ]
    outcome.already_posted = len(wanted) - len(pending)
    follow_ups = write_follow_ups(settings, report, pending, analyst)
    outcome.follow_up_failures = sum(f.origin == "failed" for f in follow_ups)
    messages = report_messages(settings, report, follow_ups)
    outcome.preview = "\n\n".join(
        f"── {n:02d} {m.key} ──\n{preview(m)}" for n, m in enumerate(messages, start=1)
    )
    if ledger is None:
        folder, is_default = dry_run_folder(settings, week, out_dir)
        write_dry_run(folder, messages, outcome.channel, thread_ts, summary, is_default)
        outcome.out_dir = str(folder.resolve())
    else:
        outcome.posted, skipped = deliver(settings, messages, ledger, outcome.channel, thread_ts, force)
        outcome.already_posted += skipped
        ledger.record(COMPLETE_KEY, summary)
        if outcome.posted == 0:
            outcome.notes.append(ALREADY_POSTED)
    publish_preview(outcome)
    return outcome
