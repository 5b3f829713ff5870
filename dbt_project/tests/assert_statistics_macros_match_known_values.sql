-- The statistics macros (macros/voc_statistics.sql) against known values, on every adapter; a
-- returned row is a miss. tests/dbt/test_statistics_macros.py checks the same macros against scipy
-- over a wide grid on DuckDB; this test pins a few of those values where the SQL renders for
-- BigQuery too. Normal tails: erfc to 1e-7 relative. Count and share tails: the Peizer–Pratt
-- approximation against the exact Poisson, negative-binomial and binomial tails (scipy), to 5 %.
-- Each macro is expanded once over a table of cases (as the models do), not once per case.

with normal_cases as (

    select 'normal tail at 0' as case_name, 0.0 as z, 0.5 as expected, 1e-7 as relative_tolerance
    union all select 'normal tail at 1', 1.0, 0.15865525393145707, 1e-7
    union all select 'normal tail at -1', -1.0, 0.8413447460685429, 1e-7
    union all select 'normal tail at 1.96', 1.959963984540054, 0.025, 1e-7
    union all select 'normal tail at 3', 3.0, 0.0013498980316300957, 1e-7
    union all select 'normal tail at -3', -3.0, 0.9986501019683699, 1e-7
    union all select 'normal tail at 5', 5.0, 2.866515718791946e-07, 1e-6
    union all select 'normal tail at 8', 8.0, 6.220960574271819e-16, 1e-6

),

-- P(Y >= observed) ('at least') or P(Y <= observed) ('at most') for a negative binomial (alpha 0:
-- Poisson); exact values from scipy.stats.nbinom / poisson.
count_cases as (

    select 'poisson P(X >= 18 | 12)' as case_name, 'at least' as tail, 18 as observed, 12.0 as mean_value,
        0.0 as alpha, 0.06296629677397021 as expected
    union all select 'poisson P(X >= 24 | 12)', 'at least', 24, 12.0, 0.0, 0.0014728791823162702
    union all select 'poisson P(X >= 40 | 20)', 'at least', 40, 20.0, 0.0, 5.320202511246237e-05
    union all select 'nb P(Y >= 150 | 50, alpha 0.2)', 'at least', 150, 50.0, 0.2, 0.0012600488659206643
    union all select 'nb P(Y >= 180 | 50, alpha 0.2)', 'at least', 180, 50.0, 0.2, 0.00014108538115606333
    union all select 'nb P(Y >= 60 | 25, alpha 0.05)', 'at least', 60, 25.0, 0.05, 0.00013880099803877097
    union all select 'poisson P(X <= 1 | 12)', 'at most', 1, 12.0, 0.0, 7.987476059326673e-05
    union all select 'poisson P(X <= 10 | 20)', 'at most', 10, 20.0, 0.0, 0.010811718826652723
    union all select 'nb P(Y <= 10 | 50, alpha 0.05)', 'at most', 10, 50.0, 0.05, 1.6742214603322963e-05
    union all select 'nb P(Y <= 3 | 25, alpha 0.1)', 'at most', 3, 25.0, 0.1, 0.00042188512224753603

),

-- P(X >= successes) for a binomial on trials / inflation trials; exact from scipy.special.betainc.
share_cases as (

    select 'binomial P(X >= 10 | 20, 0.2)' as case_name, 10 as successes, 20 as trials, 0.2 as share,
        1.0 as inflation, 0.00259482740067402 as expected
    union all select 'inflated share 16 of 25 at 0.2, x1.5', 16, 25, 0.2, 1.5, 0.00011264502996108166

),

count_z as (

    select
        *,
        case
            when tail = 'at least' then {{ voc_count_at_most_z('observed - 1', 'mean_value', 'alpha') }}
            else -{{ voc_count_at_most_z('observed', 'mean_value', 'alpha') }}
        end as z
    from count_cases

),

share_z as (

    select
        *,
        {{ voc_binomial_at_most_z('successes / inflation - 1.0', 'trials / inflation', 'share') }} as z
    from share_cases

),

computed as (

    select case_name, {{ voc_normal_upper_tail('z') }} as computed, expected, relative_tolerance
    from normal_cases
    union all
    select case_name, {{ voc_normal_upper_tail('z') }}, expected, 0.05
    from count_z
    union all
    select case_name, {{ voc_normal_upper_tail('z') }}, expected, 0.05
    from share_z

),

edge_cases as (

    select 'normal tail of null' as case_name,
        coalesce({{ voc_normal_upper_tail('cast(null as ' ~ voc_type_double() ~ ')') }}, -1.0) as computed,
        -1.0 as expected, 0.0 as relative_tolerance

),

misses as (

    select * from computed
    where not abs(computed - expected) <= relative_tolerance * abs(expected)
    union all
    select * from edge_cases
    where not abs(computed - expected) <= relative_tolerance * abs(expected)

)

select * from misses
