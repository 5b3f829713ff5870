"""`voc-weekly`: the command line for humans (and the README's main command)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer._click.core import Context  # typer vendors click: its own Context and UsageError
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from flows import errors
from flows.dry_run import check_out_folder
from flows.errors import VocError, one_line
from flows.formatting import (
    evidence_line,
    neg_ratio_text,
    q_text,
    ratio_text,
    rollup_change_text,
    sparkline,
    ticket_change_text,
)
from flows.report import FeedbackWeek, WeeklyReport, check_coverage
from flows.settings import VocSettings, check_env_file
from flows.slack.mrkdwn import strip_controls
from flows.weeks import resolve_report_week, week_range_text

if TYPE_CHECKING:  # the backtest pulls in DuckDB and dbt: only the commands that need them import it
    from flows.backtest import BacktestWeek


class OneLineErrors(TyperGroup):
    """Every error a user can fix ends the command with one line on stderr and exit code 2."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except VocError as exc:
            if errors.show_tracebacks:
                raise
            print_error(str(exc))
        except UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            print_error(f"{exc.format_message()} (see `{where} --help`)")
        ctx.exit(2)


def print_error(message: str) -> None:
    """The one line a user sees for an error they can fix (no markup, never wrapped)."""
    text = " ".join(strip_controls(message).split())  # whatever the message held: one printable line
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(text)}", highlight=False)


app = typer.Typer(
    cls=OneLineErrors,
    help="VOC Weekly: which kinds of customer complaints grew, turned negative or calmed down.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


@app.callback()
def options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show stack traces (for reporting a bug), not one-line errors.")
    ] = False,
) -> None:
    """VOC Weekly: which kinds of customer complaints grew, turned negative or calmed down."""
    errors.show_tracebacks = debug


WeekOption = Annotated[
    str | None,
    typer.Option("--week", help="Any day of the week to report (default: last complete KST week)."),
]


class Llm(StrEnum):
    """Which follow-up analysis to write."""

    auto = "auto"
    laas = "laas"
    openai = "openai"
    builtin = "builtin"


SEVERITY_STYLES = {
    "CRITICAL": "bold red",
    "MONITOR": "yellow",
    "IMPROVED": "green",
    "STABLE": "dim",
}


@app.command("demo-data")
def demo_data(
    out: Annotated[Path | None, typer.Option(help="Parquet file to write.")] = None,
    end_week: Annotated[
        str | None, typer.Option(help="Last week of the data (default: last complete KST week).")
    ] = None,
) -> None:
    """Write the deterministic demo export (Korean VOC tickets with planted changes)."""
    from flows.demo.generator import DEMO_WEEKS, write_demo_data

    settings = VocSettings()
    path = out or settings.demo_source_path
    week = resolve_report_week(end_week, name="--end-week", max_weeks_back=settings.max_weeks_back)
    if path.is_dir():
        raise VocError(f"--out {path}: is a folder; give the Parquet file to write")
    try:
        rows = write_demo_data(path, week)
    except OSError as exc:
        raise VocError(f"--out {path}: cannot write there ({exc.strerror or exc})") from None
    console.print(f"Wrote {rows:,} tickets ({DEMO_WEEKS} weeks through {week_range_text(week)}) to {path}")


