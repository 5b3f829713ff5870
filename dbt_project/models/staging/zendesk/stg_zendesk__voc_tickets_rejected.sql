-- One row per source row since the scan start that stg_zendesk__voc_tickets cannot use (a row without
-- an id can be neither deduplicated nor followed up). Kept, not aggregated, so the report status can
-- say how many rows each week lost instead of dropping them silently.

with source as (

    select * from {{ source('zendesk', 'zendesk_voc_classified') }}
    where event_create_time >= {{ voc_kst_midnight_utc(voc_scan_start_week()) }}

),

rejected as (

    select
        cast(event_create_time as timestamp) as created_at,
        'missing_id' as rejection_reason
    from source
    where id is null

),

final as (

    select
        created_at,
        {{ voc_kst_week_start('created_at') }} as week_start,
        rejection_reason
    from rejected

)

select * from final
