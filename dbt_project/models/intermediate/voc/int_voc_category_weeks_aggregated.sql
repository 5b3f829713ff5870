-- One row per reported week (as_of_week_start) per category (category1, category2, category3) per
-- KST week of that run's scan: ticket and negative-ticket counts, with each ticket's row chosen as
-- of the end of the reported week (voc_dedup_as_of). A week's counts depend on that choice, so each
-- run stores and reads its own copy, keyed by its reported week: two builds of different weeks in
-- one dataset never read each other's counts. Incremental: a run replaces its own reported week
-- whole (a category or week without tickets any more leaves no row behind).
{{ config(**voc_replace_weeks('as_of_week_start', voc_report_week(), voc_report_week())) }}

with tickets as (

    select * from {{ ref('stg_zendesk__voc_tickets') }}

),

tickets_in_scope as (

    select * from tickets
    where week_start <= {{ voc_date_literal(voc_report_week()) }}

),

aggregated as (

    select
        {{ voc_date_literal(voc_report_week()) }} as as_of_week_start,
        week_start,
        category1,
        category2,
        category3,
        category_label,
        count(*) as ticket_count,
        cast(sum(case when is_negative then 1 else 0 end) as {{ dbt.type_bigint() }})
            as negative_ticket_count
    from tickets_in_scope
    -- The three levels are the key: different categories can share a label ('a / b', 'c' and 'a',
    -- 'b / c'). The label is a function of them, carried for display.
    group by week_start, category1, category2, category3, category_label

),

final as (

    select * from aggregated

)

select * from final
