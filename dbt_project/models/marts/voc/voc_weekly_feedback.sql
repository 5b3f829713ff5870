-- One row per reported week: how many flags the report raised and what the team said about them (the
-- reactions on the week's thread replies). The report's own measured precision (SPEC §13).
-- Incremental: a run replaces the feedback_weeks weeks before its reported weeks and those weeks
-- themselves, the weeks whose reactions it has just read; older weeks keep what was last read.
{%- set last_week = voc_report_week() %}
{%- set first_week = voc_first_report_week()
    - modules.datetime.timedelta(days=7 * ([var('feedback_weeks') | int, 0] | max)) %}
{{ config(**voc_replace_weeks('report_week_start', first_week, last_week)) }}

with comparison as (

    select * from {{ ref('voc_weekly_comparison') }}
    where report_week_start between {{ voc_date_literal(first_week) }} and {{ voc_date_literal(last_week) }}

),

feedback as (

    select * from {{ ref('stg_slack__voc_flag_feedback') }}
    where report_week_start between {{ voc_date_literal(first_week) }} and {{ voc_date_literal(last_week) }}

),

-- The flags that ask for a thread reply (CRITICAL, MONITOR), and which of them got one: not while
-- snoozed, and under VOC_FOLLOW_UPS=significant (var follow_ups) only the significant ones. Every
-- reported week in the warehouse has a row, flags or not.
flagged as (

    select
        report_week_start,
        is_significant,
        is_snoozed,
        coalesce(severity in ('CRITICAL', 'MONITOR'), false) as is_flag
    from comparison

),

flags as (

    select
        report_week_start,
        sum(case when is_flag then 1 else 0 end) as flags,
        sum(case when is_flag and is_significant then 1 else 0 end) as significant_flags,
        sum(case when is_flag and is_snoozed then 1 else 0 end) as snoozed_flags,
        sum(
            case
                when not is_flag or is_snoozed then 0
                {% if var('follow_ups') == 'significant' -%}
                    when not is_significant then 0
                {% endif -%}
                else 1
            end
        ) as replies_posted
    from flagged
    group by report_week_start

),

-- What the team said about each reply: any of each kind of reaction, from anyone, counts once.
replies as (

    select
        report_week_start,
        category1,
        category2,
        category3,
        max(case when feedback = 'useful' then 1 else 0 end) as is_useful,
        max(case when feedback = 'false_alarm' then 1 else 0 end) as is_false_alarm,
        max(case when feedback = 'handled' then 1 else 0 end) as is_handled,
        max(case when feedback = 'snooze' then 1 else 0 end) as is_snoozed
    from feedback
    group by report_week_start, category1, category2, category3

),

reactions as (

    select
        report_week_start,
        count(*) as replies_with_feedback,
        sum(is_useful) as useful,
        sum(is_false_alarm) as false_alarm,
        sum(is_handled) as handled,
        sum(is_snoozed) as snoozed
    from replies
    group by report_week_start

),

final as (

    select
        coalesce(flags.report_week_start, reactions.report_week_start) as report_week_start,
        coalesce(flags.flags, 0) as flags,
        coalesce(flags.significant_flags, 0) as significant_flags,
        coalesce(flags.snoozed_flags, 0) as snoozed_flags,
        coalesce(flags.replies_posted, 0) as replies_posted,
        coalesce(reactions.replies_with_feedback, 0) as replies_with_feedback,
        coalesce(reactions.useful, 0) as useful,
        coalesce(reactions.false_alarm, 0) as false_alarm,
        coalesce(reactions.handled, 0) as handled,
        coalesce(reactions.snoozed, 0) as snoozed
    from flags
    full outer join reactions
        on flags.report_week_start = reactions.report_week_start

)

select * from final
