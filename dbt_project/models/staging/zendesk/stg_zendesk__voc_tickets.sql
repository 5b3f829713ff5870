-- One row per Zendesk ticket created since the scan start (the latest classification of each id).
-- The lower bound on event_create_time is a literal, so a scheduled run reads only the partitions of
-- the weeks it reports, never the whole history.

with source as (

    select * from {{ source('zendesk', 'zendesk_voc_classified') }}
    where event_create_time >= {{ voc_kst_midnight_utc(voc_scan_start_week()) }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as ticket_id,
        cast(event_create_time as timestamp) as created_at,
        coalesce(nullif({{ voc_trim('category1') }}, ''), '(미분류)') as category1,
        coalesce(nullif({{ voc_trim('category2') }}, ''), '(미분류)') as category2,
        coalesce(nullif({{ voc_trim('category3') }}, ''), '(미분류)') as category3,
        nullif({{ voc_trim('overall_emotion') }}, '') as emotion,
        title,
        detail,
        main_topic,
        keywords
    from source
    -- A row without an id cannot be deduplicated or followed up: stg_zendesk__voc_tickets_rejected
    -- keeps it, and the report status counts it.
    where id is not null

),

-- A re-classified ticket appears more than once: keep its latest row. Rows with the same creation
-- time are ordered by their classification so the choice is stable between runs.
ranked as (

    select
        *,
        row_number() over (
            partition by ticket_id
            order by created_at desc, category1 desc, category2 desc, category3 desc, emotion desc
        ) as recency_rank
    from renamed

),

final as (

    select
        ticket_id,
        created_at,
        {{ voc_kst_week_start('created_at') }} as week_start,
        category1,
        category2,
        category3,
        {{ dbt.concat(["category1", "' / '", "category2", "' / '", "category3"]) }} as category_label,
        emotion,
        coalesce(emotion = '부정', false) as is_negative,
        {{ voc_mask_pii('title') }} as title,
        {{ voc_mask_pii('detail') }} as detail,
        {{ voc_mask_pii('main_topic') }} as main_topic,
        {{ voc_mask_pii('keywords') }} as keywords
    from ranked
    where recency_rank = 1

)

select * from final
