-- One row per source row that stg_zendesk__voc_tickets cannot use: a row without an id (blank or a
-- placeholder such as 'None' or 'nan' included) can be neither deduplicated nor followed up, and a
-- row without event_create_time belongs to no week. Kept, not aggregated, so the report status can
-- say how many rows were left out instead of dropping them silently.

with source_in_window as (

    select * from {{ source('zendesk', 'zendesk_voc_classified') }}
    where {{ voc_source_window() }}

),

-- Rows without a time have no partition of the window: BigQuery keeps them in a NULL partition of
-- their own, which this filter alone reads.
source_without_time as (

    select * from {{ source('zendesk', 'zendesk_voc_classified') }}
    where event_create_time is null

),

rows_read as (

    select
        {{ voc_ticket_id('id') }} as ticket_id,
        cast(event_create_time as timestamp) as created_at
    from source_in_window
    union all
    select
        {{ voc_ticket_id('id') }} as ticket_id,
        cast(event_create_time as timestamp) as created_at
    from source_without_time

),

rejected as (

    select
        created_at,
        case
            when created_at is null then 'missing_create_time'
            else 'missing_id'
        end as rejection_reason
    from rows_read
    where created_at is null or ticket_id is null

),

final as (

    select
        created_at,
        {{ voc_kst_week_start('created_at') }} as week_start,
        rejection_reason
    from rejected

)

select * from final
