"""Signal vs. noise of the evidence (SPEC §13): calibration, false flags, planted changes caught.

Synthetic histories of 100 categories over 30 weeks: weekly rates (lognormal quantiles, median 20), a
gamma wobble of every category's rate every week (CV 0.10, 0.15 or 0.20; none for "poisson"),
steady negative shares (5–35 %). 64 categories sit four to a category1/category2 group; four more
groups have 6, 8, 10 and 12 small children (5–15 tickets a week each). One dbt run
(comparison_weeks 22) judges the last 22 weeks, each against its own 8-week baseline.

- calibration: nothing is planted; the share of category-weeks with p < 0.05 and p < 0.01, per test.
- clean: in the last 10 weeks, 3 two-fold volume spikes and 2 +30 %p negative-share jumps a week,
  each on a category with a rate of at least 20 tickets and no planted change of its kind in the 9
  weeks before (as far as the categories allow); in 5 of the 10 weeks, +40 % on every child of one
  small-children group (a change spread over many small categories; each group's earlier one more
  than 8 weeks before).
- repeat: the same, but the 3 spikes of a week go to the categories that spiked 3 weeks before (a
  pool of 9), so from the fourth week on every spike has one or two past spikes of its own in its
  8-week baseline.

A "false" flag is a CRITICAL/MONITOR (or IMPROVED) category-week with nothing planted in it.
"oracle" is the exact negative-binomial tail with each category's true rate and wobble: the most a
test can get from one week of counts (no baseline to estimate).

Usage: python -m benchmarks.bench_signal [--seeds 7 8] [--scenarios calibration clean repeat]
       [--cv 0.10 0.15 0.20] [--vars '{"fdr_alpha": 0.05}']
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
from scipy import stats

from flows.settings import VocSettings
from flows.warehouse.dbt import invoke_dbt

REPORT_WEEK = date(2026, 11, 16)
HISTORY_WEEKS = 30
BASELINE_WEEKS = 8
JUDGED_WEEKS = HISTORY_WEEKS - BASELINE_WEEKS
PLANT_WEEKS = 10
LARGE_CATEGORIES = 64
SMALL_GROUPS = (6, 8, 10, 12)  # children of the small-children category1/category2 groups
SPREAD_WEEKS = (0, 2, 4, 6, 9)  # plant weeks with a spread change: groups 0, 1, 2, 3, then 0 again
MIN_PLANT_RATE = 20.0
SPIKES_PER_WEEK, JUMPS_PER_WEEK = 3, 2
SPIKE_FACTOR, JUMP_PP, SPREAD_FACTOR = 2.0, 0.30, 1.4
REPEAT_EVERY = 3
FDR_LEVELS = (0.01, 0.05, 0.10, 0.20)


@dataclass
class History:
    """Tickets and what was planted where: {(category_label, week): kind}; true rates and wobble."""

    tickets: pd.DataFrame
    plants: dict[tuple[str, date], str] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    alpha: float = 0.0
    spread_groups: dict[date, tuple[str, str]] = field(default_factory=dict)


def hierarchy() -> list[tuple[str, str, str]]:
    """(category1, category2, category3) of every category: the large ones in 4 x 4 groups, then the
    small-children groups under category1 '소분류많음'."""
    names = [(f"대분류{n % 4}", f"중분류{n % 16 // 4}", f"항목{n:03d}") for n in range(LARGE_CATEGORIES)]
    for group, children in enumerate(SMALL_GROUPS):
        names += [("소분류많음", f"묶음{group}", f"세부{child:02d}") for child in range(children)]
    return names


def plan_plants(rng: np.random.Generator, eligible: list[int], scenario: str) -> dict[tuple[int, int], str]:
    """{(category, week index): 'spike' | 'jump' | 'spread'} for the scenario."""
    plants: dict[tuple[int, int], str] = {}
    if scenario == "calibration":
        return plants
    first = HISTORY_WEEKS - PLANT_WEEKS
    last_used: dict[tuple[int, str], int] = {}
    pool = list(eligible)
    rng.shuffle(pool)
    for week in range(first, HISTORY_WEEKS):
        taken: set[int] = set()
        for kind, count in (("spike", SPIKES_PER_WEEK), ("jump", JUMPS_PER_WEEK)):
            if kind == "spike" and scenario == "repeat":
                chosen = pool[((week - first) % REPEAT_EVERY) * count :][:count]
            else:
                repeating = pool[: 3 * SPIKES_PER_WEEK] if scenario == "repeat" else []
                candidates = [c for c in pool if c not in taken and c not in repeating]
                candidates.sort(key=lambda c: last_used.get((c, kind), -99))
                chosen = candidates[:count]
            for category in chosen:
                plants[(category, week)] = kind
                last_used[(category, kind)] = week
                taken.add(category)
        if week - first in SPREAD_WEEKS:
            group = SPREAD_WEEKS.index(week - first) % len(SMALL_GROUPS)
            start = LARGE_CATEGORIES + sum(SMALL_GROUPS[:group])
            for category in range(start, start + SMALL_GROUPS[group]):
                plants[(category, week)] = "spread"
    return plants


def make_history(rng: np.random.Generator, scenario: str, cv: float) -> History:
    """Tickets for HISTORY_WEEKS weeks ending REPORT_WEEK, with the scenario's planted changes."""
    names = hierarchy()
    weeks = [REPORT_WEEK - timedelta(weeks=HISTORY_WEEKS - 1 - n) for n in range(HISTORY_WEEKS)]
    rates = np.concatenate(
        [
            # Lognormal quantiles (median 20, sigma 1), shuffled: every history has the same spread of
            # sizes, so 32 categories are large enough for a planted change.
            rng.permutation(
                20.0 * np.exp(stats.norm.ppf((np.arange(LARGE_CATEGORIES) + 0.5) / LARGE_CATEGORIES))
            ),  # noqa: E501
            rng.uniform(5.0, 15.0, size=sum(SMALL_GROUPS)),
        ]
    )
    shares = rng.uniform(0.05, 0.35, size=len(names))
    eligible = [int(c) for c in np.flatnonzero(rates[:LARGE_CATEGORIES] >= MIN_PLANT_RATE)]
    plants = plan_plants(rng, eligible, scenario)
    factor = np.ones((len(names), HISTORY_WEEKS))
    jump = np.zeros((len(names), HISTORY_WEEKS))
    for (category, week), kind in plants.items():
        factor[category, week] = {"spike": SPIKE_FACTOR, "spread": SPREAD_FACTOR}.get(kind, 1.0)
        jump[category, week] = JUMP_PP if kind == "jump" else 0.0
    shape = 1 / cv**2 if cv > 0 else None
    wobble = rng.gamma(shape, 1 / shape, size=factor.shape) if shape else np.ones(factor.shape)
    counts = rng.poisson(rates[:, None] * wobble * factor)
    negatives = rng.binomial(counts, np.minimum(shares[:, None] + jump, 1.0))

    category_index = np.repeat(np.arange(len(names)), counts.sum(axis=1))
    week_index = np.concatenate([np.repeat(np.arange(HISTORY_WEEKS), row) for row in counts])
    is_negative = np.concatenate(
        [
            np.concatenate([rng.permutation(np.arange(n) < k) for n, k in zip(row_n, row_k, strict=True)])
            for row_n, row_k in zip(counts, negatives, strict=True)
        ]
    )
    starts = np.array([np.datetime64(datetime(w.year, w.month, w.day) - timedelta(hours=9)) for w in weeks])
    offsets = rng.uniform(0, 7 * 24 * 3600 - 1, size=len(week_index)).astype("timedelta64[s]")
    level = np.array(names, dtype=object)
    tickets = pd.DataFrame(
        {
            "id": [f"t{n}" for n in range(len(week_index))],
            "event_create_time": starts[week_index] + offsets,
            "title": "합성 문의",
            "detail": "합성 내용",
            "category1": level[category_index, 0],
            "category2": level[category_index, 1],
            "category3": level[category_index, 2],
            "overall_emotion": np.where(is_negative, "부정", "중립"),
            "main_topic": None,
            "keywords": "합성",
        }
    )
    labels = [" / ".join(name) for name in names]
    spread_groups = {
        weeks[week]: names[category][:2] for (category, week), kind in plants.items() if kind == "spread"
    }
    return History(
        tickets=tickets,
        plants={(labels[c], weeks[w]): kind for (c, w), kind in plants.items()},
        rates=dict(zip(labels, rates, strict=True)),
        alpha=cv**2,
        spread_groups=spread_groups,
    )


