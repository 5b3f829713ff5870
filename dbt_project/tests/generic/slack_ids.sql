{% test slack_ids(model, column_name, row_columns) %}
{#- Fails the build on the first row whose value holds anything but Slack user IDs (U…, W…) or user-group
    IDs (S…) separated by whitespace (empty = no one). It raises an error naming that row (its
    row_columns, '*' for an empty one) and the value, instead of returning rows, so the run's one-line
    dbt failure says which row to fix: dbt's own message would only count the rows. (No single quote in
    the message's literals: BigQuery does not read '' as one.) -#}
{%- set row_name = voc_row_name(row_columns) %}
with checked as (

    select
        {{ row_name }} as row_name,
        {{ column_name }} as checked_value,
        {{ voc_regexp_replace("coalesce(" ~ column_name ~ ", '')", '[UWS][A-Z0-9]{2,}|\\s', '') }} as leftover
    from {{ model }}

)

select row_name
from checked
where if(
    leftover = '',
    false,
    error(concat(
        '{{ model.identifier }} row ', row_name, ': {{ column_name }} "', checked_value,
        '" is not Slack user (U…, W…) or user-group (S…) IDs separated by spaces'
    ))
)
{% endtest %}
