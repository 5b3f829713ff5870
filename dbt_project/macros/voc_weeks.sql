{#- Week arithmetic for the report. Weeks run Monday–Sunday in Asia/Seoul (KST, UTC+9 all year:
    Korea has had no daylight saving time since 1988). Every boundary is rendered as a literal, so the
    compiled SQL carries it and BigQuery can prune partitions. -#}

{% macro voc_report_week() -%}
    {#- The reported week (비교주) as a date: var('report_week') moved to its Monday. The week is the
        caller's to choose (voc-weekly passes the last complete KST week unless told otherwise): the
        SQL never guesses it from the clock. -#}
    {%- set requested = var('report_week', '') | string | trim -%}
    {%- if not requested or requested | lower == 'none' -%}
        {{- exceptions.raise_compiler_error(
            "var report_week is not set: pass --vars '{report_week: YYYY-MM-DD}' (any day of the "
            ~ "week to report) or run dbt through `voc-weekly dbt`, which passes the last complete week"
        ) -}}
    {%- endif -%}
    {%- set day = modules.datetime.date.fromisoformat(requested[:10]) -%}
    {{- return(day - modules.datetime.timedelta(days=day.weekday())) -}}
{%- endmacro %}

{% macro voc_previous_week() -%}
    {#- The previous week (기준주): the week before the reported week. -#}
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

{% macro voc_replaced_weeks(first_week, last_week) -%}
    {#- The Mondays from first_week through last_week as date literals: the `partitions` a run
        replaces whole, known at compile time. -#}
    {%- set weeks = [] -%}
    {%- for offset in range(0, (last_week - first_week).days + 1, 7) -%}
        {%- do weeks.append(voc_date_literal(first_week + modules.datetime.timedelta(days=offset)) | trim) -%}
    {%- endfor -%}
    {{- return(weeks) -}}
{%- endmacro %}

{% macro voc_replace_weeks(column, first_week, last_week) -%}
    {#- The incremental config of a table keyed by a week column: each run replaces the weeks
        first_week..last_week WHOLE, including by nothing when a week no longer has rows (a key-based
        delete+insert only deletes keys that still exist, so vanished categories and emptied weeks
        would survive). One mechanism on both adapters: the static `partitions` list. Use as
        `config(**voc_replace_weeks(...))`. -#}
    {{ return(adapter.dispatch('voc_replace_weeks', 'voc_weekly')(column, first_week, last_week)) }}
{%- endmacro %}

{% macro default__voc_replace_weeks(column, first_week, last_week) -%}
    {#- DuckDB: the project's `replace_weeks` strategy (get_incremental_replace_weeks_sql) deletes the
        listed weeks, then inserts. dbt-duckdb refuses the name insert_overwrite (a built-in strategy it
        does not implement), and partition_by is DuckLake-only, so the column travels in its own key. -#}
    {{ return({
        'incremental_strategy': 'replace_weeks',
        'replaced_week_column': column,
        'partitions': voc_replaced_weeks(first_week, last_week),
    }) }}
{%- endmacro %}

{% macro bigquery__voc_replace_weeks(column, first_week, last_week) -%}
    {#- BigQuery: insert_overwrite with static partitions (one MERGE that deletes the listed day
        partitions, emptied ones included, and inserts the new rows; cheaper than the dynamic form,
        which first queries the new rows for their partitions). -#}
    {{ return({
        'incremental_strategy': 'insert_overwrite',
        'partition_by': {'field': column, 'data_type': 'date', 'granularity': 'day'},
        'partitions': voc_replaced_weeks(first_week, last_week),
    }) }}
{%- endmacro %}

{% macro voc_run_started_at() -%}
    {#- When this dbt run started (UTC), as a timestamp literal: nothing created later can be real. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
