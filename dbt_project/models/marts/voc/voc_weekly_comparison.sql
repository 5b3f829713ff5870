-- One row per category present in the reported week (비교주) or the week before (기준주), per reported
-- week: both weeks' counts, the change, the severity (SPEC §4) and its evidence against the
-- multi-week baseline (p-values, a Benjamini–Hochberg q-value, significance, the streak). The rule and
-- the streak come from int_voc_category_weeks_classified, the evidence from int_voc_category_evidence;
-- this mart joins them, takes the q-value of the flag's direction and applies the team's snoozes.
-- Incremental: a run replaces its reported weeks (comparison_weeks, 1 unless backtesting) whole.
{{ config(**voc_replace_weeks('report_week_start', voc_first_report_week(), voc_report_week())) }}

{%- set baseline_weeks = [var('baseline_weeks') | int, 1] | max %}

with category_weeks as (

    select * from {{ ref('int_voc_category_weeks_classified') }}

),

evidence as (

    select * from {{ ref('int_voc_category_evidence') }}

),

snoozes as (

    select * from {{ ref('int_voc_categories_snoozed') }}

),

reported as (

    select
        *,
        week_start as report_week_start
    from category_weeks
    where
        week_number >= {{ baseline_weeks }}
        and (previous_tickets > 0 or reported_tickets > 0)

),

-- The q-value of the flag's direction: a rise (by volume or by negative share) for CRITICAL and
-- MONITOR, a fall for IMPROVED; for STABLE the smallest of the three (how close it came).
q_values as (

    select
        reported.*,
        evidence.baseline_weeks_used,
        evidence.baseline_weekly_tickets,
        evidence.baseline_mean_tickets,
        evidence.baseline_neg_ratio,
        evidence.baseline_dispersion,
        evidence.expected_tickets_low,
        evidence.expected_tickets_high,
        evidence.p_value_increase,
        evidence.p_value_decrease,
        evidence.p_value_negative_rise,
        evidence.q_value_increase,
        evidence.q_value_decrease,
        evidence.q_value_negative_rise,
        case
            when evidence.q_value_increase is null then null
            when reported.severity in ('CRITICAL', 'MONITOR')
                then least(evidence.q_value_increase, coalesce(evidence.q_value_negative_rise, 1.0))
            when reported.severity = 'IMPROVED' then evidence.q_value_decrease
            else least(
                evidence.q_value_increase,
                evidence.q_value_decrease,
                coalesce(evidence.q_value_negative_rise, 1.0)
            )
        end as q_value
    from reported
    left join evidence
        on
            reported.report_week_start = evidence.report_week_start
            and reported.category1 = evidence.category1
            and reported.category2 = evidence.category2
            and reported.category3 = evidence.category3

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
                and 2 * q_values.reported_tickets >= 3 * snoozed_weeks.reported_tickets
            )
        ) as is_snooze_escalated
    from q_values
    left join snoozes
        on
            q_values.report_week_start = snoozes.report_week_start
            and q_values.category1 = snoozes.category1
            and q_values.category2 = snoozes.category2
            and q_values.category3 = snoozes.category3
    left join category_weeks as snoozed_weeks
        on
            snoozes.snoozed_week_start = snoozed_weeks.week_start
            and snoozes.category1 = snoozed_weeks.category1
            and snoozes.category2 = snoozed_weeks.category2
            and snoozes.category3 = snoozed_weeks.category3

),

final as (

    select
        report_week_start,
        cast({{ dbt.dateadd('day', -7, 'report_week_start') }} as date) as previous_week_start,
        category_label,
        category1,
        category2,
        category3,
        previous_tickets,
        reported_tickets,
        previous_negative_tickets,
        reported_negative_tickets,
        reported_tickets - previous_tickets as ticket_change,
        pct_change,
        is_up_from_zero,
        previous_neg_ratio,
        reported_neg_ratio,
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

),

-- The names before this release, kept one release for dashboards that read them (README, "Upgrading"):
-- "baseline" now means only the multi-week history, the week before is "previous", this week "reported".
with_deprecated_names as (

    select
        *,
        previous_week_start as baseline_week_start,
        previous_tickets as prev_tickets,
        reported_tickets as last_tickets,
        previous_negative_tickets as prev_negative_tickets,
        reported_negative_tickets as last_negative_tickets,
        is_up_from_zero as is_new,
        previous_neg_ratio as prev_neg_ratio,
        reported_neg_ratio as last_neg_ratio
    from final

)

select * from with_deprecated_names
