{#- Week arithmetic for the report. Weeks run Monday–Sunday in Asia/Seoul (KST, UTC+9 all year:
    Korea has had no daylight saving time since 1988). Every boundary is rendered as a literal, so the
    compiled SQL carries it and BigQuery can prune partitions. -#}

{% macro voc_report_week() -%}
    {#- The reported week (비교주) as a date: var('report_week') moved to its Monday, or else the last
        complete KST week at run start. -#}
    {%- set requested = var('report_week', '') | string | trim -%}
    {%- if requested and requested | lower != 'none' -%}
        {%- set day = modules.datetime.date.fromisoformat(requested[:10]) -%}
    {%- else -%}
        {%- set day = (run_started_at + modules.datetime.timedelta(hours=9)).date()
            - modules.datetime.timedelta(days=7) -%}
    {%- endif -%}
    {{- return(day - modules.datetime.timedelta(days=day.weekday())) -}}
{%- endmacro %}

{% macro voc_baseline_week() -%}
    {#- The baseline week (기준주): the week before the reported week. -#}
    {{- return(voc_report_week() - modules.datetime.timedelta(days=7)) -}}
{%- endmacro %}

{% macro voc_first_report_week() -%}
    {#- The first reported week a run computes: var('comparison_weeks') weeks ending with the
        reported week (1 for the weekly report; the backtest replays many in one run). -#}
    {%- set weeks_back = [var('comparison_weeks', 1) | int, 1] | max - 1 -%}
    {{- return(voc_report_week() - modules.datetime.timedelta(days=7 * weeks_back)) -}}
{%- endmacro %}

{% macro voc_history_start_week() -%}
    {#- The first week the evidence reads: var('baseline_weeks') weeks before the first reported week. -#}
    {%- set baseline_weeks = [var('baseline_weeks', 8) | int, 1] | max -%}
    {{- return(voc_first_report_week() - modules.datetime.timedelta(days=7 * baseline_weeks)) -}}
{%- endmacro %}

{% macro voc_history_weeks() -%}
    {#- Every week from the history start through the reported week, oldest first, as dates. -#}
    {%- set first = voc_history_start_week() -%}
    {%- set count = ((voc_report_week() - first).days // 7) + 1 -%}
    {%- set weeks = [] -%}
    {%- for number in range(count) -%}
        {%- do weeks.append(first + modules.datetime.timedelta(days=7 * number)) -%}
    {%- endfor -%}
    {{- return(weeks) -}}
{%- endmacro %}

{% macro voc_scan_start_week() -%}
    {#- The first week an incremental run (re)aggregates from the source. It always covers the
        baseline_weeks before every reported week, so the evidence is computed from weeks this run
        rebuilt and never depends on what earlier runs (or a half-finished backfill) left in the
        incremental table; the scan stays bounded by baseline_weeks + comparison_weeks, never the whole
        history. var('scan_weeks') can widen it further to backfill. -#}
    {%- set weeks_back = [var('scan_weeks', 2) | int, 2] | max - 1 -%}
    {%- set requested = voc_report_week() - modules.datetime.timedelta(days=7 * weeks_back) -%}
    {{- return([requested, voc_history_start_week()] | min) -}}
{%- endmacro %}

{% macro voc_kst_midnight_utc(day) -%}
    {#- 00:00 KST of `day`, as a UTC timestamp literal. -#}
    {%- set utc = modules.datetime.datetime(day.year, day.month, day.day)
        - modules.datetime.timedelta(hours=9) -%}
    cast('{{ utc.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}

{% macro voc_date_literal(day) -%}
    cast('{{ day.isoformat() }}' as date)
{%- endmacro %}

{% macro voc_kst_week_start(utc_timestamp) -%}
    {#- The KST Monday (a date) of the week a UTC timestamp falls in. -#}
    {{ return(adapter.dispatch('voc_kst_week_start', 'voc_weekly')(utc_timestamp)) }}
{%- endmacro %}

{% macro default__voc_kst_week_start(utc_timestamp) -%}
    cast(date_trunc('week', {{ utc_timestamp }} + interval '9' hour) as date)
{%- endmacro %}

{% macro bigquery__voc_kst_week_start(utc_timestamp) -%}
    date_trunc(date({{ utc_timestamp }}, 'Asia/Seoul'), isoweek)
{%- endmacro %}

{% macro voc_week_partition(column) -%}
    {#- The partition_by config of a table keyed by a week column: BigQuery partitions by it (so
        insert_overwrite replaces whole weeks); DuckDB needs none. -#}
    {{ return(adapter.dispatch('voc_week_partition', 'voc_weekly')(column)) }}
{%- endmacro %}

{% macro default__voc_week_partition(column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro bigquery__voc_week_partition(column) -%}
    {{ return({'field': column, 'data_type': 'date', 'granularity': 'day'}) }}
{%- endmacro %}
