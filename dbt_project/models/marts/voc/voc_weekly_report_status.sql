-- One row per reported week: the weeks compared, their ticket totals and how far the source data
-- reaches. The flow refuses to report a week whose data stops before its end (a stale source would
-- otherwise show every category as IMPROVED).
{{ config(
    unique_key='report_week_start',
    partition_by=voc_week_partition('report_week_start'),
) }}

{%- set report_week = voc_report_week() %}
{%- set report_week_end = report_week + modules.datetime.timedelta(days=7) %}
{%- set complete_after = modules.datetime.datetime(
    report_week_end.year, report_week_end.month, report_week_end.day)
    - modules.datetime.timedelta(hours=9 + var('coverage_tolerance_hours') | int) %}

with tickets as (

    select * from {{ ref('stg_zendesk__voc_tickets') }}

),

summarized as (

    select
        count(case when week_start = {{ voc_date_literal(voc_baseline_week()) }} then ticket_id end)
            as baseline_tickets,
        count(case when week_start = {{ voc_date_literal(report_week) }} then ticket_id end)
            as report_tickets,
        min(created_at) as first_ticket_at,
        max(created_at) as last_ticket_at
    from tickets

),

final as (

    select
        {{ voc_date_literal(report_week) }} as report_week_start,
        {{ voc_date_literal(voc_baseline_week()) }} as baseline_week_start,
        {{ voc_kst_midnight_utc(report_week_end) }} as report_week_end_at,
        baseline_tickets,
        report_tickets,
        first_ticket_at,
        last_ticket_at,
        coalesce(
            last_ticket_at >= cast('{{ complete_after.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp),
            false
        ) as is_report_week_complete,
        -- The thresholds this run classified with, so the report states the rules actually in force.
        {{ var('critical_increase_pct') }} as critical_increase_pct,
        {{ var('critical_neg_ratio_delta_pp') }} as critical_neg_ratio_delta_pp,
        {{ var('critical_min_volume') }} as critical_min_volume,
        {{ var('monitor_increase_pct') }} as monitor_increase_pct,
        {{ var('monitor_neg_ratio_delta_pp') }} as monitor_neg_ratio_delta_pp,
        {{ var('monitor_min_volume') }} as monitor_min_volume,
        {{ var('improved_decrease_pct') }} as improved_decrease_pct,
        {{ var('improved_min_volume') }} as improved_min_volume,
        -- ...and the evidence it was judged with.
        {{ [var('baseline_weeks') | int, 1] | max }} as baseline_weeks,
        cast({{ var('fdr_alpha') }} as {{ voc_type_double() }}) as fdr_alpha
    from summarized

)

select * from final
