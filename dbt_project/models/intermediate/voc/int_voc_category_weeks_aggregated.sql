-- One row per category per KST week: ticket and negative-ticket counts. Incremental: a run replaces
-- the weeks from the scan start through the reported week and leaves older weeks as they were.
{{ config(
    unique_key='week_start',
    partition_by=voc_week_partition('week_start'),
) }}

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
    group by week_start, category1, category2, category3, category_label

),

final as (

    select * from aggregated

)

select * from final
