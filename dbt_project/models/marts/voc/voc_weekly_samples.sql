-- One row per sample ticket of a CRITICAL or MONITOR category, per week of the comparison and per
-- reported week: at most `samples_per_week` masked tickets, negative first, then the most recent.
-- Incremental: a run replaces its reported week whole (a week without flagged categories leaves none).
{{ config(**voc_replace_weeks('report_week_start', voc_report_week(), voc_report_week())) }}

{%- set report_week = voc_date_literal(voc_report_week()) %}
{%- set baseline_week = voc_date_literal(voc_baseline_week()) %}

with categories_flagged as (

    select * from {{ ref('int_voc_categories_flagged') }}

),

tickets as (

    select * from {{ ref('stg_zendesk__voc_tickets') }}

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

tickets_of_flagged_categories as (

    select
        flagged_categories.report_week_start,
        flagged_categories.severity,
        tickets.*
    from tickets
    -- On the three levels, never the label: two categories can share one.
    inner join flagged_categories
        on
            tickets.category1 = flagged_categories.category1
            and tickets.category2 = flagged_categories.category2
            and tickets.category3 = flagged_categories.category3
    where tickets.week_start in ({{ baseline_week }}, {{ report_week }})

),

ranked as (

    select
        *,
        row_number() over (
            partition by category1, category2, category3, week_start
            order by is_negative desc, created_at desc, ticket_id asc
        ) as sample_rank
    from tickets_of_flagged_categories

),

final as (

    select
        report_week_start,
        category_label,
        category1,
        category2,
        category3,
        severity,
        week_start,
        case when week_start = {{ report_week }} then 'reported' else 'baseline' end as week_role,
        sample_rank,
        ticket_id,
        created_at,
        emotion,
        is_negative,
        {{ voc_truncate('title', var('sample_text_max_chars')) }} as title,
        {{ voc_truncate('detail', var('sample_text_max_chars')) }} as detail,
        main_topic,
        keywords
    from ranked
    where sample_rank <= {{ var('samples_per_week') }}

)

select * from final