@app.command()
def run(
    week: WeekOption = None,
    channel: Annotated[
        str | None, typer.Option(help="Slack channel ID (default: VOC_SLACK_CHANNEL).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Send nothing; write the payloads to --out.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Post again even if this week was already posted.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Dry-run folder (default: .voc/out/<week>).")] = None,
    llm: Annotated[
        Llm | None,
        typer.Option(
            help="Follow-up analysis: auto (LaaS if keyed, else OpenAI-compatible if keyed, else built-in), "
            "laas, openai or builtin. Default: VOC_LLM, else auto.",
            show_default=False,
        ),
    ] = None,
    feedback: Annotated[
        Path | None,
        typer.Option(
            "--feedback",
            help="With --dry-run: the team's reactions from this JSON file instead of Slack "
            "(a list of {week, category1, category2, category3, reaction, user}).",
        ),
    ] = None,
) -> None:
    """Run the weekly report flow (a dry run when no Slack token is configured)."""
    from flows.feedback import feedback_window, read_feedback_file
    from flows.flow import voc_weekly_report
    from flows.llm.analyst import choose_analyst
    from flows.outcome import Outcome
    from flows.warehouse.source import prepare_source

    # Bad input fails here in one line, before a Prefect server starts or anything is posted.
    settings = VocSettings()
    report_week = resolve_report_week(week, name="--week", max_weeks_back=settings.max_weeks_back)
    if out is not None:
        check_out_folder(out, is_default=False)
    if feedback is not None:
        if not dry_run:
            raise VocError(
                f"--feedback {feedback}: only with --dry-run (a run that posts reads Slack's reactions)"
            )
        read_feedback_file(feedback, feedback_window(report_week, settings.feedback_weeks))
    if not (settings.laas_api_key_block or settings.openai_api_key_block):  # blocks: read in the flow
        choose_analyst(settings, llm.value if llm else None)  # a missing key or model: one line, now
    prepare_source(settings, report_week)
    with temporary_server_errors():
        state = voc_weekly_report(
            week_start=report_week,
            channel=channel,
            dry_run=dry_run,
            force=force,
            thread_ts=None,
            out_dir=str(out) if out else None,
            llm=llm.value if llm else None,
            feedback_file=str(feedback.resolve()) if feedback else None,
            return_state=True,
        )
    if state.is_failed():
        raise VocError(state.message or "the flow run failed")
    outcome = cast(Outcome, state.result())
    console.print(strip_controls(outcome.preview), markup=False, highlight=False)
    console.print(f"\n[bold]{escape(outcome.message())}[/bold]")
    if outcome.out_dir:
        console.print(f"Payloads written to {escape(outcome.out_dir)}")


class Level(StrEnum):
    """Which level of the category hierarchy `compare` shows."""

    category1 = "1"
    category2 = "2"
    category3 = "3"


@app.command()
def compare(
    week: WeekOption = None,
    level: Annotated[
        Level,
        typer.Option(
            "--level", help="3: every category; 1 or 2: each category1 (/ category2) as a whole (roll-ups)."
        ),
    ] = Level.category3,
) -> None:
    """Build the dbt models for a week and print the comparison of every category (or roll-up)."""
    from flows.warehouse.dbt import build_week
    from flows.warehouse.readers import open_warehouse, read_report
    from flows.warehouse.source import prepare_source

    settings = VocSettings()
    report_week = resolve_report_week(week, name="--week", max_weeks_back=settings.max_weeks_back)
    prepare_source(settings, report_week)
    relations = build_week(settings, report_week, quiet=True)
    report = read_report(open_warehouse(settings), relations, report_week)
    console.print(comparison_table(report) if level == Level.category3 else rollup_table(report, int(level)))
    try:
        check_coverage(report)
    except VocError as exc:
        console.print(f"[yellow]These figures are not a report: {escape(str(exc))}[/yellow]")


