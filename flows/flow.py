"""The Prefect flow `voc-weekly-report`: dbt → the week's marts → Slack summary and thread replies."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from flows.docs import model_page_url
from flows.dry_run import DryRunFolder
from flows.errors import VocError, hide_user_error_tracebacks
from flows.feedback import feedback_window, read_feedback_file
from flows.llm.analyst import Analyst, LlmChoice, choose_analyst
from flows.llm.followups import FollowUp
from flows.outcome import (
    ALREADY_POSTED,
    QUIET_WEEK,
    Outcome,
    messages_preview,
    publish_preview,
    publish_table,
    report_summary,
    warn_about_unused_rows,
)
from flows.report import CategoryChange, WeeklyReport, check_coverage
from flows.settings import VocSettings
from flows.slack.client import slack_token
from flows.slack.delivery import SlackDelivery
from flows.slack.messages import SlackMessage, build_follow_up_messages, build_summary, is_quiet
from flows.slack.reactions import FeedbackReadError, read_reactions
from flows.slack.status import explained, say_run_failed
from flows.warehouse.dbt import build_week
from flows.warehouse.feedback import replace_feedback
from flows.warehouse.gcp_credentials import with_gcp_credentials_block
from flows.warehouse.readers import Warehouse, open_warehouse, read_report
from flows.warehouse.source import prepare_source
from flows.weeks import last_complete_week, resolve_report_week

Destination = SlackDelivery | DryRunFolder


@flow(name="voc-weekly-report", on_failure=[say_run_failed], on_crashed=[say_run_failed])
def voc_weekly_report(
    week_start: date | str | None = None,
    channel: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    thread_ts: str | None = None,
    out_dir: str | None = None,
    llm: LlmChoice | None = None,
    status_ts: str | None = None,
    feedback_file: str | None = None,
) -> State[Any]:
    """Build the week's VOC marts with dbt and post the Slack summary plus one reply per flagged category.

    `status_ts` is the ts of a message in `channel` (in `thread_ts` when given), the bot's ⏳ answer to
    a mention, that the run edits to say how it ended.
    """
    hide_user_error_tracebacks()
    try:
        with with_gcp_credentials_block(VocSettings()) as settings:  # BigQuery's service account
            # A future week, or one older than VOC_MAX_WEEKS_BACK, is refused before dbt runs.
            week = report_week(week_start, settings.max_weeks_back)
            destination = choose_destination(settings, week, channel, thread_ts, dry_run, out_dir)
            outcome = Outcome(week=week, channel=destination.channel, dry_run=destination.is_dry_run)
            with destination.reserved():  # one delivery per channel at a time; a failure is said there
                # A week already delivered to this channel (and thread) costs nothing to rerun.
                if (delivered := destination.delivered(force)) is not None:
                    if delivered:  # empty when an earlier version recorded it (never unpickled)
                        publish_table(delivered)
                    return finished(destination, status_ts, outcome, ALREADY_POSTED)
                # `--llm laas|openai` without a key fails before any work; None = VOC_LLM (default auto).
                analyst = choose_analyst(settings, llm)
                get_run_logger().info("Follow-up analysis: %s", analyst.description())

                # The team's reactions so far decide this week's snoozes (dbt) and the footer.
                if note := record_feedback(settings, destination, week, feedback_file):
                    outcome.notes.append(note)
                relations = build_marts(settings, week)
                report = load_report(open_warehouse(settings), relations, week, settings.feedback_weeks)
                summary = report_summary(report) | {"llm": analyst.name}
                publish_table(summary)
                warn_about_unused_rows(report)
                check_coverage(report)
                if is_quiet(report) and not settings.post_quiet_weeks:
                    return finished(destination, status_ts, outcome, QUIET_WEEK)

                # Only replies not in Slack yet are analysed (a rerun costs no LLM calls);
                # VOC_FOLLOW_UPS=significant leaves flags within normal variation without a reply.
                wanted = report.follow_ups_for(settings.follow_ups)
                follow_ups = write_follow_ups(analyst, report, destination.unsent(wanted, force))
                messages = report_messages(settings, report, follow_ups)
                outcome.posted, skipped = deliver(destination, messages, summary, force)
                outcome.already_posted = len(wanted) - len(follow_ups) + skipped
                outcome.follow_up_failures = sum(follow_up.origin == "failed" for follow_up in follow_ups)
                outcome.preview = messages_preview(messages)
                if isinstance(destination, DryRunFolder):
                    outcome.out_dir = str(destination.path.resolve())
                return finished(
                    destination, status_ts, outcome, ALREADY_POSTED if outcome.nothing_new else None
                )
    except VocError as exc:
        get_run_logger().error(str(exc))
        explained(flow_run.get_id(), exc.slack_text)  # said where it could be: the hooks add no notice
        return Failed(message=str(exc))


def report_week(week_start: date | str | None, max_weeks_back: int) -> date:
    """The week asked for, or else the last complete week when this run was due.

    A run's due time is its `expected_start_time` (a schedule's slot, or when it was asked for): a
    run that starts late, after a worker was down past the next Monday, still reports its own week.
    """
    if week_start is None:  # never later than now: never a week that has not ended
        week_start = last_complete_week(min(flow_run.scheduled_start_time, datetime.now(UTC)))
    return resolve_report_week(week_start, max_weeks_back=max_weeks_back)


def choose_destination(
    settings: VocSettings,
    week: date,
    channel: str | None,
    thread_ts: str | None,
    dry_run: bool,
    out_dir: str | None,
) -> Destination:
    """Slack (the token is looked up once), or the dry-run folder when asked or when there is no token."""
    token = None if dry_run else slack_token(settings)
    if token is not None:
        return SlackDelivery.for_week(settings, token, week, channel, thread_ts)
    if not dry_run:
        get_run_logger().info("No Slack token configured (SLACK_BOT_TOKEN): dry run, nothing is sent.")
    shown_channel = channel or settings.slack_channel or "(no channel)"
    return DryRunFolder.for_week(settings, week, out_dir, shown_channel, thread_ts)


@task(cache_policy=NO_CACHE)
def record_feedback(
    settings: VocSettings, destination: Destination, week: date, feedback_file: str | None
) -> str | None:
    """Replace the feedback window's weeks in the warehouse with the team's reactions as they are now.

    A Slack delivery reads them from Slack; a Slack error never stops the report: it is one warning,
    the warehouse keeps the last run's feedback, and the returned note says so. A dry run reads no
    reactions; it takes them from `feedback_file` when one is given.
    """
    window = feedback_window(week, settings.feedback_weeks)
    logger = get_run_logger()
    if isinstance(destination, DryRunFolder):
        if feedback_file is not None:
            rows = read_feedback_file(Path(feedback_file), window)
            replace_feedback(settings, window, rows)
            logger.info("Team feedback: %d reaction(s) from %s", len(rows), feedback_file)
        return None
    if feedback_file is not None:
        raise VocError("feedback_file (--feedback) is for dry runs: a run that posts reads Slack's reactions")
    try:
        rows, read_weeks = read_reactions(destination.client, destination.channel, window)
    except FeedbackReadError as exc:
        note = f"team feedback not read from Slack ({exc}): the last run's feedback is kept"
        logger.warning(note)
        return note
    replace_feedback(settings, read_weeks, rows)
    logger.info("Team feedback: %d reaction(s) on the replies of %d week(s)", len(rows), len(read_weeks))
    return None


@task(cache_policy=NO_CACHE)
def build_marts(settings: VocSettings, week: date) -> dict[str, str]:
    """Check the source and `dbt build` the models for the week; return the marts' relations."""
    prepare_source(settings, week)
    return build_week(settings, week)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def load_report(
    warehouse: Warehouse, relations: dict[str, str], week: date, feedback_weeks: int
) -> WeeklyReport:
    """Read the week's coverage, categories, samples, keywords, owners and feedback from the marts."""
    return read_report(warehouse, relations, week, feedback_weeks)


