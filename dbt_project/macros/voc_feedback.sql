{% macro voc_row_name(columns) -%}
    {#- '(a / b / *)': a row of a table named by its key columns, '*' for an empty (NULL) one. -#}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ column ~ ", '*')") -%}
        {%- if not loop.last %}{% do parts.append("' / '") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(["'('"] + parts + ["')'"]) }}
{%- endmacro %}

{% macro voc_create_feedback_table() -%}
    {#- on-run-start: the table of the team's reactions (source slack.voc_flag_feedback), empty until a
        posting run writes it. flows/warehouse/feedback.py writes it (FEEDBACK_COLUMNS, the same columns);
        one week's rows are always replaced together, so BigQuery partitions it by the reported week. -#}
    {%- set relation = source('slack', 'voc_flag_feedback') -%}
    create table if not exists {{ relation }} (
        report_week_start date,
        category1 {{ dbt.type_string() }},
        category2 {{ dbt.type_string() }},
        category3 {{ dbt.type_string() }},
        reaction {{ dbt.type_string() }},
        user_id {{ dbt.type_string() }},
        message_ts {{ dbt.type_string() }},
        read_at timestamp
    ) {{ adapter.dispatch('voc_feedback_table_options', 'voc_weekly')() }}
{%- endmacro %}

{% macro default__voc_feedback_table_options() -%}
{%- endmacro %}

{% macro bigquery__voc_feedback_table_options() -%}
    partition by report_week_start
{%- endmacro %}
