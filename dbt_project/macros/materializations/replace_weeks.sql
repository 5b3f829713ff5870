{% macro get_incremental_replace_weeks_sql(arg_dict) -%}
    {#- DuckDB's counterpart of BigQuery's static insert_overwrite (see voc_replace_weeks): delete every
        row of the weeks in config `partitions`, whether or not the new build has rows for them, then
        insert the new rows. dbt runs both statements in the model's transaction. -#}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ config.require('replaced_week_column') }} in ({{ config.require('partitions') | join(', ') }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
