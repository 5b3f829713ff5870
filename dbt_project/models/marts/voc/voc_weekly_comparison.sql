-- One row per category present in the reported week (비교주) or its baseline (기준주), per reported
-- week: both weeks' counts, the change, the severity (SPEC §4) and its evidence against the
-- multi-week baseline (p-values, a Benjamini–Hochberg q-value, significance, the streak).
-- Incremental: a run replaces its reported weeks (comparison_weeks, 1 unless backtesting) whole.
{{ config(**voc_replace_weeks('report_week_start', voc_first_report_week(), voc_report_week())) }}

{%- set baseline_weeks = [var('baseline_weeks') | int, 1] | max %}

with category_weeks as (

    select * from {{ ref('int_voc_category_weeks_filled') }}

),

baselines as (

    select * from {{ ref('int_voc_category_baselines_computed') }}
    where level = 3

),

snoozes as (

    select * from {{ ref('int_voc_categories_snoozed') }}

),

-- Every category in every week of the window (a missing week counts as 0), each week against the
-- week before it. The reported weeks are the last comparison_weeks; the weeks before them are
-- classified too, in this same run, for the streaks.
compared as (

    select
        category_label,
        category1,
        category2,
        category3,
        week_start as report_week_start,
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

reported as (

    select * from streaks
    where
        week_number >= {{ baseline_weeks }}
        and (prev_tickets > 0 or last_tickets > 0)

),

with_evidence as (

    select
        reported.*,
        baselines.baseline_weeks_used,
        baselines.baseline_weekly_tickets,
        baselines.baseline_mean_tickets,
        baselines.baseline_neg_ratio,
        baselines.baseline_dispersion,
        baselines.expected_tickets_low,
        baselines.expected_tickets_high,
        baselines.p_value_increase,
        baselines.p_value_decrease,
        baselines.p_value_negative_rise
    from reported
    left join baselines
        on
            reported.report_week_start = baselines.report_week_start
            and reported.category1 = baselines.category1
            and reported.category2 = baselines.category2
            and reported.category3 = baselines.category3

),

-- Benjamini–Hochberg over one fixed family per week: every category's three one-sided hypotheses
-- (volume increase, volume decrease, negative-share rise), whatever the week's data or severity. A
-- family chosen from the data (the direction a category moved, or the rule that fired) would make
-- the p-values it keeps look smaller than they are. q = min over ranks j >= i of p_j * m / j.
hypotheses as (

    select
        report_week_start,
        category1,
        category2,
        category3,
        'increase' as direction,
        p_value_increase as p_value
    from with_evidence
    where p_value_increase is not null
    union all
    select
        report_week_start,
        category1,
        category2,
        category3,
        'decrease' as direction,
        p_value_decrease as p_value
    from with_evidence
    where p_value_decrease is not null
    union all
    select
        report_week_start,
        category1,
        category2,
        category3,
        'negative_rise' as direction,
        p_value_negative_rise as p_value
    from with_evidence
    where p_value_negative_rise is not null

),

ranked_hypotheses as (

    select
        *,
        row_number() over (
            partition by report_week_start
            order by p_value asc, direction asc, category1 asc, category2 asc, category3 asc
        ) as p_rank,
        count(*) over (partition by report_week_start) as tests_in_week
    from hypotheses

),

hypothesis_q_values as (

    select
        *,
        least(
            min(p_value * tests_in_week / p_rank) over (
                partition by report_week_start
                order by p_rank desc
                rows between unbounded preceding and current row
            ),
            1.0
        ) as q_value
    from ranked_hypotheses

),

category_q_values as (

    select
        report_week_start,
        category1,
        category2,
        category3,
        max(case when direction = 'increase' then q_value end) as q_value_increase,
        max(case when direction = 'decrease' then q_value end) as q_value_decrease,
        max(case when direction = 'negative_rise' then q_value end) as q_value_negative_rise
    from hypothesis_q_values
    group by report_week_start, category1, category2, category3

),

-- The q-value of the flag's direction: a rise (by volume or by negative share) for CRITICAL and
-- MONITOR, a fall for IMPROVED; for STABLE the smallest of the three (how close it came).
q_values as (

    select
        with_evidence.*,
        category_q_values.q_value_increase,
        category_q_values.q_value_decrease,
        category_q_values.q_value_negative_rise,
        case
            when category_q_values.q_value_increase is null then null
            when with_evidence.severity in ('CRITICAL', 'MONITOR')
                then least(category_q_values.q_value_increase, coalesce(category_q_values.q_value_negative_rise, 1.0))
            when with_evidence.severity = 'IMPROVED' then category_q_values.q_value_decrease
            else least(
                category_q_values.q_value_increase,
                category_q_values.q_value_decrease,
                coalesce(category_q_values.q_value_negative_rise, 1.0)
            )
        end as q_value
    from with_evidence
    left join category_q_values
        on
            with_evidence.report_week_start = category_q_values.report_week_start
            and with_evidence.category1 = category_q_values.category1
            and with_evidence.category2 = category_q_values.category2
            and with_evidence.category3 = category_q_values.category3

),

-- The team's snooze (int_voc_categories_snoozed) ends early when the category got worse than in the
-- snoozed week: a worse flag (MONITOR -> CRITICAL), or a significant rise to at least 1.5 times that
-- week's tickets (integer arithmetic: 2 * last >= 3 * snoozed). The snoozed week is in this run's
-- window (snooze_weeks < baseline_weeks); its severity is the same rule's.
snooze_checked as (

    select
        q_values.*,
        snoozes.snoozed_until,
        snoozes.snoozed_until is not null
        and q_values.severity in ('CRITICAL', 'MONITOR')
        and (
            (q_values.severity = 'CRITICAL' and snoozed_weeks.week_severity in ('MONITOR', 'IMPROVED', 'STABLE'))
            or (q_values.severity = 'MONITOR' and snoozed_weeks.week_severity in ('IMPROVED', 'STABLE'))
            or (
                coalesce(q_values.q_value <= {{ var('fdr_alpha') }}, false)
                and 2 * q_values.last_tickets >= 3 * snoozed_weeks.last_tickets
            )
        ) as is_snooze_escalated
    from q_values
    left join snoozes
        on
            q_values.report_week_start = snoozes.report_week_start
            and q_values.category1 = snoozes.category1
            and q_values.category2 = snoozes.category2
            and q_values.category3 = snoozes.category3
    left join streaks as snoozed_weeks
        on
            snoozes.snoozed_week_start = snoozed_weeks.report_week_start
            and snoozes.category1 = snoozed_weeks.category1
            and snoozes.category2 = snoozed_weeks.category2
            and snoozes.category3 = snoozed_weeks.category3

),

final as (

    select
        report_week_start,
        cast({{ dbt.dateadd('day', -7, 'report_week_start') }} as date) as baseline_week_start,
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
        end as severity_rank,
        coalesce(baseline_weeks_used, 0) as baseline_weeks_used,
        baseline_weekly_tickets,
        baseline_mean_tickets,
        baseline_neg_ratio,
        baseline_dispersion,
        expected_tickets_low,
        expected_tickets_high,
        p_value_increase,
        p_value_decrease,
        p_value_negative_rise,
        q_value_increase,
        q_value_decrease,
        q_value_negative_rise,
        q_value,
        coalesce(severity != 'STABLE' and q_value <= {{ var('fdr_alpha') }}, false) as is_significant,
        flagged_weeks_in_a_row,
        previous_severity,
        coalesce(snoozed_until is not null and not is_snooze_escalated, false) as is_snoozed,
        snoozed_until,
        coalesce(is_snooze_escalated, false) as snooze_ended_by_escalation
    from snooze_checked

)

select * from final
