{#- Portable statistics for the evidence columns. BigQuery has no statistical CDFs, so every p-value
    is a closed-form approximation built from exp, ln, sqrt and power, which both adapters have.
    Count and share tails use the Peizer–Pratt normal approximation of the binomial / incomplete-beta
    tail (Peizer & Pratt 1968), which keeps the skew of the exact distribution: within a few percent of
    the exact negative-binomial and binomial tails down to 1e-6 (tests/dbt/test_statistics_macros.py
    pins them against scipy; the data test `assert_statistics_macros_match_known_values` pins the same
    values on every adapter). Each macro takes column names or simple expressions.
    voc_type_double is in voc_types.sql. -#}

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

{% macro voc_peizer_pratt_g(ratio) -%}
    {#- Peizer–Pratt's g(x) = (1 - x^2 + 2 x ln x) / (1 - x)^2 for x > 0, with its limit -(x - 1) / 3
        near x = 1, where the quotient would cancel to noise. -#}
    (case
        when abs({{ ratio }} - 1.0) < 1e-4 then (1.0 - {{ ratio }}) / 3.0
        else (1.0 - {{ ratio }} * {{ ratio }} + 2.0 * {{ ratio }} * ln({{ ratio }}))
            / ((1.0 - {{ ratio }}) * (1.0 - {{ ratio }}))
    end)
{%- endmacro %}

{% macro voc_count_at_most_z(observed_value, mean_value, alpha_value) -%}
    {#- z with P(Y <= observed) ~ Phi(z), for Y negative binomial with mean `mean` and variance
        mean + alpha * mean^2 (alpha = 0: Poisson). The identity P(Y <= y) = P(X <= y) for X binomial
        with n = y + 1/alpha trials and success probability alpha * mean / (1 + alpha * mean), written
        so that alpha = 0 needs no division by it, then Peizer–Pratt's z for that binomial tail (with
        its second-order term). Needs observed >= 0, mean > 0 and 0 <= alpha < 2. -#}
    {%- set y = voc_as_double(observed_value) -%}
    {%- set mu = voc_as_double(mean_value) -%}
    {%- set a = voc_as_double(alpha_value) -%}
    {%- set q = '(1.0 / (1.0 + ' ~ a ~ ' * ' ~ mu ~ '))' -%}
    {%- set p = '(' ~ a ~ ' * ' ~ mu ~ ' / (1.0 + ' ~ a ~ ' * ' ~ mu ~ '))' -%}
    {%- set s_ratio = '((' ~ y ~ ' + 0.5) * (1.0 + ' ~ a ~ ' * ' ~ mu ~ ') / ((' ~ y ~ ' * ' ~ a ~ ' + 1.0) * ' ~ mu ~ '))' -%}
    {%- set t_ratio = '((1.0 - ' ~ a ~ ' / 2.0) * (1.0 + ' ~ a ~ ' * ' ~ mu ~ ') / (1.0 + ' ~ y ~ ' * ' ~ a ~ '))' -%}
    (
        (
            {{ y }} + 2.0 / 3.0 - ({{ y }} * {{ a }} + 1.0 + {{ a }} / 3.0) * {{ mu }} / (1.0 + {{ a }} * {{ mu }})
            + 0.02 * (
                {{ q }} / ({{ y }} + 1.0) - {{ p }} * {{ a }}
                + ({{ q }} - 0.5) * {{ a }} / ({{ y }} * {{ a }} + 1.0 + {{ a }})
            )
        )
        * sqrt(
            (1.0 + {{ q }} * {{ voc_peizer_pratt_g(s_ratio) }} + {{ p }} * {{ voc_peizer_pratt_g(t_ratio) }})
            * (1.0 + {{ a }} * {{ mu }}) * (1.0 + {{ a }} * {{ mu }})
            / (({{ y }} * {{ a }} + 1.0 + {{ a }} / 6.0) * {{ mu }})
        )
    )
{%- endmacro %}

{% macro voc_count_at_least_p(observed_value, mean_value, alpha_value) -%}
    {#- P(Y >= observed) for Y negative binomial (mean, alpha) as above: a volume increase. 1 for
        observed <= 0; NULL when any input is NULL. -#}
    (case
        when {{ observed_value }} is null or {{ mean_value }} is null or {{ alpha_value }} is null then null
        when {{ observed_value }} <= 0 then 1.0
        else {{ voc_normal_upper_tail(voc_count_at_most_z('(' ~ observed_value ~ ' - 1)', mean_value, alpha_value)) }}
    end)
{%- endmacro %}

{% macro voc_count_at_most_p(observed_value, mean_value, alpha_value) -%}
    {#- P(Y <= observed) for Y negative binomial (mean, alpha): a volume decrease. -#}
    (case
        when {{ observed_value }} is null or {{ mean_value }} is null or {{ alpha_value }} is null then null
        else {{ voc_normal_upper_tail('-' ~ voc_count_at_most_z(observed_value, mean_value, alpha_value)) }}
    end)
{%- endmacro %}

{% macro voc_binomial_at_most_z(successes_value, trials_value, share_value) -%}
    {#- z with P(X <= successes) ~ Phi(z) for X binomial (trials, share): Peizer–Pratt with its
        second-order term. Real-valued successes and trials are allowed (the incomplete-beta form),
        which is what the quasi-binomial scaling below needs. Needs 0 <= successes < trials, 0 < share < 1. -#}
    {%- set k = voc_as_double(successes_value) -%}
    {%- set n = voc_as_double(trials_value) -%}
    {%- set p = voc_as_double(share_value) -%}
    {%- set s_ratio = '((' ~ k ~ ' + 0.5) / (' ~ n ~ ' * ' ~ p ~ '))' -%}
    {%- set t_ratio = '((' ~ n ~ ' - ' ~ k ~ ' - 0.5) / (' ~ n ~ ' * (1.0 - ' ~ p ~ ')))' -%}
    (
        (
            {{ k }} + 2.0 / 3.0 - ({{ n }} + 1.0 / 3.0) * {{ p }}
            + 0.02 * (
                (1.0 - {{ p }}) / ({{ k }} + 1.0) - {{ p }} / ({{ n }} - {{ k }})
                + (0.5 - {{ p }}) / ({{ n }} + 1.0)
            )
        )
        * sqrt(
            (1.0 + (1.0 - {{ p }}) * {{ voc_peizer_pratt_g(s_ratio) }} + {{ p }} * {{ voc_peizer_pratt_g(t_ratio) }})
            / (({{ n }} + 1.0 / 6.0) * {{ p }} * (1.0 - {{ p }}))
        )
    )
{%- endmacro %}

{% macro voc_share_at_least_p(successes_value, trials_value, share_value, inflation_value) -%}
    {#- P(X >= successes) for a share that varies more than a binomial's: a quasi-binomial with
        variance inflation * trials * share * (1 - share), approximated by a binomial on
        trials / inflation trials with successes / inflation successes (the same mean share, the
        inflated variance, the binomial's skew). 1 when at most half a scaled success remains (no
        evidence of a rise: the approximation needs more than half a one); NULL without trials or without a share strictly between 0 and 1. -#}
    {%- set scaled_successes = '(' ~ voc_as_double(successes_value) ~ ' / ' ~ voc_as_double(inflation_value) ~ ')' -%}
    {%- set scaled_trials = '(' ~ voc_as_double(trials_value) ~ ' / ' ~ voc_as_double(inflation_value) ~ ')' -%}
    (case
        when {{ successes_value }} is null or {{ trials_value }} is null or {{ share_value }} is null
            or {{ inflation_value }} is null or {{ trials_value }} <= 0
            or {{ share_value }} <= 0 or {{ share_value }} >= 1 then null
        when {{ scaled_successes }} <= 0.5 then 1.0
        else {{ voc_normal_upper_tail(voc_binomial_at_most_z(
            '(' ~ scaled_successes ~ ' - 1.0)', scaled_trials, share_value)) }}
    end)
{%- endmacro %}