def judge(history: History, workdir: Path, extra_vars: dict[str, object]) -> dict[str, pd.DataFrame]:
    """One dbt run over the last JUDGED_WEEKS weeks: the comparison rows (and roll-ups, when built)."""
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
    has_rollups = (settings.dbt_project_dir / "models/marts/voc/voc_weekly_rollups.sql").exists()
    selection = "+voc_weekly_comparison +voc_weekly_rollups" if has_rollups else "+voc_weekly_comparison"
    invoke_dbt(settings, ["--quiet", "run", "--select", *selection.split(), "--vars", json.dumps(run_vars)])
    frames = {}
    with duckdb.connect(str(settings.duckdb_file)) as con:
        frames["categories"] = con.execute("select * from voc_weekly_comparison").df()
        if has_rollups:
            frames["rollups"] = con.execute("select * from voc_weekly_rollups").df()
    for frame in frames.values():
        frame["report_week_start"] = pd.to_datetime(frame["report_week_start"]).dt.date
    rows = frames["categories"]
    rows["planted"] = [
        history.plants.get((label, week))
        for label, week in zip(rows["category_label"], rows["report_week_start"], strict=True)
    ]
    rows["true_rate"] = rows["category_label"].map(history.rates)
    return frames


def calibration(rows: pd.DataFrame) -> dict[str, float]:
    """Share of category-weeks with p below 0.05 and 0.01, per one-sided test."""
    figures = {}
    for test in ("increase", "decrease", "negative_rise"):
        p = rows[f"p_value_{test}"].dropna().astype(float)
        figures[f"{test} <0.05"] = float((p < 0.05).mean())
        figures[f"{test} <0.01"] = float((p < 0.01).mean())
        figures[f"{test} n"] = len(p)
    return figures


