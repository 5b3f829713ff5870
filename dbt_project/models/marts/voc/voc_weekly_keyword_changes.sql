-- One row per keyword of a CRITICAL or MONITOR category, per reported week: in how many tickets it
-- appeared in the baseline and in the reported week. Feeds the built-in analysis and the LLM prompt.
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
        category1,
        category2,
        category3
    from categories_flagged
    where report_week_start = {{ report_week }}

),

-- Categories match on their three levels, never on the label (two categories can share one).
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
    from tickets
    inner join flagged_categories
        on
            tickets.category1 = flagged_categories.category1
            and tickets.category2 = flagged_categories.category2
            and tickets.category3 = flagged_categories.category3
    {{ voc_unnest_keywords('tickets.keywords') }}
    where tickets.week_start in ({{ baseline_week }}, {{ report_week }})

),

counted as (

    select
        category1,
        category2,
        category3,
        category_label,
        keyword,
        count(case when week_start = {{ baseline_week }} then ticket_id end) as prev_tickets,
        count(case when week_start = {{ report_week }} then ticket_id end) as last_tickets
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
        prev_tickets,
        last_tickets,
        last_tickets - prev_tickets as ticket_change,
        row_number() over (
            partition by category1, category2, category3
            order by last_tickets - prev_tickets desc, last_tickets desc, keyword asc
        ) as growth_rank
    from counted

)

select * from final