@app.command()
def backtest(
    weeks: Annotated[
        int, typer.Option(min=1, max=260, help="How many weeks to replay, ending with --week.")
    ] = 26,
    week: WeekOption = None,
    dbt_vars: Annotated[
        str | None,
        typer.Option(
            "--vars", help="Other thresholds to try, as dbt vars: '{\"critical_increase_pct\": 50}'."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the CSV and PNG (default: .voc/backtest).")
    ] = None,
) -> None:
    """Replay the rules over past weeks in one dbt run: flags per week, how many significant, totals."""
    from flows.backtest import (
        backtest_settings,
        from_first_baseline,
        parse_vars,
        replay,
        write_chart,
        write_csv,
    )
    from flows.warehouse.source import prepare_source

    parsed_vars = parse_vars(dbt_vars)  # bad JSON fails before any work
    settings = VocSettings()
    end_week = resolve_report_week(week, name="--week", max_weeks_back=settings.max_weeks_back)
    prepare_source(settings, end_week)
    replayed, note = from_first_baseline(
        replay(backtest_settings(settings), end_week, weeks, parsed_vars, report_settings=settings)
    )
    if note:
        console.print(f"[yellow]Note: {escape(note)}.[/yellow]")
    console.print(backtest_table(replayed))
    folder = out or settings.home / "backtest"
    stem = f"backtest-{end_week.isoformat()}-{weeks}w"
    write_csv(folder / f"{stem}.csv", replayed)
    write_chart(folder / f"{stem}.png", replayed)
    console.print(f"Wrote {escape(str((folder / stem).resolve()))}.csv and .png")


def backtest_table(weeks: list[BacktestWeek]) -> Table:
    """Per replayed week: flags by severity, how many pass the gate, the roll-ups that changed (🔎),
    then the totals."""
    from flows.backtest import totals

    table = Table(
        title="Backtest: flags per week (severity rules), significant flags (FDR gate), roll-ups no "
        "significant category explains (묶음) and the team's feedback on the replies posted "
        "(👍 useful, 👎 false alarm)"
    )
    columns = ("week", "CRITICAL", "MONITOR", "IMPROVED", "flagged", "significant", "묶음", "👍", "👎")
    for column in columns:
        table.add_column(column, justify="left" if column == "week" else "right")

    def figures(row: BacktestWeek) -> list[str]:
        flags = (row.critical, row.monitor, row.improved, row.flagged, row.significant)
        return [str(n) for n in (*flags, row.unexplained_rollups, row.useful, row.false_alarm)]

    for row in weeks:
        table.add_row(row.report_week.isoformat(), *figures(row))
    table.add_section()
    table.add_row("total", *figures(totals(weeks)), style="bold")
    return table


@app.command("feedback")
def feedback_command(
    weeks: Annotated[
        int, typer.Option(min=1, max=52, help="How many reported weeks, ending with --week.")
    ] = 12,
    week: WeekOption = None,
) -> None:
    """Print what the team said about the report, per reported week (voc_weekly_feedback)."""
    from flows.warehouse.readers import read_feedback_table

    settings = VocSettings()
    end_week = resolve_report_week(week, name="--week", max_weeks_back=settings.max_weeks_back)
    rows = read_feedback_table(settings, end_week, weeks)
    console.print(feedback_table(rows, end_week, weeks))


# voc_weekly_feedback's figures and their column titles in `voc-weekly feedback`.
FEEDBACK_TABLE_COLUMNS = {
    "flags": "flags",
    "significant_flags": "sig.",
    "snoozed_flags": "snoozed",
    "replies_posted": "replies",
    "replies_with_feedback": "answered",
    "useful": "👍",
    "false_alarm": "👎",
    "handled": "✅",
    "snoozed": "🔕",
}


def feedback_table(rows: list[FeedbackWeek], end_week: date, weeks: int) -> Table:
    """Per reported week: flags, replies, and the team's reactions; then the totals and the useful share."""
    first = end_week - timedelta(weeks=weeks - 1)
    table = Table(
        title=f"Team feedback on the report, weeks {first.isoformat()} ~ {end_week.isoformat()} "
        "(as of the last run)",
        caption="sig. significant flags · answered: replies with any reaction · 👍 useful · 👎 false alarm · "
        "✅ handled / known cause · 🔕 snoozed (each kind counts a reply once)",
    )
    table.add_column("week", no_wrap=True, min_width=10)
    for title in FEEDBACK_TABLE_COLUMNS.values():
        table.add_column(title, justify="right")
    for row in rows:
        table.add_row(
            row.report_week_start.isoformat(), *(str(getattr(row, n)) for n in FEEDBACK_TABLE_COLUMNS)
        )
    totals = {name: sum(getattr(row, name) for row in rows) for name in FEEDBACK_TABLE_COLUMNS}
    table.add_section()
    table.add_row("total", *(str(n) for n in totals.values()), style="bold")
    if judged := totals["useful"] + totals["false_alarm"]:
        table.caption = (
            f"유효 비율 (👍 / (👍 + 👎)) {round(100 * totals['useful'] / judged)}% · {table.caption}"
        )
    return table


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def dbt(ctx: typer.Context) -> None:
    """Run any dbt command on the configured target, e.g. `voc-weekly dbt docs generate`.

    dbt gets the settings and var report_week (the last complete KST week unless `--vars` sets it).
    """
    from flows.warehouse.dbt import invoke_dbt, requested_report_week
    from flows.warehouse.source import prepare_source

    args = list(ctx.args) or ["--help"]
    settings = VocSettings()
    if week := requested_report_week(args):  # bad vars fail here, in one line
        resolve_report_week(week, name="--vars report_week", max_weeks_back=settings.max_weeks_back)
    if not {"--help", "-h", "--version"} & set(args):  # dbt's own help needs no source
        prepare_source(settings)
    invoke_dbt(settings, args)


docs_app = typer.Typer(
    cls=OneLineErrors,
    help="The dbt docs as one static page analysts open in a browser.",
    no_args_is_help=True,
)
app.add_typer(docs_app, name="docs")


@docs_app.command("build")
def docs_build(
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for index.html, manifest.json, catalog.json (default: .voc/docs)."),
    ] = None,
) -> None:
    """`dbt docs generate --static` on the configured target: one index.html that opens without a network."""
    from flows.docs import build_docs, model_page_url

    page = build_docs(VocSettings(), out)
    console.print(f"Wrote {escape(str(page.resolve()))} (open it in a browser; no server needed)")
    console.print(f"voc_weekly_comparison: {escape(model_page_url(page.resolve().as_uri()))}", soft_wrap=True)