def oracle_tail(observed: object, rate: object, alpha: float) -> object:
    """Exact P(Y >= observed) for a negative binomial with the true rate and wobble (alpha = CV^2)."""
    if alpha == 0:
        return stats.poisson.sf(np.asarray(observed) - 1, rate)
    size = 1 / alpha
    return stats.nbinom.sf(np.asarray(observed) - 1, size, size / (size + np.asarray(rate)))


def oracle_p(rows: pd.DataFrame, alpha: float) -> pd.Series:
    """The oracle's p-value of each row's count, with the category's true rate and wobble."""
    rate, observed = rows["true_rate"].astype(float), rows["reported_tickets"].astype(int)
    return pd.Series(oracle_tail(observed, rate, alpha), index=rows.index)


def signal(rows: pd.DataFrame, alpha: float, fdr: float, judged: set[date]) -> dict[str, float]:
    """At one false-discovery level (from q_value): false significant flags a week, planted caught."""
    rows = rows[rows["report_week_start"].isin(judged)]
    weeks = len(judged)
    q = rows["q_value"].astype(float)
    rising = rows["severity"].isin(["CRITICAL", "MONITOR"])
    significant = (rows["severity"] != "STABLE") & (q <= fdr)
    nothing = rows["planted"].isna()
    false_rising = (rising & significant & nothing).groupby(rows["report_week_start"]).sum()
    false_improved = ((rows["severity"] == "IMPROVED") & significant & nothing).sum()
    figures = {
        "false significant flags / week": false_rising.sum() / weeks,
        "max in a week": float(false_rising.max()),
        "false significant IMPROVED / week": false_improved / weeks,
        "delivered FDR": float((significant & nothing).sum() / max(significant.sum(), 1)),
    }
    for kind in ("spike", "jump"):
        planted = rows["planted"] == kind
        figures[f"{kind}s"] = int(planted.sum())
        figures[f"{kind}s flagged"] = float((planted & rising).sum() / max(planted.sum(), 1))
        caught = (planted & rising & significant).sum()
        figures[f"{kind}s significant"] = float(caught / max(planted.sum(), 1))
    spikes = rows[rows["planted"] == "spike"]
    oracle = oracle_p(spikes, alpha)
    figures["spikes, oracle p < 0.0025"] = float((oracle < 0.0025).mean())
    spread = rows["planted"] == "spread"
    figures["spread children significant"] = float((spread & significant).sum() / max(spread.sum(), 1))
    return figures


