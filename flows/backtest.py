"""The backtest: the severity rules and the evidence replayed over past weeks in one dbt run.

It answers the analyst's question "how many flags a week would these thresholds give, and how many
of them are real?" (the alert budget) without touching the report's own tables: dbt builds into a
warehouse of its own (a separate DuckDB file, or a `_backtest` BigQuery dataset). The team's
feedback is copied there from the report's warehouse, so the replay snoozes what the team snoozed and
shows, beside the rules' flags, how many replies the team found useful or a false alarm.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flows.errors import VocError
from flows.settings import VocSettings
from flows.warehouse.dbt import invoke_dbt, mart_relations, report_vars
from flows.warehouse.dbt_vars import check_vars
from flows.warehouse.feedback import read_feedback, replace_feedback
from flows.warehouse.readers import open_warehouse

FLAG_SEVERITIES = ("CRITICAL", "MONITOR", "IMPROVED")
RESERVED_VARS = ("report_week", "comparison_weeks")
# Feedback copied from before the first replayed week too: a 🔕 there can snooze its first weeks.
FEEDBACK_LEAD_WEEKS = 8
CHART_SIZE_INCHES = (10.0, 4.0)
CHART_DPI = 100  # 1000 x 400 pixels


@dataclass(frozen=True)
class BacktestWeek:
    """One replayed week: flags by severity and how many of them pass the false-discovery gate."""

    report_week: date
    critical: int = 0
    monitor: int = 0
    improved: int = 0
    stable: int = 0
    significant: int = 0
    tickets: int = 0  # in the reported week, every category
    previous_tickets: int = 0  # in the week before it
    significant_rollups: int = 0  # voc_weekly_rollups: significant category1 / category2 roll-ups
    unexplained_rollups: int = 0  # ...of those, not explained by significant children (🔎 묶음 변화)
    useful: int = 0  # the team's 👍 on the week's replies (voc_weekly_feedback)
    false_alarm: int = 0  # and 👎

    @property
    def flagged(self) -> int:
        """CRITICAL + MONITOR + IMPROVED: what the seed rules alone would list."""
        return self.critical + self.monitor + self.improved


def parse_vars(text: str | None) -> dict[str, Any]:
    """`--vars` as a JSON object of dbt vars; the replayed weeks are the backtest's own to set."""
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VocError(f"--vars is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(parsed, dict):
        raise VocError("--vars must be a JSON object, e.g. '{\"critical_increase_pct\": 50}'")
    if reserved := [name for name in RESERVED_VARS if name in parsed]:
        raise VocError(f"--vars cannot set {', '.join(reserved)}: use --week and --weeks")
    return check_vars(parsed)


def backtest_settings(settings: VocSettings) -> VocSettings:
    """The same source, but a warehouse of the backtest's own: the report's marts stay as they are."""
    if settings.dbt_target == "dev":
        return settings.model_copy(
            update={"duckdb_path": settings.home.resolve() / "backtest" / "warehouse.duckdb"}
        )
    return settings.model_copy(update={"bq_dataset": f"{settings.bq_dataset}_backtest"})


def copy_team_feedback(report: VocSettings, backtest: VocSettings, first_week: date, end_week: date) -> None:
    """The team's reactions of the replayed weeks (and a few before), from the report's warehouse."""
    since = first_week - timedelta(weeks=FEEDBACK_LEAD_WEEKS)
    rows = read_feedback(report, since, end_week)
    replace_feedback(
        backtest, [since + timedelta(weeks=n) for n in range((end_week - since).days // 7 + 1)], rows
    )


def replay(
    settings: VocSettings,
    end_week: date,
    weeks: int,
    dbt_vars: dict[str, Any],
    report_settings: VocSettings | None = None,
) -> list[BacktestWeek]:
    """Build the comparison for `weeks` reported weeks ending with `end_week` in one dbt run, with
    the team's feedback from the warehouse of `report_settings` (the report's own)."""
    first_week = end_week - timedelta(weeks=weeks - 1)
    if report_settings is not None:
        copy_team_feedback(report_settings, settings, first_week, end_week)
    run_vars = {
        **report_vars(settings),
        **dbt_vars,
        "report_week": end_week.isoformat(),
        "comparison_weeks": weeks,
    }
    invoke_dbt(
        settings,
        [
            "--quiet",
            "build",
            "--select",
            "+voc_weekly_comparison",
            "+voc_weekly_rollups",
            "+voc_weekly_feedback",
            "--vars",
            json.dumps(run_vars),
            "--exclude-resource-type",
            "unit_test",
        ],
    )
    relations = mart_relations(settings.dbt_project_dir)
    warehouse = open_warehouse(settings)
    rows = warehouse.fetch(
        f"""select
            report_week_start, severity, is_significant, count(*) as categories,
            sum(reported_tickets) as tickets, sum(previous_tickets) as previous_tickets
        from {relations["voc_weekly_comparison"]}
        where report_week_start <= {warehouse.week_parameter}
        group by report_week_start, severity, is_significant""",
        end_week,
    )
    rollup_rows = warehouse.fetch(
        f"""select report_week_start,
            count(case when is_significant then 1 end) as significant_rollups,
            count(case when is_significant and not is_explained_by_children then 1 end) as unexplained_rollups
        from {relations["voc_weekly_rollups"]}
        where report_week_start <= {warehouse.week_parameter}
        group by report_week_start""",
        end_week,
    )
    team = warehouse.fetch(
        f"""select report_week_start, useful, false_alarm from {relations["voc_weekly_feedback"]}
        where report_week_start <= {warehouse.week_parameter}""",
        end_week,
    )
    return summarize(rows, first_week, weeks, rollup_rows=rollup_rows, team=team)


def summarize(
    rows: list[dict[str, Any]],
    first_week: date,
    weeks: int,
    *,
    rollup_rows: list[dict[str, Any]] | None = None,
    team: list[dict[str, Any]] | None = None,
) -> list[BacktestWeek]:
    """Per-week counts from (report_week_start, severity, is_significant, categories, tickets,
    previous_tickets) rows, (report_week_start, significant_rollups, unexplained_rollups) rows and
    the team's (report_week_start, useful, false_alarm) rows."""
    names = ("critical", "monitor", "improved", "stable", "significant", "tickets", "previous_tickets")
    extra = ("significant_rollups", "unexplained_rollups", "useful", "false_alarm")
    counts: dict[date, dict[str, int]] = {
        first_week + timedelta(weeks=n): dict.fromkeys((*names, *extra), 0) for n in range(weeks)
    }
    for row in rows:
        week = counts.get(row["report_week_start"])
        if week is None:
            continue  # a week an earlier backtest replayed, outside this range
        week[str(row["severity"]).lower()] += int(row["categories"])
        week["tickets"] += int(row.get("tickets") or 0)
        week["previous_tickets"] += int(row.get("previous_tickets") or 0)
        if row["is_significant"] and row["severity"] in FLAG_SEVERITIES:
            week["significant"] += int(row["categories"])
    for row in (rollup_rows or []) + (team or []):
        if (week := counts.get(row["report_week_start"])) is not None:
            week.update({name: int(row[name]) for name in extra if name in row})
    return [BacktestWeek(report_week=week, **figures) for week, figures in counts.items()]


def from_first_baseline(weeks: list[BacktestWeek]) -> tuple[list[BacktestWeek], str | None]:
    """The replayed weeks from the first whose previous week has tickets, and a note when the data
    starts later than the range: a week compared with an empty one flags every category as new, and
    weeks before the data would read as calm weeks with no flags."""
    with_data = sum(1 for week in weeks if week.tickets)
    start = next((number for number, week in enumerate(weeks) if week.previous_tickets), None)
    if start is None:
        raise VocError(
            f"backtest: none of the {len(weeks)} weeks {weeks[0].report_week} … {weeks[-1].report_week} "
            f"has a previous week with tickets (the source has tickets in {with_data} of them): "
            "nothing to compare; give a later --week or more history"
        )
    if start == 0:
        return weeks, None
    note = (
        f"the source has tickets in {with_data} of the {len(weeks)} weeks replayed: the table starts at "
        f"{weeks[start].report_week}, the first week whose previous week has tickets"
    )
    return weeks[start:], note


def totals(weeks: list[BacktestWeek]) -> BacktestWeek:
    """The column sums (report_week: the first week)."""
    return BacktestWeek(
        report_week=weeks[0].report_week,
        critical=sum(w.critical for w in weeks),
        monitor=sum(w.monitor for w in weeks),
        improved=sum(w.improved for w in weeks),
        stable=sum(w.stable for w in weeks),
        significant=sum(w.significant for w in weeks),
        significant_rollups=sum(w.significant_rollups for w in weeks),
        unexplained_rollups=sum(w.unexplained_rollups for w in weeks),
        useful=sum(w.useful for w in weeks),
        false_alarm=sum(w.false_alarm for w in weeks),
    )


def write_csv(path: Path, weeks: list[BacktestWeek]) -> None:
    """One row per replayed week: report_week, critical, monitor, improved, stable, flagged, significant,
    significant_rollups, unexplained_rollups, and the team's team_useful and team_false_alarm."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "report_week",
                "critical",
                "monitor",
                "improved",
                "stable",
                "flagged",
                "significant",
                "significant_rollups",
                "unexplained_rollups",
                "team_useful",
                "team_false_alarm",
            ]
        )
        for week in weeks:
            figures = asdict(week)
            writer.writerow(
                [week.report_week.isoformat()]
                + [figures[name] for name in ("critical", "monitor", "improved", "stable")]
                + [week.flagged, week.significant, week.significant_rollups, week.unexplained_rollups]
                + [week.useful, week.false_alarm]
            )


def write_chart(path: Path, weeks: list[BacktestWeek]) -> None:
    """A PNG of flags per week by severity, with the significant ones (the gate) and the roll-ups
    that no significant child explains as lines, and the team's verdicts as marks."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    from matplotlib import pyplot

    labels = [week.report_week.strftime("%m-%d") for week in weeks]
    figure, axes = pyplot.subplots(figsize=CHART_SIZE_INCHES, dpi=CHART_DPI)
    bottom = [0] * len(weeks)
    for name, colour in (("critical", "#d62728"), ("monitor", "#ff7f0e"), ("improved", "#2ca02c")):
        heights = [getattr(week, name) for week in weeks]
        axes.bar(labels, heights, bottom=bottom, color=colour, label=f"{name.upper()} (rules only)")
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.plot(
        labels, [w.significant for w in weeks], color="black", marker="o", label="significant (FDR gate)"
    )
    axes.plot(
        labels,
        [w.unexplained_rollups for w in weeks],
        color="#1f77b4",
        marker="s",
        linestyle="--",
        label="roll-ups significant, no significant category (summary section)",
    )
    # The team's verdicts on the replies actually posted, beside each week's bar (no emoji: the font).
    for name, marker, colour, offset, legend in (
        ("useful", "^", "#2ca02c", -0.25, "team: useful (+1)"),
        ("false_alarm", "v", "#9467bd", 0.25, "team: false alarm (-1)"),
    ):
        marked = [(n + offset, getattr(week, name)) for n, week in enumerate(weeks) if getattr(week, name)]
        if marked:
            xs, ys = zip(*marked, strict=True)
            axes.scatter(xs, ys, marker=marker, s=70, c=colour, edgecolors="white", label=legend, zorder=3)
    axes.set_ylabel("flagged categories / roll-ups")
    axes.set_title("VOC flags per week: severity rules vs. false-discovery gate, and the team's verdicts")
    axes.tick_params(axis="x", labelrotation=90, labelsize=7)
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=CHART_DPI)
    pyplot.close(figure)
