{% macro voc_pooled_dispersion_ctes(prefix, relation, mean_column, raw_alpha_column, degrees_of_freedom, prior_weeks) -%}
    {#- Two CTEs of a baselines model: `<prefix>_pooled`, the negative-binomial alpha pooled over the
        week's categories, and `<prefix>_shrunk`, `relation` with `<prefix>_alpha`: each category's own
        estimate (method of moments, `raw_alpha_column`; negative values count as 0) shrunk toward the
        pooled one, weighted by its `degrees_of_freedom` against `prior_weeks`.

        The pooled value (per week and level of the hierarchy) is a precision-weighted mean of the estimates: the variance of a
        moment estimate of alpha falls with the mean as (1 / mean + alpha)^2, so a category weighs
        mean^2 / (1 + a0 * mean)^2 (a0 = var default_dispersion). Weights grow with the mean but level
        off, so neither the smallest categories (noise) nor the one largest (one bad week) dominate.
        var default_dispersion when no category has two weeks of history. -#}
    {%- set guess = var('default_dispersion') -%}
    {{ prefix }}_pooled as (

        select
            report_week_start,
            level,
            greatest(
                sum({{ raw_alpha_column }} * {{ mean_column }} * {{ mean_column }}
                    / power(1.0 + {{ guess }} * {{ mean_column }}, 2))
                / sum({{ mean_column }} * {{ mean_column }} / power(1.0 + {{ guess }} * {{ mean_column }}, 2)),
                0.0
            ) as pooled_alpha
        from {{ relation }}
        where {{ raw_alpha_column }} is not null
        group by report_week_start, level

    ),

    {{ prefix }}_shrunk as (

        select
            {{ relation }}.*,
            case
                when {{ relation }}.{{ raw_alpha_column }} is null
                    then coalesce({{ prefix }}_pooled.pooled_alpha, {{ guess }})
                else (
                    ({{ degrees_of_freedom }}) * greatest({{ relation }}.{{ raw_alpha_column }}, 0.0)
                    + {{ prior_weeks }} * coalesce({{ prefix }}_pooled.pooled_alpha, {{ guess }})
                ) / (({{ degrees_of_freedom }}) + {{ prior_weeks }})
            end as {{ prefix }}_alpha
        from {{ relation }}
        left join {{ prefix }}_pooled
            on
                {{ relation }}.report_week_start = {{ prefix }}_pooled.report_week_start
                and {{ relation }}.level = {{ prefix }}_pooled.level

    )
{%- endmacro %}
