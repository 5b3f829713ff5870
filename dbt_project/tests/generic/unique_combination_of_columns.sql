{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- Fails for every combination of the given columns that occurs more than once (a composite key). -#}
select
    {{ combination_of_columns | join(',\n    ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