@app.command()
def bot(
    http: Annotated[
        bool,
        typer.Option(
            "--http", help="Serve Slack's Events API and /voc-weekly at /slack/events, not Socket Mode."
        ),
    ] = False,
    port: Annotated[
        int, typer.Option(min=1, max=65535, envvar="PORT", help="HTTP mode: the port to listen on.")
    ] = 3000,
    host: Annotated[
        str, typer.Option(help="The address to listen on (HTTP mode, --health-port).")
    ] = "0.0.0.0",
    health_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Socket Mode: serve /healthz and /readyz on this port."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Verify the tokens and the deployment, print one line, exit.")
    ] = False,
) -> None:
    """Run the Slack bot: @mentions, /voc-weekly and DMs start the ad-hoc report; SIGTERM stops it."""
    from flows.slack.bot import check_bot, run_bot

    settings = VocSettings()
    if check:
        console.print(check_bot(settings, http=http), markup=False, highlight=False, soft_wrap=True)
        return
    run_bot(settings, http=http, host=host, port=port, health_port=health_port)


@app.command()
def unlock(
    channel: Annotated[str, typer.Option("--channel", help="Slack channel ID whose delivery lock to free.")],
) -> None:
    """Free a Slack channel's delivery lock that a run which is gone still holds, and say who held it."""
    import httpx

    from flows.slack.lock import unlock as unlock_channel

    with temporary_server_errors():
        try:
            said = unlock_channel(channel)
        except httpx.HTTPError as exc:
            raise VocError(
                f"the Prefect API did not answer ({one_line(exc)}): check PREFECT_API_URL "
                "(and PREFECT_API_KEY on Prefect Cloud)"
            ) from None
    console.print(said, markup=False, highlight=False, soft_wrap=True)


def comparison_table(report: WeeklyReport) -> Table:
    """Every category of the week, in report order."""
    table = Table(
        title=f"기준주 {week_range_text(report.previous_week)} vs. 비교주 "
        f"{week_range_text(report.report_week)}",
        caption=" · ".join(f"{severity} {n}건" for severity, n in report.counts().items()),
    )
    table.add_column("severity")
    table.add_column("category")
    table.add_column("VOC 수 (기준주 → 비교주)")
    table.add_column("부정비율")
    table.add_column("근거 (최근 8주 · 판정)")
    for change in report.categories:
        # Data is text, never markup: a label like '[/]' or '[bold]' prints as written (rich.Text).
        table.add_row(
            Text(change.severity, style=SEVERITY_STYLES[change.severity]),
            *(
                Text(strip_controls(cell))
                for cell in (
                    change.category_label,
                    ticket_change_text(change),
                    neg_ratio_text(change),
                    evidence_line(change),
                )
            ),
        )
    return table


