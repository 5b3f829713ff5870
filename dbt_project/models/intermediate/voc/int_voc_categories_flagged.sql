-- One row per CRITICAL or MONITOR category per reported week: the categories whose tickets the
-- samples and keyword marts follow up. A view: it holds nothing the comparison does not.
with comparison as (

    select * from {{ ref('voc_weekly_comparison') }}

),

final as (

    select
        report_week_start,
        category1,
        category2,
        category3,
        severity
    from comparison
    where severity in ('CRITICAL', 'MONITOR')

)

select * from final
