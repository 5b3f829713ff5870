{% macro voc_staged_tickets(read_start, read_end, with_future_dated) -%}
{#- The staged tickets (stg_zendesk__voc_tickets and stg_zendesk__voc_tickets_compared): the source
    rows with event_create_time in [read_start, read_end) (literal bounds, so BigQuery prunes
    partitions), and with_future_dated the rows dated after this run started wherever they are;
    cleaned, deduplicated as of the end of the reported week, in KST weeks, personal data masked.
    A narrower read keeps the same row for every ticket whose chosen row it covers: that row is the
    ticket's latest before the end of the reported week, and rows after it rank lower. -#}
with source_in_window as (

    select * from {{ source('zendesk', 'zendesk_voc_classified') }}
    where event_create_time >= {{ read_start }} and event_create_time < {{ read_end }}

),

{%- if with_future_dated %}

-- Rows dated after this run started cannot be real (a clock or export error): read wherever they are,
-- from partitions that are normally empty, so the report status names them.
source_dated_after_the_run as (

    select * from {{ source('zendesk', 'zendesk_voc_classified') }}
    where event_create_time >= {{ voc_source_future_start() }}

),

{%- endif %}

source as (

    select * from source_in_window
    {%- if with_future_dated %}
    union all
    select * from source_dated_after_the_run
    {%- endif %}

),

-- Text that is compared or grouped is cleaned alike on every warehouse (voc_clean_text: no
-- invisible characters, Unicode NFC, trimmed); free text loses its control characters.
cleaned as (

    select
        {{ voc_ticket_id('id') }} as ticket_id,
        cast(event_create_time as timestamp) as created_at,
        {{ voc_clean_text('category1') }} as category1,
        {{ voc_clean_text('category2') }} as category2,
        {{ voc_clean_text('category3') }} as category3,
        {{ voc_clean_text('overall_emotion') }} as emotion,
        {{ voc_strip_controls('title') }} as title,
        {{ voc_strip_controls('detail') }} as detail,
        {{ voc_strip_controls('main_topic') }} as main_topic,
        {{ voc_clean_text('keywords') }} as keywords
    from source

),

renamed as (

    select
        ticket_id,
        created_at,
        coalesce({{ voc_nullif_placeholder('category1') }}, '(미분류)') as category1,
        coalesce({{ voc_nullif_placeholder('category2') }}, '(미분류)') as category2,
        coalesce({{ voc_nullif_placeholder('category3') }}, '(미분류)') as category3,
        {{ voc_nullif_placeholder('emotion') }} as emotion,
        title,
        detail,
        main_topic,
        keywords
    from cleaned
    -- A row without an id (blank or a placeholder included) cannot be deduplicated or followed up:
    -- stg_zendesk__voc_tickets_rejected keeps it, and the report status counts it.
    where ticket_id is not null

),

-- A re-classified ticket appears more than once: keep its latest row as of the end of the reported
-- week, so a row dated later (loaded after the week was reported) never moves a ticket out of a reported
-- week. A ticket with rows only after that end keeps its latest (it belongs to a later week). Rows
-- with the same creation time are ordered by their classification so the choice is stable.
ranked as (

    select
        *,
        row_number() over (
            partition by ticket_id
            order by
                case when created_at < {{ voc_dedup_as_of() }} then 0 else 1 end,
                created_at desc,
                category1 desc,
                category2 desc,
                category3 desc,
                emotion desc
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
{%- endmacro %}
