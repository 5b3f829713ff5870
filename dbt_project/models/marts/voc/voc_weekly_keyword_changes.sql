-- One row per keyword of a CRITICAL or MONITOR category, per reported week: in how many tickets it
-- appeared in the baseline and in the reported week. Feeds the built-in analysis and the LLM prompt.
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

    select category_label
    from comparison
    where
        report_week_start = {{ report_week }}
        and severity in ('CRITICAL', 'MONITOR')

),

ticket_keywords as (

    select distinct
        tickets.category_label,
        tickets.week_start,
        tickets.ticket_id,
        lower(trim(keyword)) as keyword
    from tickets
    {{ voc_unnest_keywords('tickets.keywords') }}
    where
        tickets.week_start in ({{ baseline_week }}, {{ report_week }})
        and tickets.category_label in (select flagged_categories.category_label from flagged_categories)

),

counted as (

    select
        category_label,
        keyword,
        count(case when week_start = {{ baseline_week }} then ticket_id end) as prev_tickets,
        count(case when week_start = {{ report_week }} then ticket_id end) as last_tickets
    from ticket_keywords
    where keyword != ''
    group by category_label, keyword

),

final as (

    select
        {{ report_week }} as report_week_start,
        category_label,
        keyword,
        prev_tickets,
        last_tickets,
        last_tickets - prev_tickets as ticket_change,
        row_number() over (
            partition by category_label
            order by last_tickets - prev_tickets desc, last_tickets desc, keyword asc
        ) as growth_rank
    from counted

)

select * from final
