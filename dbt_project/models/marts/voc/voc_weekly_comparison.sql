-- One row per category present in the reported week (비교주) or its baseline (기준주), per reported
-- week: both weeks' counts, the change, and the severity (SPEC §4).
-- Incremental: a run replaces its reported week whole.
{{ config(**voc_replace_weeks('report_week_start', voc_report_week(), voc_report_week())) }}

{%- set report_week = voc_date_literal(voc_report_week()) %}
{%- set baseline_week = voc_date_literal(voc_baseline_week()) %}

with weekly_counts as (

    select * from {{ ref('int_voc_category_weeks_aggregated') }}

),

baseline as (

    select * from weekly_counts
    where week_start = {{ baseline_week }}

),

reported as (

    select * from weekly_counts
    where week_start = {{ report_week }}

),

-- A category missing from one of the weeks counts as 0 there. Categories match on their three levels,
-- never on the label (two categories can share one).
compared as (

    select
        coalesce(reported.category_label, baseline.category_label) as category_label,
        coalesce(reported.category1, baseline.category1) as category1,
        coalesce(reported.category2, baseline.category2) as category2,
        coalesce(reported.category3, baseline.category3) as category3,
        coalesce(baseline.ticket_count, 0) as prev_tickets,
        coalesce(reported.ticket_count, 0) as last_tickets,
        coalesce(baseline.negative_ticket_count, 0) as prev_negative_tickets,
        coalesce(reported.negative_ticket_count, 0) as last_negative_tickets
    from reported
    full outer join baseline
        on
            reported.category1 = baseline.category1
            and reported.category2 = baseline.category2
            and reported.category3 = baseline.category3

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

final as (

    select
        {{ report_week }} as report_week_start,
        {{ baseline_week }} as baseline_week_start,
        category_label,
        category1,
        category2,
        category3,
        prev_tickets,
        last_tickets,
        prev_negative_tickets,
        last_negative_tickets,
        last_tickets - prev_tickets as ticket_change,
        pct_change,
        is_new,
        prev_neg_ratio,
        last_neg_ratio,
        neg_ratio_delta_pp,
        volume,
        severity,
        case severity
            when 'CRITICAL' then 1
            when 'MONITOR' then 2
            when 'IMPROVED' then 3
            else 4
        end as severity_rank
    from measured

)

select * from final