def rollup_signal(rollups: pd.DataFrame, history: History, fdr: float, judged: set[date]) -> dict[str, float]:
    """Spread changes: is the planted category1/category2 roll-up significant; false roll-ups a week."""
    rollups = rollups[rollups["report_week_start"].isin(judged)]
    significant = rollups["q_value"].astype(float) <= fdr
    planted_groups = {(week, group) for week, group in history.spread_groups.items()}
    planted_labels = {(week, label.split(" / ")[0]) for (label, week), kind in history.plants.items()}
    planted_pairs = {
        (week, " / ".join(label.split(" / ")[:2])) for (label, week), kind in history.plants.items()
    }
    hits, false, oracle_hits = 0, 0, 0
    for row, is_significant in zip(rollups.itertuples(), significant, strict=True):
        week = row.report_week_start
        if row.level == 2 and (week, (row.category1, row.category2)) in planted_groups:
            hits += int(is_significant)
            # The group's true weekly rate and wobble (children independent): the best one week shows.
            rates = [r for label, r in history.rates.items() if label.startswith(f"{row.rollup_label} / ")]
            total, alpha = sum(rates), history.alpha * sum(r * r for r in rates) / sum(rates) ** 2
            oracle_hits += int(oracle_tail(int(row.reported_tickets), total, alpha) < 0.0025)
        elif is_significant:
            touched = (
                (week, row.category1) in planted_labels
                if row.level == 1
                else (week, f"{row.category1} / {row.category2}") in planted_pairs
            )
            false += int(not touched)
    return {
        "spread roll-ups significant": hits / max(len(history.spread_groups), 1),
        "false significant roll-ups / week": false / len(judged),
        "spread roll-ups, oracle p < 0.0025": oracle_hits / max(len(history.spread_groups), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8])
    parser.add_argument("--scenarios", nargs="+", default=["calibration", "clean", "repeat"])
    parser.add_argument("--cv", type=float, nargs="+", default=[0.10, 0.15, 0.20, 0.0], help="0 = Poisson")
    parser.add_argument("--vars", default="{}", help="extra dbt vars as JSON (e.g. fdr_alpha)")
    args = parser.parse_args()
    extra_vars = json.loads(args.vars)
    default_fdr = float(extra_vars.get("fdr_alpha", 0.05))
    for scenario in args.scenarios:
        for cv in args.cv:
            if scenario != "calibration" and cv == 0:
                continue
            results: list[dict[str, float]] = []
            for seed in args.seeds:
                history = make_history(np.random.default_rng(seed), scenario, cv)
                with tempfile.TemporaryDirectory() as folder:
                    frames = judge(history, Path(folder), extra_vars)
                rows = frames["categories"]
                if scenario == "calibration":
                    results.append(calibration(rows))
                    continue
                plant_weeks = {REPORT_WEEK - timedelta(weeks=n) for n in range(PLANT_WEEKS)}
                for fdr in sorted({*FDR_LEVELS, default_fdr}):
                    figures = {"fdr": fdr, **signal(rows, history.alpha, fdr, plant_weeks)}
                    if "rollups" in frames:
                        figures |= rollup_signal(frames["rollups"], history, fdr, plant_weeks)
                    results.append(figures)
            table = pd.DataFrame(results)
            keys = ["fdr"] if "fdr" in table else []
            summary = table.groupby(keys).mean() if keys else table.mean().to_frame().T
            name = "poisson" if cv == 0 else f"wobble CV {cv:.2f}"
            print(f"\n== {scenario}, {name}, seeds {args.seeds}, vars {args.vars}")
            print(summary.round(3).T.to_string())


if __name__ == "__main__":
    main()
