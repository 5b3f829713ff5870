"""Signal vs. noise of the flags (SPEC §4 "Evidence"): false flags per week, planted changes caught.

A synthetic history of 100 categories over 30 weeks where nothing changes: lognormal weekly rates
(median 12 tickets), a gamma wobble of every category's rate every week, steady negative shares.
In the last 6 weeks, changes are planted on categories with at least 20 tickets a week: 2× volume
spikes and +30%p negative-share jumps (2 of each per week, each on its own category, one week
long). One dbt run (comparison_weeks) judges the last 22 weeks, each against its 8-week baseline.
Reported per week: false CRITICAL/MONITOR flags (seed rules), how many of those are also
is_significant, and how many planted changes are flagged, and flagged and significant.

Usage: python -m benchmarks.bench_signal [--seed 7] [--wobble-shape 30] [--vars '{"fdr_alpha": 0.05}']
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from flows.settings import VocSettings
from flows.warehouse.dbt import invoke_dbt

REPORT_WEEK = date(2026, 11, 16)
CATEGORIES = 100
HISTORY_WEEKS = 30
BASELINE_WEEKS = 8
JUDGED_WEEKS = HISTORY_WEEKS - BASELINE_WEEKS
PLANT_WEEKS = 6
PLANTS_PER_KIND_PER_WEEK = 2
MIN_PLANT_RATE = 20.0
SPIKE_FACTOR = 2.0
JUMP_PP = 0.30


@dataclass
class History:
    """The synthetic tickets and what was planted where: {(category, week): 'spike' | 'jump'}."""

    tickets: pd.DataFrame
    plants: dict[tuple[str, date], str] = field(default_factory=dict)


def category_name(number: int) -> tuple[str, str, str]:
    return ("합성", f"그룹{number % 10}", f"항목{number:03d}")


def make_history(rng: np.random.Generator, wobble_shape: float) -> History:
    """Tickets for HISTORY_WEEKS weeks ending REPORT_WEEK, with the planted changes."""
    weeks = [REPORT_WEEK - timedelta(weeks=HISTORY_WEEKS - 1 - n) for n in range(HISTORY_WEEKS)]
    rates = rng.lognormal(mean=np.log(12.0), sigma=1.0, size=CATEGORIES)
    shares = rng.uniform(0.05, 0.35, size=CATEGORIES)
    eligible = [int(c) for c in np.flatnonzero(rates >= MIN_PLANT_RATE)]
    rng.shuffle(eligible)
    plants: dict[tuple[int, int], str] = {}
    needed = PLANT_WEEKS * PLANTS_PER_KIND_PER_WEEK * 2
    for slot in range(needed):
        week_index = HISTORY_WEEKS - PLANT_WEEKS + slot // (PLANTS_PER_KIND_PER_WEEK * 2)
        kind = "spike" if slot % 2 == 0 else "jump"
        plants[(eligible[slot % len(eligible)], week_index)] = kind

    columns: dict[str, list[object]] = {name: [] for name in ("id", "event_create_time", "c3", "emotion")}
    for category in range(CATEGORIES):
        for week_index, monday in enumerate(weeks):
            kind = plants.get((category, week_index))
            rate = rates[category] * rng.gamma(wobble_shape, 1.0 / wobble_shape)
            count = rng.poisson(rate * (SPIKE_FACTOR if kind == "spike" else 1.0))
            share = min(shares[category] + (JUMP_PP if kind == "jump" else 0.0), 1.0)
            negatives = rng.random(count) < share
            start = datetime(monday.year, monday.month, monday.day) - timedelta(hours=9)  # 00:00 KST
            offsets = rng.uniform(0, 7 * 24 * 3600 - 1, size=count)
            for number in range(count):
                columns["id"].append(f"{category}-{week_index}-{number}")
                columns["event_create_time"].append(start + timedelta(seconds=float(offsets[number])))
                columns["c3"].append(category)
                columns["emotion"].append("부정" if negatives[number] else "중립")
    frame = pd.DataFrame(columns)
    names = [category_name(int(c)) for c in frame["c3"]]
    tickets = pd.DataFrame(
        {
            "id": frame["id"],
            "event_create_time": frame["event_create_time"],
            "title": "합성 문의",
            "detail": "합성 내용",
            "category1": [n[0] for n in names],
            "category2": [n[1] for n in names],
            "category3": [n[2] for n in names],
            "overall_emotion": frame["emotion"],
            "main_topic": None,
            "keywords": "합성",
        }
    )
    return History(
        tickets=tickets,
        plants={(" / ".join(category_name(c)), weeks[w]): kind for (c, w), kind in plants.items()},
    )


def judge(history: History, workdir: Path, extra_vars: dict[str, object]) -> pd.DataFrame:
    """One dbt run over the last JUDGED_WEEKS weeks; the comparison rows with the planted kind."""
    source = workdir / "history.parquet"
    with duckdb.connect() as con:
        con.register("tickets", history.tickets)
        con.execute(f"copy (select * from tickets order by event_create_time) to '{source}' (format parquet)")
    settings = VocSettings(
        _env_file=None,  # type: ignore[call-arg]
        VOC_HOME=str(workdir / ".voc"),
        VOC_SOURCE_PATH=str(source),
        VOC_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
    )
    run_vars = {**extra_vars, "report_week": str(REPORT_WEEK), "comparison_weeks": JUDGED_WEEKS}
    invoke_dbt(
        settings, ["--quiet", "run", "--select", "+voc_weekly_comparison", "--vars", json.dumps(run_vars)]
    )
    with duckdb.connect(str(settings.duckdb_file)) as con:  # dbt-duckdb keeps its connection open
        rows = con.execute(
            "select report_week_start, category_label, severity, is_significant, prev_tickets, last_tickets,"
            " baseline_mean_tickets, baseline_dispersion, q_value from voc_weekly_comparison"
        ).df()
    rows["report_week_start"] = pd.to_datetime(rows["report_week_start"]).dt.date
    rows["planted"] = [
        history.plants.get((label, week))
        for label, week in zip(rows["category_label"], rows["report_week_start"], strict=True)
    ]
    return rows


def weekly_figures(rows: pd.DataFrame) -> pd.DataFrame:
    """Per judged week: false flags, false significant flags, planted changes caught."""
    flagged = rows["severity"].isin(["CRITICAL", "MONITOR"])
    significant = flagged & rows["is_significant"].astype(bool)
    false_flag = flagged & rows["planted"].isna()
    figures = pd.DataFrame(
        {
            "week": rows["report_week_start"],
            "false_flags": false_flag,
            "false_significant": false_flag & significant,
            "false_improved": (rows["severity"] == "IMPROVED") & rows["planted"].isna(),
            "false_improved_significant": (rows["severity"] == "IMPROVED")
            & rows["is_significant"].astype(bool)
            & rows["planted"].isna(),
            "spikes": rows["planted"] == "spike",
            "spikes_caught": (rows["planted"] == "spike") & flagged,
            "spikes_significant": (rows["planted"] == "spike") & significant,
            "jumps": rows["planted"] == "jump",
            "jumps_caught": (rows["planted"] == "jump") & flagged,
            "jumps_significant": (rows["planted"] == "jump") & significant,
        }
    )
    return figures.groupby("week").sum().astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wobble-shape", type=float, default=30.0, help="gamma shape k: CV = 1/sqrt(k)")
    parser.add_argument("--vars", default="{}", help="extra dbt vars as JSON (e.g. fdr_alpha)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    history = make_history(rng, args.wobble_shape)
    with tempfile.TemporaryDirectory() as folder:
        rows = judge(history, Path(folder), json.loads(args.vars))
    weekly = weekly_figures(rows)
    planted = rows[rows["planted"].notna()].sort_values(["planted", "baseline_mean_tickets"])
    print("planted changes, smallest baseline first:")
    print(planted.drop(columns=["category_label"]).round(4).to_string(index=False))
    print()
    print(
        f"{len(history.tickets):,} tickets, {CATEGORIES} categories, {HISTORY_WEEKS} weeks; "
        f"seed {args.seed}, wobble CV {1 / np.sqrt(args.wobble_shape):.0%}, vars {args.vars}"
    )
    print(weekly.to_string())
    total = weekly.sum()
    print()
    print(
        f"false CRITICAL/MONITOR per week (seed rules): {weekly['false_flags'].mean():.1f} "
        f"(max {weekly['false_flags'].max()})"
    )
    print(
        f"false CRITICAL/MONITOR also significant per week: {weekly['false_significant'].mean():.2f} "
        f"(max {weekly['false_significant'].max()}, total {total['false_significant']})"
    )
    print(
        f"false IMPROVED per week: {weekly['false_improved'].mean():.1f}, also significant: "
        f"{weekly['false_improved_significant'].mean():.2f}"
    )
    for kind in ("spikes", "jumps"):
        planted = total[kind]
        caught, significant = total[f"{kind}_caught"], total[f"{kind}_significant"]
        print(
            f"{kind}: {planted} planted, {caught} flagged CRITICAL/MONITOR ({caught / planted:.0%}), "
            f"{significant} flagged and significant ({significant / planted:.0%})"
        )


if __name__ == "__main__":
    main()
