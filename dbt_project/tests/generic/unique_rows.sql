{% test unique_rows(model, row_columns) %}
{#- Fails the build on the first key (row_columns, NULLs equal) held by more than one row, raising an
    error that names it (as slack_ids does) so the one-line dbt failure says which rows to merge. -#}
with keyed as (

    select {{ voc_row_name(row_columns) }} as row_name
    from {{ model }}

),

counted as (

    select
        row_name,
        count(*) as occurrences
    from keyed
    group by row_name

)

select row_name
from counted
where if(
    occurrences = 1,
    false,
    error(concat(
        '{{ model.identifier }} row ', row_name, ' appears ', cast(occurrences as {{ dbt.type_string() }}),
        ' times: keep one row per key'
    ))
)
{% endtest %}
