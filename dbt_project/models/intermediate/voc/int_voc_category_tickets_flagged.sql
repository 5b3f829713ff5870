-- One row per ticket of a CRITICAL or MONITOR category of the reported week, in that week or the week
-- before (the two weeks compared): the tickets the samples and keyword marts follow up. Read from
-- stg_zendesk__voc_tickets_compared, so only those two weeks of ticket text are scanned.
-- Ephemeral: the weeks come from this run's vars.
{%- set report_week = voc_date_literal(voc_report_week()) %}

with categories_flagged as (

    select * from {{ ref('int_voc_categories_flagged') }}

),

tickets as (

    select * from {{ ref('stg_zendesk__voc_tickets_compared') }}

),

flagged_categories as (

    select
        report_week_start,
        category1,
        category2,
        category3,
        severity
    from categories_flagged
    where report_week_start = {{ report_week }}

),

final as (

    select
        flagged_categories.report_week_start,
        flagged_categories.severity,
        tickets.ticket_id,
        tickets.created_at,
        tickets.week_start,
        tickets.category1,
        tickets.category2,
        tickets.category3,
        tickets.category_label,
        tickets.emotion,
        tickets.is_negative,
        tickets.title,
        tickets.detail,
        tickets.main_topic,
        tickets.keywords
    from tickets
    -- On the three levels, never the label: two categories can share one.
    inner join flagged_categories
        on
            tickets.category1 = flagged_categories.category1
            and tickets.category2 = flagged_categories.category2
            and tickets.category3 = flagged_categories.category3

)

select * from final
