{% macro voc_type_double() -%}
    {#- A 64-bit float on every adapter: dbt.type_float() is FLOAT on DuckDB, which is 32-bit there, so
        116.666…67 became 116.66666412. -#}
    {{ return(adapter.dispatch('voc_type_double', 'voc_weekly')()) }}
{%- endmacro %}

{% macro default__voc_type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__voc_type_double() -%}
    float64
{%- endmacro %}
