{% macro voc_benjamini_hochberg(rows, keys) -%}
    {#- Benjamini–Hochberg q-values over one fixed family per reported week: every row's three
        one-sided hypotheses (volume increase, volume decrease, negative-share rise), whatever the
        week's data or severity. A family chosen from the data (the direction a row moved, or the rule
        that fired) would make the p-values it keeps look smaller than they are.
        q = min over ranks j >= i of p_j * m / j; ties in p are ranked by direction, then by `keys`.
        `rows` is a CTE with report_week_start, the `keys` and p_value_increase / _decrease /
        _negative_rise; one row per hypothesis comes back: report_week_start, the keys, direction,
        p_value, p_rank, tests_in_week and q_value. -#}
    select
        *,
        least(
            min(p_value * tests_in_week / p_rank) over (
                partition by report_week_start
                order by p_rank desc
                rows between unbounded preceding and current row
            ),
            1.0
        ) as q_value
    from (
        select
            *,
            row_number() over (
                partition by report_week_start
                order by p_value asc, direction asc, {{ keys | join(' asc, ') }} asc
            ) as p_rank,
            count(*) over (partition by report_week_start) as tests_in_week
        from (
            {%- for direction in ['increase', 'decrease', 'negative_rise'] %}
            select
                report_week_start,
                {{ keys | join(', ') }},
                '{{ direction }}' as direction,
                p_value_{{ direction }} as p_value
            from {{ rows }}
            where p_value_{{ direction }} is not null
            {%- if not loop.last %}
            union all
            {%- endif %}
            {%- endfor %}
        ) as hypotheses
    ) as ranked_hypotheses
{%- endmacro %}
