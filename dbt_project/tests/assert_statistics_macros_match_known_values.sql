-- The statistics macros (macros/voc_statistics.sql) against known values, on every adapter; a
-- returned row is a miss. tests/dbt/test_statistics_macros.py checks the same macros against scipy
-- over a wide grid on DuckDB; this test pins a few of those values where the SQL renders for
-- BigQuery too. Normal tails: erfc to 1e-7 relative. Count and share tails: the Peizer–Pratt
-- approximation against the exact Poisson, negative-binomial and binomial tails (scipy), to 5 %.

with cases as (

    select 'normal tail at 0' as case_name, {{ voc_normal_upper_tail('0.0') }} as computed,
        0.5 as expected, 1e-7 as relative_tolerance
    union all
    select 'normal tail at 1', {{ voc_normal_upper_tail('1.0') }}, 0.15865525393145707, 1e-7
    union all
    select 'normal tail at -1', {{ voc_normal_upper_tail('-1.0') }}, 0.8413447460685429, 1e-7
    union all
    select 'normal tail at 1.96', {{ voc_normal_upper_tail('1.959963984540054') }}, 0.025, 1e-7
    union all
    select 'normal tail at 3', {{ voc_normal_upper_tail('3.0') }}, 0.0013498980316300957, 1e-7
    union all
    select 'normal tail at -3', {{ voc_normal_upper_tail('-3.0') }}, 0.9986501019683699, 1e-7
    union all
    select 'normal tail at 5', {{ voc_normal_upper_tail('5.0') }}, 2.866515718791946e-07, 1e-6
    union all
    select 'normal tail at 8', {{ voc_normal_upper_tail('8.0') }}, 6.220960574271819e-16, 1e-6
    union all
    select 'normal tail of null', coalesce({{ voc_normal_upper_tail('cast(null as ' ~ voc_type_double() ~ ')') }}, -1.0), -1.0, 0.0
    union all
    select 'poisson P(X >= 18 | 12)', {{ voc_count_at_least_p('18', '12.0', '0.0') }}, 0.06296629677397021, 0.05
    union all
    select 'poisson P(X >= 24 | 12)', {{ voc_count_at_least_p('24', '12.0', '0.0') }}, 0.0014728791823162702, 0.05
    union all
    select 'poisson P(X >= 40 | 20)', {{ voc_count_at_least_p('40', '20.0', '0.0') }}, 5.320202511246237e-05, 0.05
    union all
    select 'nb P(Y >= 150 | 50, alpha 0.2)', {{ voc_count_at_least_p('150', '50.0', '0.2') }},
        0.0012600488659206643, 0.05
    union all
    select 'nb P(Y >= 180 | 50, alpha 0.2)', {{ voc_count_at_least_p('180', '50.0', '0.2') }},
        0.00014108538115606333, 0.05
    union all
    select 'nb P(Y >= 60 | 25, alpha 0.05)', {{ voc_count_at_least_p('60', '25.0', '0.05') }},
        0.00013880099803877097, 0.05
    union all
    select 'no tickets is no increase', {{ voc_count_at_least_p('0', '25.0', '0.05') }}, 1.0, 0.0
    union all
    select 'poisson P(X <= 1 | 12)', {{ voc_count_at_most_p('1', '12.0', '0.0') }}, 7.987476059326673e-05, 0.05
    union all
    select 'poisson P(X <= 10 | 20)', {{ voc_count_at_most_p('10', '20.0', '0.0') }}, 0.010811718826652723, 0.05
    union all
    select 'nb P(Y <= 10 | 50, alpha 0.05)', {{ voc_count_at_most_p('10', '50.0', '0.05') }},
        1.6742214603322963e-05, 0.05
    union all
    select 'nb P(Y <= 3 | 25, alpha 0.1)', {{ voc_count_at_most_p('3', '25.0', '0.1') }},
        0.00042188512224753603, 0.05
    union all
    select 'binomial P(X >= 10 | 20, 0.2)', {{ voc_share_at_least_p('10', '20', '0.2', '1.0') }},
        0.00259482740067402, 0.05
    union all
    select 'inflated share 16 of 25 at 0.2, x1.5', {{ voc_share_at_least_p('16', '25', '0.2', '1.5') }},
        0.00011264502996108166, 0.05
    union all
    select 'no negative tickets is no rise', {{ voc_share_at_least_p('0', '25', '0.2', '1.0') }}, 1.0, 0.0
    union all
    select 'no tickets this week', coalesce({{ voc_share_at_least_p('0', '0', '0.2', '1.0') }}, -1.0), -1.0, 0.0

),

misses as (

    select * from cases
    where not abs(computed - expected) <= relative_tolerance * abs(expected)

)

select * from misses
