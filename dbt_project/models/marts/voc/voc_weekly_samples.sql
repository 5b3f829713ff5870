-- One row per sample ticket of a CRITICAL or MONITOR category, per week of the comparison and per
-- reported week: at most `samples_per_week` masked tickets, negative first, then the most recent.
{{ config(
    unique_key='report_week_start',
    partition_by=voc_week_partition('report_week_start'),
) }}

{%- set report_week = voc_date_literal(voc_report_week()) %}
{%- set baseline_week = voc_date_literal(voc_baseline_week()) %}

with comparison as (

    select * from {{ ref('voc_weekly_comparison') }}

),

tickets as (

    select * from {{ ref('stg_zendesk__voc_tickets') }}

),

flagged_categories as (

    select
        report_week_start,
        category_label,
        severity
    from comparison
    where
        report_week_start = {{ report_week }}
        and severity in ('CRITICAL', 'MONITOR')

),

tickets_of_flagged_categories as (

    select
        flagged_categories.report_week_start,
        flagged_categories.severity,
        tickets.*
    from tickets
    inner join flagged_categories
        on tickets.category_label = flagged_categories.category_label
    where tickets.week_start in ({{ baseline_week }}, {{ report_week }})

),

ranked as (

    select
        *,
        row_number() over (
            partition by category_label, week_start
            order by is_negative desc, created_at desc, ticket_id asc
        ) as sample_rank
    from tickets_of_flagged_categories

),

final as (

    select
        report_week_start,
        category_label,
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
