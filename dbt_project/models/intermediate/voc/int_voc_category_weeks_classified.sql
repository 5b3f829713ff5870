-- One row per category per week of the run's history window (int_voc_category_weeks_filled): the
-- week against the week before it by the seed's rule (SPEC §4), its display figures, and the streak of
-- flagged weeks it ends. The reported weeks are the last comparison_weeks; the weeks before them are
-- classified too, in this same run, for the streaks and for the figures of a snoozed week.
-- Ephemeral: the window comes from this run's vars; voc_weekly_comparison stores the reported weeks.
{%- set baseline_weeks = [var('baseline_weeks') | int, 1] | max %}

with category_weeks as (

    select * from {{ ref('int_voc_category_weeks_filled') }}

),

-- Every category in every week of the window (a missing week counts as 0), each week against the
-- week before it.
compared as (

    select
        category_label,
        category1,
        category2,
        category3,
        week_start,
        week_number,
        first_data_week_number,
        coalesce(lag(ticket_count) over category_history, 0) as previous_tickets,
        ticket_count as reported_tickets,
        coalesce(lag(negative_ticket_count) over category_history, 0) as previous_negative_tickets,
        negative_ticket_count as reported_negative_tickets
    from category_weeks
    window category_history as (partition by category1, category2, category3 order by week_number)

),

-- The rule is evaluated in integer arithmetic so every boundary is exact: "+30%" is
-- 100 * (last - prev) >= 30 * prev, and "+20%p" is 100 * (neg_last * prev - neg_prev * last)
-- >= 20 * prev * last. A new category (prev = 0) passes every increase threshold.
thresholds_checked as (

    select
        *,
        greatest(previous_tickets, reported_tickets) as volume,
        previous_tickets = 0 and reported_tickets > 0 as is_up_from_zero,
        100 * (reported_tickets - previous_tickets) >= {{ var('critical_increase_pct') }} * previous_tickets
            as is_critical_increase,
        100 * (reported_tickets - previous_tickets) >= {{ var('monitor_increase_pct') }} * previous_tickets
            as is_monitor_increase,
        previous_tickets > 0
        and 100 * (previous_tickets - reported_tickets) >= {{ var('improved_decrease_pct') }} * previous_tickets
            as is_improved_decrease,
        previous_tickets > 0 and reported_tickets > 0
        and 100 * (reported_negative_tickets * previous_tickets - previous_negative_tickets * reported_tickets)
        >= {{ var('critical_neg_ratio_delta_pp') }} * previous_tickets * reported_tickets
            as is_critical_neg_ratio_rise,
        previous_tickets > 0 and reported_tickets > 0
        and 100 * (reported_negative_tickets * previous_tickets - previous_negative_tickets * reported_tickets)
        >= {{ var('monitor_neg_ratio_delta_pp') }} * previous_tickets * reported_tickets
            as is_monitor_neg_ratio_rise
    from compared

),

classified as (

    select
        *,
        case
            when
                (is_critical_increase or is_critical_neg_ratio_rise)
                and volume >= {{ var('critical_min_volume') }} then 'CRITICAL'
            when
                (is_monitor_increase or is_monitor_neg_ratio_rise)
                and volume >= {{ var('monitor_min_volume') }} then 'MONITOR'
            when
                is_improved_decrease
                and volume >= {{ var('improved_min_volume') }} then 'IMPROVED'
            else 'STABLE'
        end as severity
    from thresholds_checked

),

-- Display figures. They are floats for reading; the severity above never depends on them.
measured as (

    select
        *,
        case
            when previous_tickets > 0
                then 100 * cast(reported_tickets - previous_tickets as {{ voc_type_double() }}) / previous_tickets
        end as pct_change,
        case
            when previous_tickets > 0
                then cast(previous_negative_tickets as {{ voc_type_double() }}) / previous_tickets
        end as previous_neg_ratio,
        case
            when reported_tickets > 0
                then cast(reported_negative_tickets as {{ voc_type_double() }}) / reported_tickets
        end as reported_neg_ratio,
        -- From the integer numerator, so exactly +20%p shows as 20.0, not 19.999999999999996.
        case
            when previous_tickets > 0 and reported_tickets > 0
                then 100 * cast(
                    reported_negative_tickets * previous_tickets - previous_negative_tickets * reported_tickets
                    as {{ voc_type_double() }}
                ) / (previous_tickets * reported_tickets)
        end as neg_ratio_delta_pp
    from classified

),

-- A week's severity counts for the streaks only if the week before it had data; the reported
-- weeks always count (a category new in the data is new, SPEC §4).
comparable as (

    select
        *,
        case
            when
                week_number >= {{ baseline_weeks }}
                or week_number > first_data_week_number
                then severity
        end as week_severity
    from measured

),

flag_kinds as (

    select
        *,
        case
            when week_severity in ('CRITICAL', 'MONITOR') then 'rising'
            when week_severity = 'IMPROVED' then 'improved'
        end as flag_kind
    from comparable

),

previous_weeks as (

    select
        *,
        lag(week_severity) over category_history as previous_severity,
        lag(flag_kind) over category_history as previous_flag_kind
    from flag_kinds
    window category_history as (partition by category1, category2, category3 order by week_number)

),

-- Streaks: a new group starts whenever the kind of flag (rising, improved, none) changes.
streak_groups as (

    select
        *,
        sum(case when flag_kind is distinct from previous_flag_kind then 1 else 0 end) over (
            partition by category1, category2, category3
            order by week_number
            rows between unbounded preceding and current row
        ) as streak_group
    from previous_weeks

),

streaks as (

    select
        *,
        case
            when flag_kind is null then 0
            else row_number() over (
                partition by category1, category2, category3, streak_group order by week_number
            )
        end as flagged_weeks_in_a_row
    from streak_groups

),

final as (

    select
        category_label,
        category1,
        category2,
        category3,
        week_start,
        week_number,
        previous_tickets,
        reported_tickets,
        previous_negative_tickets,
        reported_negative_tickets,
        volume,
        is_up_from_zero,
        severity,
        pct_change,
        previous_neg_ratio,
        reported_neg_ratio,
        neg_ratio_delta_pp,
        week_severity,
        previous_severity,
        flagged_weeks_in_a_row
    from streaks

)

select * from final