def rollup_table(report: WeeklyReport, level: int) -> Table:
    """Every roll-up of one level, the strongest evidence first."""
    rollups = [rollup for rollup in report.rollups if rollup.level == level]
    level_name = "대분류" if level == 1 else "중분류"
    table = Table(
        title=f"{level_name} 묶음 · 기준주 {week_range_text(report.previous_week)} vs. "
        f"비교주 {week_range_text(report.report_week)}",
        caption=f"유의 {sum(r.is_significant for r in rollups)}건 · 하위 분류로 설명되지 않는 유의 "
        f"{sum(r.is_news for r in rollups)}건 (🔎 묶음 변화)",
    )
    for column in ("roll-up", "VOC 수 (기준주 → 비교주)", "부정비율", "근거 (최근 8주 · 판정)"):
        table.add_column(column)
    for column in ("하위 분류", "주요 변화"):
        table.add_column(column)
    for rollup in rollups:
        counts = [int(n) for n in (rollup.baseline_weekly_tickets or "").split(",") if n.strip()]
        spark = sparkline([*counts, rollup.reported_tickets][-8:]) if rollup.baseline_weeks_used else ""
        verdict = (
            "이력 부족"
            if rollup.q_value is None
            else f"{'유의' if rollup.is_significant else '변동 범위 내'} ({q_text(rollup.q_value)})"
        )
        explained = rollup.is_significant and rollup.is_explained_by_children
        table.add_row(
            rollup.rollup_label,
            rollup_change_text(rollup).split(" · ")[0],
            f"{ratio_text(rollup.previous_neg_ratio)} → {ratio_text(rollup.reported_neg_ratio)}",
            " · ".join(part for part in (spark, verdict, "하위 분류로 설명됨" if explained else "") if part),
            f"{rollup.child_categories} (유의 {rollup.significant_children})",
            rollup.top_drivers or "",
        )
    return table


@contextmanager
def temporary_server_errors() -> Iterator[None]:
    """Prefect's temporary server not coming up (a busy machine) is one line saying what to do."""
    try:
        yield
    except RuntimeError as exc:
        if "ephemeral Prefect API server" not in str(exc):  # Prefect raises a bare RuntimeError
            raise
        waited = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "")
        raise VocError(
            f"Prefect's temporary server did not start within {waited} s: run one with "
            "`prefect server start` and set PREFECT_API_URL to it, or raise "
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
        ) from None


def ensure_prefect_home() -> None:
    """Create PREFECT_HOME if it is missing: the temporary server cannot create its database otherwise."""
    home = os.environ.get("PREFECT_HOME")
    if not home:
        return
    try:
        Path(home).expanduser().mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VocError(f"PREFECT_HOME={home}: cannot create that folder ({exc.strerror or exc})") from None


def main() -> None:
    """Console-script entry point: one line on stderr for errors a user can fix (see OneLineErrors)."""
    # A run without PREFECT_API_URL starts a temporary server; on a busy machine it needs more
    # than Prefect's default 20 s to come up.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # ...and its telemetry heartbeat has nowhere to go on a closed network but the SQLite lock.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # ...and it need not register every installed collection's block types at each start: that
    # imports prefect-gcp's Vertex AI and Cloud Run clients, about half the server's start-up CPU.
    # A block saved by a client registers its own type; `prefect server start` registers them all.
    # Both settings: the memoised path imports the collections even to find that nothing changed.
    os.environ.setdefault("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "false")
    os.environ.setdefault("PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION", "false")
    # ...and it keeps concurrency leases in PREFECT_HOME, not in its memory: every command starts a
    # server of its own, and a lease only a dead run's server knew could never be freed by the next run.
    os.environ.setdefault(
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE", "prefect.server.concurrency.lease_storage.filesystem"
    )
    try:
        check_env_file()  # before Prefect is imported: it reads .env too
        ensure_prefect_home()
    except VocError as exc:
        print_error(str(exc))
        raise SystemExit(2) from None
    app()
