-- One row per sample ticket of a CRITICAL or MONITOR category, per week of the comparison and per
-- reported week: at most `samples_per_week` masked tickets, negative first, then the most recent.
-- Incremental: a run replaces its reported week whole (a week without flagged categories leaves none).
{{ config(**voc_replace_weeks('report_week_start', voc_report_week(), voc_report_week())) }}

{%- set report_week = voc_date_literal(voc_report_week()) %}

with tickets_of_flagged_categories as (

    select * from {{ ref('int_voc_category_tickets_flagged') }}

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
        case when week_start = {{ report_week }} then 'reported' else 'previous' end as sample_week,
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

),

-- The names before this release, kept one release for dashboards that read them (README, "Upgrading"):
-- "baseline" now means only the multi-week history, the week before is "previous", this week "reported".
with_deprecated_names as (

    select
        *,
        case sample_week when 'previous' then 'baseline' else sample_week end as week_role
    from final

)

select * from with_deprecated_names
