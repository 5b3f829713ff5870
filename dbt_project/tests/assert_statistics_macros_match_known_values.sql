-- The statistics macros (macros/voc_statistics.sql) against known values; a returned row is a miss.
-- Normal tails: erfc to 1e-7 relative (deep tails included). Count tails: the Wilson–Hilferty
-- approximation against exact Poisson tails (dispersion 1) to 1e-4, and with over-dispersion
-- against the documented formula. Proportions: the two-proportion z of 10/20 vs. 32/160.
-- Expected values were computed in double precision with Python's math.erfc and exact Poisson sums.

with cases as (

    select 'normal tail at 0' as case_name, {{ voc_normal_upper_tail('0.0') }} as computed,
        0.5 as expected, 1e-7 as tolerance
    union all
    select 'normal tail at 1', {{ voc_normal_upper_tail('1.0') }}, 0.15865525393145707, 1e-7
    union all
    select 'normal tail at -1', {{ voc_normal_upper_tail('-1.0') }}, 0.8413447460685429, 1e-7
    union all
    select 'normal tail at 1.96', {{ voc_normal_upper_tail('1.959963984540054') }}, 0.025, 1e-8
    union all
    select 'normal tail at 3', {{ voc_normal_upper_tail('3.0') }}, 0.0013498980316300957, 1e-9
    union all
    select 'normal tail at -3', {{ voc_normal_upper_tail('-3.0') }}, 0.9986501019683699, 1e-7
    union all
    select 'normal tail at 5', {{ voc_normal_upper_tail('5.0') }}, 2.866515718791946e-07, 1e-13
    union all
    select 'normal tail at 8', {{ voc_normal_upper_tail('8.0') }}, 6.220960574271819e-16, 1e-21
    union all
    select 'normal tail of null', coalesce({{ voc_normal_upper_tail('cast(null as ' ~ voc_type_double() ~ ')') }}, -1.0), -1.0, 0.0
    union all
    select 'poisson P(X >= 18 | 12)', {{ voc_normal_upper_tail(voc_count_increase_z('18.0', '12.0', '1.0')) }},
        0.06296629677396903, 1e-4
    union all
    select 'poisson P(X >= 24 | 12)', {{ voc_normal_upper_tail(voc_count_increase_z('24.0', '12.0', '1.0')) }},
        0.001472879182314979, 1e-4
    union all
    select 'poisson P(X >= 30 | 20)', {{ voc_normal_upper_tail(voc_count_increase_z('30.0', '20.0', '1.0')) }},
        0.021818217525560457, 1e-4
    union all
    select 'poisson P(X >= 40 | 20)', {{ voc_normal_upper_tail(voc_count_increase_z('40.0', '20.0', '1.0')) }},
        5.320202511560623e-05, 1e-5
    union all
    select 'poisson P(X <= 1 | 12)', {{ voc_normal_upper_tail(voc_count_decrease_z('1.0', '12.0', '1.0')) }},
        7.98747605932667e-05, 1e-4
    union all
    select 'poisson P(X <= 10 | 20)', {{ voc_normal_upper_tail(voc_count_decrease_z('10.0', '20.0', '1.0')) }},
        0.010811718826652718, 1e-4
    union all
    select 'over-dispersed increase 40 vs 20', {{ voc_normal_upper_tail(voc_count_increase_z('40.0', '20.0', '1.8')) }},
        0.0019995581868881085, 1e-6
    union all
    select 'over-dispersed decrease 10 vs 20', {{ voc_normal_upper_tail(voc_count_decrease_z('10.0', '20.0', '1.8')) }},
        0.043600648817705846, 1e-6
    union all
    select 'negative share 10/20 vs 32/160', {{ voc_proportion_rise_z('10.0', '20.0', '32.0', '160.0') }},
        2.990668717675361, 1e-6
    union all
    select 'all-negative weeks have no rise', {{ voc_proportion_rise_z('20.0', '20.0', '160.0', '160.0') }},
        0.0, 0.0
    union all
    select 'no tickets this week', coalesce({{ voc_proportion_rise_z('0.0', '0.0', '32.0', '160.0') }}, -1.0),
        -1.0, 0.0

),

misses as (

    select * from cases
    where not abs(computed - expected) <= tolerance

)

select * from misses
