"""The statistics macros (dbt_project/macros/voc_statistics.sql) against exact distributions from scipy.

One `dbt show` renders every macro over a grid of cases and runs it on DuckDB; the exact tails come
from scipy here. The same macros render for BigQuery, where the data test
`assert_statistics_macros_match_known_values` pins a few of these values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scipy import special, stats

from flows.warehouse.dbt import dbt_environment
from tests.factories import make_settings

RELATIVE_TOLERANCE = 0.15  # the bar; the macros are within ~10 % on this grid
P_RANGE = (1e-4, 0.05)
ALPHAS = (0.0, 0.02, 0.05, 0.1, 0.2)
MEANS = (2.0, 5.0, 12.0, 25.0, 50.0, 150.0, 500.0)


def nb_at_least(observed: int, mean: float, alpha: float) -> float:
    """Exact P(Y >= observed) for a negative binomial with variance mean + alpha * mean^2."""
    if alpha == 0:
        return float(stats.poisson.sf(observed - 1, mean))
    size = 1 / alpha
    return float(stats.nbinom.sf(observed - 1, size, size / (size + mean)))


def nb_at_most(observed: int, mean: float, alpha: float) -> float:
    """Exact P(Y <= observed)."""
    if alpha == 0:
        return float(stats.poisson.cdf(observed, mean))
    size = 1 / alpha
    return float(stats.nbinom.cdf(observed, size, size / (size + mean)))


def share_at_least(successes: float, trials: float, share: float) -> float:
    """Exact P(X >= successes) for a binomial, real-valued as the incomplete beta I_p(x, n - x + 1)."""
    return float(special.betainc(successes, trials - successes + 1, share))


def count_cases() -> list[tuple[str, int, float, float, float]]:
    """(tail, observed, mean, alpha, exact p) for every observed count whose exact tail is in P_RANGE."""
    cases = []
    for alpha in ALPHAS:
        for mean in MEANS:
            for observed in range(int(mean) + 1, int(mean * 40) + 60):
                exact = nb_at_least(observed, mean, alpha)
                if exact < P_RANGE[0]:
                    break
                if exact <= P_RANGE[1]:
                    cases.append(("increase", observed, mean, alpha, exact))
            for observed in range(int(mean), -1, -1):
                exact = nb_at_most(observed, mean, alpha)
                if exact < P_RANGE[0]:
                    break
                if exact <= P_RANGE[1]:
                    cases.append(("decrease", observed, mean, alpha, exact))
    return cases


def share_cases() -> list[tuple[float, float, float, float, float]]:
    """(successes, trials, share, inflation, exact p): binomial tails, and inflated ones as a
    binomial on trials / inflation trials (real-valued)."""
    cases = []
    for trials, share in ((8, 0.3), (20, 0.1), (25, 0.2), (60, 0.05), (200, 0.3)):
        for inflation in (1.0, 1.5, 3.0):
            for successes in range(trials + 1):
                exact = share_at_least(successes / inflation, trials / inflation, share)
                if P_RANGE[0] <= exact <= P_RANGE[1] and successes / inflation > 1:
                    cases.append((float(successes), float(trials), share, inflation, exact))
    return cases


def values_sql(rows: list[tuple[Any, ...]], columns: list[str]) -> str:
    body = ",\n".join("(" + ", ".join(repr(value) for value in row) + ")" for row in rows)
    return f"(values {body}) as grid({', '.join(columns)})"


def show(project_dir: Path, tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of an inline query rendered by dbt (macros included) and run on DuckDB."""
    from dbt.cli.main import dbtRunner

    settings = make_settings(tmp_path, None)
    args = ["show", "--inline", sql, "--limit", "-1", "--quiet", "--vars", '{"report_week": "2026-11-16"}']
    dirs = ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    with dbt_environment(settings):
        result = dbtRunner().invoke([*args, *dirs])
    assert result.success, result.exception
    return [tuple(row) for row in result.result.results[0].agate_table.rows]


@pytest.fixture(scope="module")
def computed(dbt_project_of_this_worker: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    counts = count_cases()
    shares = share_cases()
    grid = [(n, tail, observed, mean, alpha) for n, (tail, observed, mean, alpha, _) in enumerate(counts)]
    count_sql = f"""
        select case_number,
            case when tail = 'increase'
                then {{{{ voc_count_at_least_p('observed', 'mean_value', 'alpha') }}}}
                else {{{{ voc_count_at_most_p('observed', 'mean_value', 'alpha') }}}}
            end as p_value
        from {values_sql(grid, ["case_number", "tail", "observed", "mean_value", "alpha"])}
        order by case_number"""
    share_grid = [(n, *case[:4]) for n, case in enumerate(shares)]
    share_sql = f"""
        select case_number,
            {{{{ voc_share_at_least_p('successes', 'trials', 'share', 'inflation') }}}} as p_value
        from {values_sql(share_grid, ["case_number", "successes", "trials", "share", "inflation"])}
        order by case_number"""
    tmp = tmp_path_factory.mktemp("macros")
    count_p = [row[1] for row in show(dbt_project_of_this_worker, tmp, count_sql)]
    share_p = [row[1] for row in show(dbt_project_of_this_worker, tmp, share_sql)]
    return {
        "counts": list(zip(counts, count_p, strict=True)),
        "shares": list(zip(shares, share_p, strict=True)),
    }


def relative_errors(pairs: list[tuple[tuple[Any, ...], Any]]) -> list[tuple[float, tuple[Any, ...]]]:
    return sorted(((abs(float(p) / case[-1] - 1), case) for case, p in pairs), reverse=True)


@pytest.mark.parametrize("tail", ["increase", "decrease"])
def test_count_tails_match_the_exact_negative_binomial_within_15_percent(
    computed: dict[str, Any], tail: str
) -> None:
    pairs = [(case, p) for case, p in computed["counts"] if case[0] == tail]
    assert len(pairs) > 150, "the grid covers every mean and dispersion"
    worst = relative_errors(pairs)[:3]
    assert worst[0][0] <= RELATIVE_TOLERANCE, f"worst (relative error, case): {worst}"


def test_an_over_dispersed_rise_is_not_made_more_significant_than_the_negative_binomial_says(
    computed: dict[str, Any],
) -> None:
    """Regression: the old macro divided a Poisson z by sqrt(dispersion) and kept the Poisson's
    shape, so 150 against a mean of 50 (alpha 0.2) came out ~3x too significant."""
    rising = {(observed, mean, alpha): p for (tail, observed, mean, alpha, _), p in computed["counts"]}
    for observed in (120, 150):
        exact = nb_at_least(observed, 50.0, 0.2)
        assert float(rising[(observed, 50.0, 0.2)]) == pytest.approx(exact, rel=RELATIVE_TOLERANCE)


def test_share_tails_match_the_exact_binomial_within_15_percent(computed: dict[str, Any]) -> None:
    assert len(computed["shares"]) > 40
    worst = relative_errors(computed["shares"])[:3]
    assert worst[0][0] <= RELATIVE_TOLERANCE, f"worst (relative error, case): {worst}"
