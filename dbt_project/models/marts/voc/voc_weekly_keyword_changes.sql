-- One row per keyword of a CRITICAL or MONITOR category, per reported week: in how many tickets it
-- appeared in the previous and in the reported week. Feeds the built-in analysis and the LLM prompt.
-- Incremental: a run replaces its reported week whole (a week without flagged categories leaves none).
{{ config(**voc_replace_weeks('report_week_start', voc_report_week(), voc_report_week())) }}

{%- set report_week = voc_date_literal(voc_report_week()) %}
{%- set previous_week = voc_date_literal(voc_previous_week()) %}

with tickets_of_flagged_categories as (

    select * from {{ ref('int_voc_category_tickets_flagged') }}

),

ticket_keywords as (

    select distinct
        tickets.category1,
        tickets.category2,
        tickets.category3,
        tickets.category_label,
        tickets.week_start,
        tickets.ticket_id,
        -- Unqualified on purpose: BigQuery's unnest alias is the value itself, not a table to qualify.
        lower({{ voc_trim('keyword') }}) as keyword  -- noqa: RF02
    from tickets_of_flagged_categories as tickets
    {{ voc_unnest_keywords('tickets.keywords') }}

),

counted as (

    select
        category1,
        category2,
        category3,
        category_label,
        keyword,
        count(case when week_start = {{ previous_week }} then ticket_id end) as previous_tickets,
        count(case when week_start = {{ report_week }} then ticket_id end) as reported_tickets
    from ticket_keywords
    where keyword != ''
    group by category1, category2, category3, category_label, keyword

),

final as (

    select
        {{ report_week }} as report_week_start,
        category_label,
        category1,
        category2,
        category3,
        keyword,
        previous_tickets,
        reported_tickets,
        reported_tickets - previous_tickets as ticket_change,
        row_number() over (
            partition by category1, category2, category3
            order by reported_tickets - previous_tickets desc, reported_tickets desc, keyword asc
        ) as growth_rank
    from counted

),

-- The names before this release, kept one release for dashboards that read them (README, "Upgrading"):
-- "baseline" now means only the multi-week history, the week before is "previous", this week "reported".
with_deprecated_names as (

    select
        *,
        previous_tickets as prev_tickets,
        reported_tickets as last_tickets
    from final

)

select * from with_deprecated_names