@task(cache_policy=NO_CACHE)
def write_follow_ups(
    analyst: Analyst, report: WeeklyReport, categories: list[CategoryChange]
) -> list[FollowUp]:
    """One analysis per given CRITICAL/MONITOR category, in report order."""
    return analyst.write(report, categories)


@task(cache_policy=NO_CACHE)
def deliver(
    destination: Destination, messages: list[SlackMessage], summary: dict[str, Any], force: bool
) -> tuple[int, int]:
    """Post the messages not yet in Slack, in order, in one thread, or write the dry run."""
    return destination.send(messages, summary, force)


def report_messages(
    settings: VocSettings, report: WeeklyReport, follow_ups: list[FollowUp]
) -> list[SlackMessage]:
    """The summary, then every thread reply, in posting order."""
    summary = build_summary(
        report,
        max_per_severity=settings.summary_max_per_severity,
        dashboard_url=settings.dashboard_url,
        docs_url=model_page_url(settings.docs_url) if settings.docs_url else None,
    )
    return [summary] + [
        message
        for follow_up in follow_ups
        for message in build_follow_up_messages(follow_up, report.owners_of(follow_up.category.category))
    ]


def finished(
    destination: Destination, status_ts: str | None, outcome: Outcome, note: str | None = None
) -> State[Any]:
    """The run's Completed state, its message in the log, the preview artifact and the ⏳ message."""
    if note:
        outcome.notes.append(note)
    publish_preview(outcome)
    get_run_logger().info(outcome.message())
    destination.say_status(status_ts, posted=outcome.posted, quiet=note == QUIET_WEEK)
    return Completed(message=outcome.message(), data=outcome)
