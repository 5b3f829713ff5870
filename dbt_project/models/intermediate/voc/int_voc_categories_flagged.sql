-- One row per CRITICAL or MONITOR category per reported week of this run: the categories whose
-- tickets the samples and keyword marts follow up. The same rows voc_weekly_comparison reports with
-- those severities, read from the rule's model rather than the mart, so the marts only depend on
-- intermediate models. Ephemeral: the reported weeks come from this run's vars.
{%- set baseline_weeks = [var('baseline_weeks') | int, 1] | max %}

with category_weeks as (

    select * from {{ ref('int_voc_category_weeks_classified') }}

),

final as (

    select
        week_start as report_week_start,
        category1,
        category2,
        category3,
        severity
    from category_weeks
    where
        week_number >= {{ baseline_weeks }}
        and (previous_tickets > 0 or reported_tickets > 0)
        and severity in ('CRITICAL', 'MONITOR')

)

select * from final
