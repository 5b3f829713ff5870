-- One row per category snoozed in a reported week of this run: a 🔕 (no_bell) reaction on the
-- category's reply in week S snoozes it in the snooze_weeks reported weeks after S; with several, the
-- latest reply's snooze is the one in force. Whether the category got worse since (which ends the
-- snooze) is judged in voc_weekly_comparison, against the snoozed week's own figures.
-- Ephemeral: the reported weeks come from this run's vars; the comparison stores the decision.
{%- set snooze_weeks = [var('snooze_weeks') | int, 0] | max %}

with feedback as (

    select * from {{ ref('stg_slack__voc_flag_feedback') }}

),

reported_weeks as (

    {% for week in voc_replaced_weeks(voc_first_report_week(), voc_report_week()) -%}
        select {{ week }} as report_week_start
        {% if not loop.last %}union all
        {% endif -%}
    {%- endfor %}

),

snoozed_replies as (

    select distinct
        report_week_start as snoozed_week_start,
        category1,
        category2,
        category3
    from feedback
    where feedback = 'snooze'

),

snoozes_in_force as (

    select
        reported_weeks.report_week_start,
        snoozed_replies.category1,
        snoozed_replies.category2,
        snoozed_replies.category3,
        snoozed_replies.snoozed_week_start,
        cast(
            {{ dbt.dateadd('day', 7 * snooze_weeks, 'snoozed_replies.snoozed_week_start') }} as date
        ) as snoozed_until
    from reported_weeks
    inner join snoozed_replies
        on
            reported_weeks.report_week_start > snoozed_replies.snoozed_week_start
            and reported_weeks.report_week_start
            <= cast({{ dbt.dateadd('day', 7 * snooze_weeks, 'snoozed_replies.snoozed_week_start') }} as date)

),

latest_snoozes as (

    select
        *,
        row_number() over (
            partition by report_week_start, category1, category2, category3
            order by snoozed_week_start desc
        ) as recency_rank
    from snoozes_in_force

),

final as (

    select
        report_week_start,
        category1,
        category2,
        category3,
        snoozed_week_start,
        snoozed_until
    from latest_snoozes
    where recency_rank = 1

)

select * from final
