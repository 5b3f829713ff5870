-- One row per category per reported week of this run whose tickets are in that week or the week
-- before (the categories voc_weekly_comparison reports): the multi-week baseline and p-values
-- (int_voc_category_baselines_computed) and each hypothesis' Benjamini–Hochberg q-value over the
-- week's fixed family. Ephemeral: the reported weeks come from this run's vars; the comparison stores
-- the evidence keyed by its reported week.
{%- set baseline_weeks = [var('baseline_weeks') | int, 1] | max %}

with category_weeks as (

    select * from {{ ref('int_voc_category_weeks_classified') }}

),

baselines as (

    select * from {{ ref('int_voc_category_baselines_computed') }}
    where level = 3

),

reported as (

    select
        week_start as report_week_start,
        category1,
        category2,
        category3
    from category_weeks
    where
        week_number >= {{ baseline_weeks }}
        and (previous_tickets > 0 or reported_tickets > 0)

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

-- Benjamini–Hochberg over one fixed family per week: every category's three one-sided hypotheses.
hypothesis_q_values as (

    {{ voc_benjamini_hochberg('with_evidence', ['category1', 'category2', 'category3']) }}

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

final as (

    select
        with_evidence.report_week_start,
        with_evidence.category1,
        with_evidence.category2,
        with_evidence.category3,
        coalesce(with_evidence.baseline_weeks_used, 0) as baseline_weeks_used,
        with_evidence.baseline_weekly_tickets,
        with_evidence.baseline_mean_tickets,
        with_evidence.baseline_neg_ratio,
        with_evidence.baseline_dispersion,
        with_evidence.expected_tickets_low,
        with_evidence.expected_tickets_high,
        with_evidence.p_value_increase,
        with_evidence.p_value_decrease,
        with_evidence.p_value_negative_rise,
        category_q_values.q_value_increase,
        category_q_values.q_value_decrease,
        category_q_values.q_value_negative_rise
    from with_evidence
    left join category_q_values
        on
            with_evidence.report_week_start = category_q_values.report_week_start
            and with_evidence.category1 = category_q_values.category1
            and with_evidence.category2 = category_q_values.category2
            and with_evidence.category3 = category_q_values.category3

)

select * from final
