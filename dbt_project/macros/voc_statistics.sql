{#- Portable statistics for the evidence columns. BigQuery has no statistical CDFs, so every p-value
    is a closed-form numeric approximation built from exp, ln, sqrt and power, which both adapters
    have. Each macro takes column names (or simple expressions) and is pinned against known values by
    the data test `assert_statistics_macros_match_known_values`. voc_type_double is in voc_types.sql. -#}

{% macro voc_as_double(expression) -%}
    {#- An expression cast to a 64-bit float (DuckDB would otherwise keep literals as DECIMAL). -#}
    {{- return('cast(' ~ expression ~ ' as ' ~ voc_type_double() ~ ')') -}}
{%- endmacro %}

{% macro voc_normal_upper_tail(z) -%}
    {#- P(Z >= z) for a standard normal Z, as erfc(z / sqrt 2) / 2. erfc is the Chebyshev fit of
        Numerical Recipes (`erfcc`, fractional error below 1.2e-7 everywhere, so tiny tails stay
        accurate too); erfc(-x) = 2 - erfc(x) covers negative z. -#}
    {%- set x = '(abs(' ~ voc_as_double(z) ~ ') * 0.7071067811865476)' -%}
    {%- set t = '(1.0 / (1.0 + 0.5 * ' ~ x ~ '))' -%}
    {%- set erfc_abs -%}
        {{ t }} * exp(
            -{{ x }} * {{ x }} - 1.26551223 + {{ t }} * (1.00002368 + {{ t }} * (0.37409196
            + {{ t }} * (0.09678418 + {{ t }} * (-0.18628806 + {{ t }} * (0.27886807
            + {{ t }} * (-1.13520398 + {{ t }} * (1.48851587 + {{ t }} * (-0.82215223
            + {{ t }} * 0.17087277))))))))
        )
    {%- endset -%}
    (case
        when {{ z }} is null then null
        when {{ z }} >= 0 then 0.5 * ({{ erfc_abs }})
        else 1.0 - 0.5 * ({{ erfc_abs }})
    end)
{%- endmacro %}

{% macro voc_count_increase_z(observed_value, expected_value, dispersion_value) -%}
    {%- set observed = voc_as_double(observed_value) -%}
    {%- set expected = voc_as_double(expected_value) -%}
    {%- set dispersion = voc_as_double(dispersion_value) -%}
    {#- z of P(X >= observed) for a count with mean `expected` and variance dispersion * expected
        (quasi-Poisson; a negative binomial has dispersion 1 + alpha * mean). Poisson tails follow
        from the gamma/chi-square identity P(X >= x) = P(Gamma(x) <= mu), whose Wilson–Hilferty
        cube-root transform is normal to within a few percent of the tail probability; dividing by
        sqrt(dispersion) widens it for over-dispersed weeks. Needs observed > 0 and expected > 0. -#}
    (3.0 * sqrt({{ observed }})
        * (1.0 - 1.0 / (9.0 * {{ observed }}) - power({{ expected }} / {{ observed }}, 1.0 / 3.0))
        / sqrt({{ dispersion }}))
{%- endmacro %}

{% macro voc_count_decrease_z(observed_value, expected_value, dispersion_value) -%}
    {%- set observed = voc_as_double(observed_value) -%}
    {%- set expected = voc_as_double(expected_value) -%}
    {%- set dispersion = voc_as_double(dispersion_value) -%}
    {#- z of P(X <= observed), the same approximation: P(X <= x) = P(Gamma(x + 1) > mu). -#}
    (3.0 * sqrt({{ observed }} + 1.0)
        * (power({{ expected }} / ({{ observed }} + 1.0), 1.0 / 3.0) - 1.0 + 1.0 / (9.0 * ({{ observed }} + 1.0)))
        / sqrt({{ dispersion }}))
{%- endmacro %}

{% macro voc_proportion_rise_z(successes_value, trials_value, baseline_successes_value, baseline_trials_value) -%}
    {%- set successes = voc_as_double(successes_value) -%}
    {%- set trials = voc_as_double(trials_value) -%}
    {%- set baseline_successes = voc_as_double(baseline_successes_value) -%}
    {%- set baseline_trials = voc_as_double(baseline_trials_value) -%}
    {#- Two-proportion z (pooled variance) of successes/trials rising above the baseline's share.
        NULL without trials on either side; 0 when the pooled share is 0 or 1 (no variation, so no
        evidence of a rise). -#}
    (case
        when {{ trials }} = 0 or {{ baseline_trials }} = 0 then null
        when {{ successes }} + {{ baseline_successes }} = 0
            or {{ successes }} + {{ baseline_successes }} = {{ trials }} + {{ baseline_trials }} then 0.0
        else (
            1.0 * {{ successes }} / {{ trials }} - 1.0 * {{ baseline_successes }} / {{ baseline_trials }}
        ) / sqrt(
            (1.0 * ({{ successes }} + {{ baseline_successes }}) / ({{ trials }} + {{ baseline_trials }}))
            * (1.0 - 1.0 * ({{ successes }} + {{ baseline_successes }}) / ({{ trials }} + {{ baseline_trials }}))
            * (1.0 / {{ trials }} + 1.0 / {{ baseline_trials }})
        )
    end)
{%- endmacro %}
