-- One row per category (category1, category2, category3) per KST week: ticket and negative-ticket
-- counts. Incremental: a run replaces the weeks from the scan start through the reported week whole
-- (a category or week without tickets any more leaves no row behind) and keeps older weeks.
{{ config(**voc_replace_weeks('week_start', voc_scan_start_week(), voc_report_week())) }}

with tickets as (

    select * from {{ ref('stg_zendesk__voc_tickets') }}

),

tickets_in_scope as (

    select * from tickets
    where week_start <= {{ voc_date_literal(voc_report_week()) }}

),

aggregated as (

    select
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
