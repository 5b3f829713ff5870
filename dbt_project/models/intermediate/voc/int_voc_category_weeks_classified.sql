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
        coalesce(lag(ticket_count) over category_history, 0) as prev_tickets,
        ticket_count as last_tickets,
        coalesce(lag(negative_ticket_count) over category_history, 0) as prev_negative_tickets,
        negative_ticket_count as last_negative_tickets
    from category_weeks
    window category_history as (partition by category1, category2, category3 order by week_number)

),

-- The rule is evaluated in integer arithmetic so every boundary is exact: "+30%" is
-- 100 * (last - prev) >= 30 * prev, and "+20%p" is 100 * (neg_last * prev - neg_prev * last)
-- >= 20 * prev * last. A new category (prev = 0) passes every increase threshold.
thresholds_checked as (

    select
        *,
        greatest(prev_tickets, last_tickets) as volume,
        prev_tickets = 0 as is_new,
        100 * (last_tickets - prev_tickets) >= {{ var('critical_increase_pct') }} * prev_tickets
            as is_critical_increase,
        100 * (last_tickets - prev_tickets) >= {{ var('monitor_increase_pct') }} * prev_tickets
            as is_monitor_increase,
        prev_tickets > 0
        and 100 * (prev_tickets - last_tickets) >= {{ var('improved_decrease_pct') }} * prev_tickets
            as is_improved_decrease,
        prev_tickets > 0 and last_tickets > 0
        and 100 * (last_negative_tickets * prev_tickets - prev_negative_tickets * last_tickets)
        >= {{ var('critical_neg_ratio_delta_pp') }} * prev_tickets * last_tickets
            as is_critical_neg_ratio_rise,
        prev_tickets > 0 and last_tickets > 0
        and 100 * (last_negative_tickets * prev_tickets - prev_negative_tickets * last_tickets)
        >= {{ var('monitor_neg_ratio_delta_pp') }} * prev_tickets * last_tickets
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
            when prev_tickets > 0
                then 100 * cast(last_tickets - prev_tickets as {{ voc_type_double() }}) / prev_tickets
        end as pct_change,
        case
            when prev_tickets > 0
                then cast(prev_negative_tickets as {{ voc_type_double() }}) / prev_tickets
        end as prev_neg_ratio,
        case
            when last_tickets > 0
                then cast(last_negative_tickets as {{ voc_type_double() }}) / last_tickets
        end as last_neg_ratio,
        -- From the integer numerator, so exactly +20%p shows as 20.0, not 19.999999999999996.
        case
            when prev_tickets > 0 and last_tickets > 0
                then 100 * cast(
                    last_negative_tickets * prev_tickets - prev_negative_tickets * last_tickets
                    as {{ voc_type_double() }}
                ) / (prev_tickets * last_tickets)
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
        prev_tickets,
        last_tickets,
        prev_negative_tickets,
        last_negative_tickets,
        volume,
        is_new,
        severity,
        pct_change,
        prev_neg_ratio,
        last_neg_ratio,
        neg_ratio_delta_pp,
        week_severity,
        previous_severity,
        flagged_weeks_in_a_row
    from streaks

)

select * from final
