{% macro voc_register_source() -%}
    {#- on-run-start: make the source a relation the adapter can read. -#}
    {{ return(adapter.dispatch('voc_register_source', 'voc_weekly')()) }}
{%- endmacro %}

{% macro default__voc_register_source() -%}
    {#- On DuckDB the source is a CSV or Parquet export named by VOC_SOURCE_PATH (voc-weekly sets it:
        the export, or else its demo data). A view over the file gives models, unit tests and dbt
        docs an ordinary relation; DuckDB picks the reader from the file extension. -#}
    {%- set source_path = env_var('VOC_SOURCE_PATH') -%}
    create or replace view {{ source('zendesk', 'zendesk_voc_classified') }} as
    select * from '{{ source_path | replace("'", "''") }}'
{%- endmacro %}

{% macro bigquery__voc_register_source() -%}
    {#- Production reads the partitioned BigQuery table itself: nothing to register. -#}
{%- endmacro %}
