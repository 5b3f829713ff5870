-- One row per category per week of the history window (the baseline_weeks weeks before the first
-- reported week through the reported week): the category's counts, a week without tickets as 0.
-- Both the baselines and the comparison read weeks from this grid, so they agree on what a missing
-- week is. Ephemeral: the window comes from this run's vars, so each run inlines its own grid.
{%- set history_weeks = voc_history_weeks() %}

with weekly_counts as (

    select * from {{ ref('int_voc_category_weeks_aggregated') }}
    where as_of_week_start = {{ voc_date_literal(voc_report_week()) }}  -- this run's own counts

),

history_weeks as (

    {% for week in history_weeks -%}
        select
            {{ voc_date_literal(week) }} as week_start,
            {{ loop.index0 }} as week_number
        {% if not loop.last %}union all
        {% endif -%}
    {%- endfor %}

),

counts_in_window as (

    select
        weekly_counts.*,
        history_weeks.week_number
    from weekly_counts
    inner join history_weeks
        on weekly_counts.week_start = history_weeks.week_start

),

-- Weeks before the first week with any data are missing history, not weeks with zero tickets: the
-- grid keeps them (as 0) and says where the data starts.
data_start as (

    select min(week_number) as first_data_week_number
    from counts_in_window

),

categories as (

    select
        category1,
        category2,
        category3,
        max(category_label) as category_label
    from counts_in_window
    group by category1, category2, category3

),

filled as (

    select
        categories.category1,
        categories.category2,
        categories.category3,
        categories.category_label,
        history_weeks.week_start,
        history_weeks.week_number,
        coalesce(counts_in_window.ticket_count, 0) as ticket_count,
        coalesce(counts_in_window.negative_ticket_count, 0) as negative_ticket_count,
        data_start.first_data_week_number
    from categories
    cross join history_weeks
    cross join data_start
    left join counts_in_window
        on
            categories.category1 = counts_in_window.category1
            and categories.category2 = counts_in_window.category2
            and categories.category3 = counts_in_window.category3
            and history_weeks.week_number = counts_in_window.week_number

),

final as (

    select * from filled

)

select * from final
