-- One row per reported week: the weeks compared, their ticket totals, the rows the report could not
-- use, and how far the source data reaches. The flow refuses to report a week whose data stops before
-- its end (a stale source would otherwise show every category as IMPROVED).
-- Incremental: a run replaces its reported week whole.
{{ config(**voc_replace_weeks('report_week_start', voc_report_week(), voc_report_week())) }}

{%- set report_week = voc_report_week() %}
{%- set report_week_end = report_week + modules.datetime.timedelta(days=7) %}
{%- set complete_after = modules.datetime.datetime(
    report_week_end.year, report_week_end.month, report_week_end.day)
    - modules.datetime.timedelta(hours=9 + var('coverage_tolerance_hours') | int) %}
{%- set previous_week_literal = voc_date_literal(voc_previous_week()) %}
{%- set report_week_literal = voc_date_literal(report_week) %}

with tickets as (

    select * from {{ ref('stg_zendesk__voc_tickets') }}

),

rejected_rows as (

    select * from {{ ref('stg_zendesk__voc_tickets_rejected') }}

),

-- A ticket created after this run started cannot be real (a clock or export error): it is counted
-- and named, never taken as proof that the reported week has been loaded.
dated as (

    select
        *,
        created_at > {{ voc_run_started_at() }} as is_future_dated
    from tickets

),

summarized as (

    select
        count(case when week_start = {{ previous_week_literal }} then ticket_id end) as previous_tickets,
        count(case when week_start = {{ report_week_literal }} then ticket_id end) as reported_tickets,
        min(case when not is_future_dated then created_at end) as first_ticket_at,
        max(case when not is_future_dated then created_at end) as last_ticket_at,
        count(case when is_future_dated then ticket_id end) as future_tickets,
        max(case when is_future_dated then created_at end) as last_future_ticket_at
    from dated

),

rejected_summarized as (

    select
        count(
            case when rejection_reason = 'missing_id' and week_start = {{ previous_week_literal }} then 1 end
        ) as previous_rows_without_id,
        count(
            case when rejection_reason = 'missing_id' and week_start = {{ report_week_literal }} then 1 end
        )
            as reported_rows_without_id,
        -- A row without a creation time belongs to no week: every such row of the source is named.
        count(case when rejection_reason = 'missing_create_time' then 1 end) as rows_without_create_time
    from rejected_rows

),

final as (

    select
        {{ report_week_literal }} as report_week_start,
        {{ previous_week_literal }} as previous_week_start,
        {{ voc_kst_midnight_utc(report_week_end) }} as report_week_end_at,
        summarized.previous_tickets,
        summarized.reported_tickets,
        rejected_summarized.previous_rows_without_id,
        rejected_summarized.reported_rows_without_id,
        rejected_summarized.rows_without_create_time,
        summarized.first_ticket_at,
        summarized.last_ticket_at,
        summarized.future_tickets,
        summarized.last_future_ticket_at,
        coalesce(
            summarized.last_ticket_at
            >= cast('{{ complete_after.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp),
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
    cross join rejected_summarized

),

-- The names before this release, kept one release for dashboards that read them (README, "Upgrading"):
-- "baseline" now means only the multi-week history, the week before is "previous", this week "reported".
with_deprecated_names as (

    select
        *,
        previous_week_start as baseline_week_start,
        previous_tickets as baseline_tickets,
        reported_tickets as report_tickets,
        previous_rows_without_id as baseline_rows_without_id,
        reported_rows_without_id as report_rows_without_id
    from final

)

select * from with_deprecated_names
