{#- The source read: where the rows come from, in which types, and which of them a run reads. -#}

{% macro voc_register_source() -%}
    {#- on-run-start: make the source a relation the adapter can read. -#}
    {{ return(adapter.dispatch('voc_register_source', 'voc_weekly')()) }}
{%- endmacro %}

{% macro default__voc_register_source() -%}
    {#- On DuckDB the source is an export named by VOC_SOURCE_PATH (voc-weekly sets it: the export, or
        else its demo data): a `.parquet` file is read as Parquet, anything else as CSV with a header
        row. A view over it gives models, unit tests and dbt docs an ordinary relation with the source
        contract's declared types, never types guessed from a sample of rows: every text column is
        text whatever it holds (ids like 'ZD-1' after numeric ones, categories of digits or 't'), and
        event_create_time a UTC timestamp (voc_source_timestamp). flows/warehouse/source.py checks the
        same read before dbt runs and names the first line it cannot parse. -#}
    {%- set source_path = env_var('VOC_SOURCE_PATH') -%}
    {%- set quoted_path = "'" ~ (source_path | replace("'", "''")) ~ "'" -%}
    {%- set text_columns = ['id', 'title', 'detail', 'category1', 'category2', 'category3',
        'overall_emotion', 'main_topic', 'keywords'] -%}
    {%- if (source_path | lower).endswith('.parquet') -%}
        {%- set reader = 'read_parquet(' ~ quoted_path ~ ')' -%}
        {%- set time_type = voc_column_type(reader, 'event_create_time') -%}
    {%- else -%}
        {#- Every column as text, except event_create_time, parsed by the reader: a CSV error then
            names its line. Quotes are RFC 4180's, never guessed from rows that happen to have none. Offsets are honoured row by row; a time without one is UTC (the session
            time zone, UTC in profiles.yml). -#}
        {%- set reader = 'read_csv(' ~ quoted_path ~ ", header = true, quote = '\"', escape = '\"', "
            ~ "all_varchar = true, types = {'event_create_time': 'TIMESTAMPTZ'})" -%}
        {%- set time_type = 'TIMESTAMP WITH TIME ZONE' -%}
    {%- endif -%}
    create or replace view {{ source('zendesk', 'zendesk_voc_classified') }} as
    select
        {% for column in text_columns -%}
        cast({{ column }} as varchar) as {{ column }},
        {% endfor -%}
        {{ voc_source_timestamp('event_create_time', time_type) }} as event_create_time
    from {{ reader }}
{%- endmacro %}

{% macro bigquery__voc_register_source() -%}
    {#- Production reads the partitioned BigQuery table itself, whose columns are typed already
        (event_create_time a TIMESTAMP: an instant, microseconds at most): nothing to register. -#}
{%- endmacro %}

{% macro voc_column_type(relation_sql, column) -%}
    {#- DuckDB: the type the file gives `column` ('' while parsing, when nothing runs). -#}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set described = run_query('describe select * from ' ~ relation_sql) -%}
    {%- for row in described.rows if row[0] == column -%}
        {{- return(row[1] | string) -}}
    {%- endfor -%}
    {{- return('') -}}
{%- endmacro %}

{% macro voc_source_timestamp(column, source_type) -%}
    {#- DuckDB: an export's event_create_time, whatever its type, as a UTC timestamp in microseconds.
        A plain timestamp is already UTC (the source contract) and is passed through untouched, so
        filters on it still reach the Parquet reader; an instant (with time zone) is converted to
        UTC; nanoseconds are truncated, never rounded (…59.999999999 on a Sunday stays in that
        week), which a cast would not do, so they go through their text; text is parsed with its
        offset, UTC when it has none. -#}
    {%- set type = source_type | upper -%}
    {%- if type in ('', 'TIMESTAMP') -%}
        {{ column }}
    {%- elif type in ('TIMESTAMP_S', 'TIMESTAMP_MS', 'DATE') -%}
        cast({{ column }} as timestamp)
    {%- elif type == 'TIMESTAMP WITH TIME ZONE' -%}
        timezone('UTC', {{ column }})
    {%- else -%}
        timezone('UTC', cast(cast({{ column }} as varchar) as timestamptz))
    {%- endif -%}
{%- endmacro %}

{% macro voc_source_read_start() -%}
    {#- The first instant a run reads: 00:00 KST of the scan start week (voc_scan_start_week). -#}
    {{ voc_kst_midnight_utc(voc_scan_start_week()) }}
{%- endmacro %}

{% macro voc_source_read_end() -%}
    {#- The instant a run stops reading: the end of the week after the reported week. That week
        shows whether the data reaches past the reported week's end (the coverage check); anything
        later cannot change the reported numbers (voc_dedup_as_of), so it is never read: a week
        years back scans its own partitions, not every partition from then until now. -#}
    {{ voc_kst_midnight_utc(voc_report_week() + modules.datetime.timedelta(days=14)) }}
{%- endmacro %}

{% macro voc_source_future_start() -%}
    {#- Where a run reads again, past its window: rows dated after this run started (a clock or
        export error) are read wherever they are, so the report status can name them and never take
        them as proof that a week was loaded. Partitions after the start of a run are normally
        empty, so this costs nothing; it starts where the window ends when the run started earlier. -#}
    {%- set day = voc_report_week() + modules.datetime.timedelta(days=14) -%}
    {%- set window_end = modules.datetime.datetime(day.year, day.month, day.day)
        - modules.datetime.timedelta(hours=9) -%}
    {%- set started = run_started_at.strftime("%Y-%m-%d %H:%M:%S") -%}
    {%- set window_end_text = window_end.strftime("%Y-%m-%d %H:%M:%S") -%}
    cast('{{ [started, window_end_text] | max }}' as timestamp)
{%- endmacro %}

{% macro voc_dedup_as_of() -%}
    {#- The end of the reported week, as a UTC timestamp literal: a ticket's row is chosen among its
        rows created before it, so rows loaded later never change a reported week's numbers. -#}
    {{ voc_kst_midnight_utc(voc_report_week() + modules.datetime.timedelta(days=7)) }}
{%- endmacro %}

{% macro voc_source_window(column='event_create_time') -%}
    {#- The rows a run reads, as literal bounds on both ends, so BigQuery prunes partitions. -#}
    {{ column }} >= {{ voc_source_read_start() }}
    and {{ column }} < {{ voc_source_read_end() }}
{%- endmacro %}
