-- One row per reported week per category (level 3) and per roll-up of the hierarchy (level 2:
-- category1 / category2, level 1: category1; '' stands for the levels a roll-up spans): its counts
-- this week and the week before, its multi-week baseline (the baseline_weeks weeks before the
-- reported week, a missing week counting as 0), its over-dispersion, this week's expected band, and
-- the p-values of a volume increase, a volume decrease and a negative-share rise. Categories and
-- roll-ups are measured the same way, each level pooled on its own.
-- Reads only the weeks this run rebuilt (see voc_scan_start_week), so it never depends on earlier runs.
--
-- The method follows the surveillance algorithms for weekly counts (Farrington 1996; Noufaily et al.
-- 2013): a first fit, each baseline week's residual against the other weeks, weeks with a large
-- residual (a past spike) down-weighted, and a second fit that the reported week is tested against.
-- Counts are negative binomial (variance = mean + alpha * mean^2); alpha is pooled across the week's
-- categories and each category's own estimate is shrunk toward it. Every constant below was chosen by
-- measurement (benchmarks/bench_signal.py; BENCHMARKS.md has the figures).
-- Incremental: a run replaces its reported weeks whole, so a build of another week at the same time
-- keeps its own rows (dbt_project.yml, models).
{{ config(**voc_replace_weeks('report_week_start', voc_first_report_week(), voc_report_week())) }}

{%- set baseline_weeks = [var('baseline_weeks') | int, 1] | max %}
{#- The pooled over-dispersion counts as this many weeks of a category's own history when the two are
    blended (volume counts; negative shares): eight weeks of one category say little about its
    wobble, so the pooled figure dominates unless the category has a long, consistent history. #}
{%- set dispersion_prior_weeks = 32 %}
{%- set share_dispersion_prior_weeks = 8 %}
{#- A roll-up's wobble is shrunk toward the wobble its categories imply (as if independent): a group
    of many small categories moves far less, relative to its size, than the level's other groups. #}
{%- set rollup_dispersion_prior_weeks = 32 %}
{#- A baseline week whose residual z exceeds this (the 99.5th percentile, as in Noufaily et al.) is
    down-weighted to 1 / z^2. #}
{%- set outlier_z = 2.58 %}
{#- The test's alpha is capped where the tail approximation holds (a baseline of zeros gives ~2). #}
{%- set max_test_alpha = 1.5 %}
{#- Two-sided 95% normal quantile, for the expected band. #}
{%- set band_z = 1.959963984540054 %}

with category_weeks as (

    select * from {{ ref('int_voc_category_weeks_filled') }}

),

-- Every level of the hierarchy as units of the same shape: the categories, and their sums by
-- category1 / category2 and by category1.
unit_weeks as (

    select
        3 as level,
        category1,
        category2,
        category3,
        week_number,
        week_start,
        first_data_week_number,
        ticket_count,
        negative_ticket_count
    from category_weeks
    union all
    select
        2 as level,
        category1,
        category2,
        '' as category3,
        week_number,
        week_start,
        first_data_week_number,
        sum(ticket_count) as ticket_count,
        sum(negative_ticket_count) as negative_ticket_count
    from category_weeks
    group by category1, category2, week_number, week_start, first_data_week_number
    union all
    select
        1 as level,
        category1,
        '' as category2,
        '' as category3,
        week_number,
        week_start,
        first_data_week_number,
        sum(ticket_count) as ticket_count,
        sum(negative_ticket_count) as negative_ticket_count
    from category_weeks
    group by category1, week_number, week_start, first_data_week_number

),

reported_weeks as (

    select * from unit_weeks
    where week_number >= {{ baseline_weeks }}

),

history as (

    select * from unit_weeks
    where week_number >= first_data_week_number

),


-- One row per reported week, category and baseline week (none when the data starts this week).
baseline_weeks_joined as (

    select
        reported_weeks.week_start as report_week_start,
        reported_weeks.level,
        reported_weeks.category1,
        reported_weeks.category2,
        reported_weeks.category3,
        reported_weeks.ticket_count as reported_tickets,
        reported_weeks.negative_ticket_count as reported_negative_tickets,
        reported_weeks.week_number as reported_week_number,
        history.week_number as history_week_number,
        cast(history.ticket_count as {{ voc_type_double() }}) as week_tickets,
        cast(history.negative_ticket_count as {{ voc_type_double() }}) as week_negative_tickets
    from reported_weeks
    left join history
        on
            reported_weeks.level = history.level
            and reported_weeks.category1 = history.category1
            and reported_weeks.category2 = history.category2
            and reported_weeks.category3 = history.category3
            and history.week_number >= reported_weeks.week_number - {{ baseline_weeks }}
            and reported_weeks.week_number > history.week_number

),

first_fit as (

    select
        report_week_start,
        level,
        category1,
        category2,
        category3,
        reported_tickets,
        reported_negative_tickets,
        -- The week before (기준주): 0 when it had no tickets or came before the data.
        coalesce(sum(case when history_week_number = reported_week_number - 1 then week_tickets end), 0.0)
            as previous_tickets,
        coalesce(
            sum(case when history_week_number = reported_week_number - 1 then week_negative_tickets end), 0.0
        ) as previous_negative_tickets,
        count(history_week_number) as baseline_weeks_used,
        sum(week_tickets) as baseline_tickets,
        sum(week_negative_tickets) as baseline_negative_tickets,
        sum(week_tickets * week_tickets) as baseline_sum_of_squares,
        {{ dbt.listagg(
            'cast(cast(week_tickets as ' ~ dbt.type_bigint() ~ ') as ' ~ dbt.type_string() ~ ')',
            "','",
            'order by history_week_number',
        ) }} as baseline_weekly_tickets
    from baseline_weeks_joined
    group by
        report_week_start,
        level,
        category1,
        category2,
        category3,
        reported_tickets,
        reported_negative_tickets,
        reported_week_number

),

first_moments as (

    select
        *,
        case when baseline_weeks_used > 0 then baseline_tickets / baseline_weeks_used end as first_mean,
        case
            when baseline_weeks_used > 1 and baseline_tickets > 0
                then (
                    (baseline_sum_of_squares - baseline_tickets * baseline_tickets / baseline_weeks_used)
                    / (baseline_weeks_used - 1)
                    - baseline_tickets / baseline_weeks_used
                ) / power(baseline_tickets / baseline_weeks_used, 2)
        end as first_raw_alpha
    from first_fit

),

{{ voc_pooled_dispersion_ctes(
    'first', 'first_moments', 'first_mean', 'first_raw_alpha', 'first_moments.baseline_weeks_used - 1',
    dispersion_prior_weeks,
) }},

-- Each baseline week against the other weeks (leave one out): the z of its count's upper tail under
-- the first fit (P(Y >= y) = Phi(-z), so a large z is a week far above the others: a past spike, not
-- the category's normal).
week_residuals as (

    select
        baseline_weeks_joined.*,
        first_shrunk.baseline_weeks_used,
        first_shrunk.baseline_tickets,
        greatest(
            (first_shrunk.baseline_tickets - baseline_weeks_joined.week_tickets)
            / (first_shrunk.baseline_weeks_used - 1),
            0.5 / (first_shrunk.baseline_weeks_used - 1)
        ) as others_mean,
        first_shrunk.first_alpha
    from baseline_weeks_joined
    inner join first_shrunk
        on
            baseline_weeks_joined.report_week_start = first_shrunk.report_week_start
            and baseline_weeks_joined.category1 = first_shrunk.category1
            and baseline_weeks_joined.category2 = first_shrunk.category2
            and baseline_weeks_joined.category3 = first_shrunk.category3
    -- Three weeks at least, so that two others give a mean and the weighting has a majority.
    where first_shrunk.baseline_weeks_used >= 3

),

week_tests as (

    select
        *,
        least(
            first_alpha * (1.0 + 1.0 / (baseline_weeks_used - 1)) + 1.0 / ((baseline_weeks_used - 1) * others_mean),
            {{ max_test_alpha }}
        ) as others_alpha
    from week_residuals

),

week_weights as (

    select
        report_week_start,
        category1,
        category2,
        category3,
        history_week_number,
        case
            when week_tickets > 0
                then {{ voc_count_at_most_z('week_tickets - 1.0', 'others_mean', 'others_alpha') }}
        end as residual_z
    from week_tests

),

weighted_weeks as (

    select
        baseline_weeks_joined.*,
        case
            when week_weights.residual_z > {{ outlier_z }}
                then 1.0 / (week_weights.residual_z * week_weights.residual_z)
            else 1.0
        end as week_weight
    from baseline_weeks_joined
    left join week_weights
        on
            baseline_weeks_joined.report_week_start = week_weights.report_week_start
            and baseline_weeks_joined.category1 = week_weights.category1
            and baseline_weeks_joined.category2 = week_weights.category2
            and baseline_weeks_joined.category3 = week_weights.category3
            and baseline_weeks_joined.history_week_number = week_weights.history_week_number
    where baseline_weeks_joined.history_week_number is not null

),

second_fit as (

    select
        report_week_start,
        category1,
        category2,
        category3,
        sum(week_weight) as weight_sum,
        sum(week_weight * week_weight) as weight_sum_of_squares,
        sum(week_weight * week_tickets) as weighted_tickets,
        sum(week_weight * week_tickets * week_tickets) as weighted_sum_of_squares,
        sum(case when week_tickets > 0 then 1 else 0 end) as weeks_with_tickets
    from weighted_weeks
    group by report_week_start, category1, category2, category3

),

-- The weighted mean and variance (reliability weights), and the weeks they are worth.
second_moments as (

    select
        first_fit.*,
        second_fit.weighted_tickets / second_fit.weight_sum as baseline_mean_tickets,
        second_fit.weight_sum * second_fit.weight_sum / second_fit.weight_sum_of_squares as effective_weeks,
        case
            when first_fit.baseline_weeks_used > 1 and second_fit.weighted_tickets > 0
                then (
                    (
                        second_fit.weighted_sum_of_squares
                        - second_fit.weighted_tickets * second_fit.weighted_tickets / second_fit.weight_sum
                    )
                    / (second_fit.weight_sum - second_fit.weight_sum_of_squares / second_fit.weight_sum)
                    - second_fit.weighted_tickets / second_fit.weight_sum
                ) / power(second_fit.weighted_tickets / second_fit.weight_sum, 2)
        end as second_raw_alpha
    from first_fit
    left join second_fit
        on
            first_fit.report_week_start = second_fit.report_week_start
            and first_fit.category1 = second_fit.category1
            and first_fit.category2 = second_fit.category2
            and first_fit.category3 = second_fit.category3

),

{{ voc_pooled_dispersion_ctes(
    'second', 'second_moments', 'baseline_mean_tickets', 'second_raw_alpha', 'second_moments.effective_weeks - 1',
    dispersion_prior_weeks,
) }},

-- What the categories' wobble implies for their roll-ups if they moved independently: the
-- variances add, so alpha = sum(alpha_i * mean_i^2) / (sum of means)^2.
implied_by_categories as (

    select
        report_week_start,
        2 as level,
        category1,
        category2,
        sum(second_alpha * baseline_mean_tickets * baseline_mean_tickets) as alpha_times_square,
        sum(baseline_mean_tickets) as mean_sum
    from second_shrunk
    where level = 3 and baseline_mean_tickets is not null
    group by report_week_start, category1, category2
    union all
    select
        report_week_start,
        1 as level,
        category1,
        '' as category2,
        sum(second_alpha * baseline_mean_tickets * baseline_mean_tickets) as alpha_times_square,
        sum(baseline_mean_tickets) as mean_sum
    from second_shrunk
    where level = 3 and baseline_mean_tickets is not null
    group by report_week_start, category1

),

-- Categories keep their shrunk alpha; a roll-up's own estimate is shrunk toward the implied one.
unit_dispersion as (

    select
        second_shrunk.*,
        case
            when
                second_shrunk.level = 3
                or implied_by_categories.mean_sum is null
                or implied_by_categories.mean_sum = 0
                then second_shrunk.second_alpha
            else (
                (second_shrunk.effective_weeks - 1) * greatest(coalesce(second_shrunk.second_raw_alpha, 0.0), 0.0)
                + {{ rollup_dispersion_prior_weeks }} * implied_by_categories.alpha_times_square
                / (implied_by_categories.mean_sum * implied_by_categories.mean_sum)
            ) / (second_shrunk.effective_weeks - 1 + {{ rollup_dispersion_prior_weeks }})
        end as unit_alpha
    from second_shrunk
    left join implied_by_categories
        on
            second_shrunk.report_week_start = implied_by_categories.report_week_start
            and second_shrunk.level = implied_by_categories.level
            and second_shrunk.category1 = implied_by_categories.category1
            and second_shrunk.category2 = implied_by_categories.category2

),

-- The negative share: the baseline weeks' pooled share, and how much more than a binomial the
-- weekly shares vary (quasi-binomial: Pearson's chi-square per degree of freedom).
share_weeks as (

    select
        baseline_weeks_joined.report_week_start,
        baseline_weeks_joined.level,
        baseline_weeks_joined.category1,
        baseline_weeks_joined.category2,
        baseline_weeks_joined.category3,
        sum(
            power(
                baseline_weeks_joined.week_negative_tickets
                - baseline_weeks_joined.week_tickets * first_fit.baseline_negative_tickets / first_fit.baseline_tickets,
                2
            ) / (
                baseline_weeks_joined.week_tickets
                * (first_fit.baseline_negative_tickets / first_fit.baseline_tickets)
                * (1.0 - first_fit.baseline_negative_tickets / first_fit.baseline_tickets)
            )
        ) as share_chi_square,
        count(*) - 1 as share_degrees_of_freedom
    from baseline_weeks_joined
    inner join first_fit
        on
            baseline_weeks_joined.report_week_start = first_fit.report_week_start
            and baseline_weeks_joined.category1 = first_fit.category1
            and baseline_weeks_joined.category2 = first_fit.category2
            and baseline_weeks_joined.category3 = first_fit.category3
    where
        baseline_weeks_joined.week_tickets > 0
        and first_fit.baseline_negative_tickets > 0
        and first_fit.baseline_negative_tickets < first_fit.baseline_tickets
    group by
        baseline_weeks_joined.report_week_start,
        baseline_weeks_joined.level,
        baseline_weeks_joined.category1,
        baseline_weeks_joined.category2,
        baseline_weeks_joined.category3
    having count(*) > 1

),

pooled_share_dispersion as (

    select
        report_week_start,
        level,
        sum(share_chi_square) / sum(share_degrees_of_freedom) as pooled_phi
    from share_weeks
    group by report_week_start, level

),

-- The count this week is tested against: the weighted baseline mean (a history without tickets
-- counts as half a ticket over its weeks, so a new category is measurable), as a negative binomial
-- whose alpha adds the uncertainty of a mean from that many weeks: variance
-- (mean + alpha * mean^2) * (1 + 1 / weeks) = mean + test_alpha * mean^2. For a Poisson count this
-- is the exact predictive distribution given the baseline.
test_parameters as (

    select
        unit_dispersion.*,
        greatest(unit_dispersion.baseline_mean_tickets, 0.5 / unit_dispersion.baseline_weeks_used) as tested_mean,
        case
            when unit_dispersion.baseline_tickets > 0
                then unit_dispersion.baseline_negative_tickets / unit_dispersion.baseline_tickets
        end as baseline_neg_ratio,
        -- The baseline share with half a ticket either way, so a share of exactly 0 or 1 still tests.
        (unit_dispersion.baseline_negative_tickets + 0.5) / (unit_dispersion.baseline_tickets + 1.0) as tested_share,
        coalesce(
            (
                coalesce(share_weeks.share_chi_square, 0.0)
                + {{ share_dispersion_prior_weeks }} * pooled_share_dispersion.pooled_phi
            ) / (coalesce(share_weeks.share_degrees_of_freedom, 0) + {{ share_dispersion_prior_weeks }}),
            1.0
        ) as share_dispersion
    from unit_dispersion
    left join share_weeks
        on
            unit_dispersion.report_week_start = share_weeks.report_week_start
            and unit_dispersion.category1 = share_weeks.category1
            and unit_dispersion.category2 = share_weeks.category2
            and unit_dispersion.category3 = share_weeks.category3
    left join pooled_share_dispersion
        on
            unit_dispersion.report_week_start = pooled_share_dispersion.report_week_start
            and unit_dispersion.level = pooled_share_dispersion.level
    where unit_dispersion.baseline_weeks_used > 0

),

test_dispersion as (

    select
        *,
        least(
            unit_alpha * (1.0 + 1.0 / effective_weeks) + 1.0 / (effective_weeks * tested_mean),
            {{ max_test_alpha }}
        ) as test_alpha,
        -- The share's variance: quasi-binomial, plus the uncertainty of the baseline share.
        greatest(share_dispersion, 0.01) * (1.0 + reported_tickets / (baseline_tickets + 1.0)) as share_inflation
    from test_parameters

),

-- The z of each tail (Peizer–Pratt, macros/voc_statistics.sql), computed once per row; the next
-- step turns them into p-values. voc_count_at_least_p / _at_most_p / voc_share_at_least_p are the
-- same two steps in one expression (what tests/dbt/test_statistics_macros.py pins).
z_scores as (

    select
        *,
        case
            when reported_tickets > 0
                then {{ voc_count_at_most_z('reported_tickets - 1', 'tested_mean', 'test_alpha') }}
        end as increase_z,
        {{ voc_count_at_most_z('reported_tickets', 'tested_mean', 'test_alpha') }} as decrease_z,
        case
            when reported_tickets > 0 and reported_negative_tickets / share_inflation > 0.5
                then {{ voc_binomial_at_most_z(
                    'reported_negative_tickets / share_inflation - 1.0',
                    'reported_tickets / share_inflation',
                    'tested_share',
                ) }}
        end as negative_rise_z
    from test_dispersion

),

p_values as (

    select
        *,
        case when reported_tickets = 0 then 1.0 else {{ voc_normal_upper_tail('increase_z') }} end
            as p_value_increase,
        {{ voc_normal_upper_tail('-decrease_z') }} as p_value_decrease,
        case
            when reported_tickets = 0 or baseline_tickets = 0 then null
            -- No negative tickets at all, or only negative ones: the share cannot have risen.
            when
                reported_negative_tickets + baseline_negative_tickets = 0
                or reported_negative_tickets + baseline_negative_tickets = reported_tickets + baseline_tickets
                then 1.0
            -- At most half a scaled negative ticket: no evidence of a rise.
            when negative_rise_z is null then 1.0
            else {{ voc_normal_upper_tail('negative_rise_z') }}
        end as p_value_negative_rise,
        {{ band_z }} * sqrt(tested_mean + test_alpha * tested_mean * tested_mean) as band_half_width
    from z_scores

),

final as (

    select
        first_fit.report_week_start,
        first_fit.level,
        first_fit.category1,
        first_fit.category2,
        first_fit.category3,
        cast(first_fit.reported_tickets as {{ dbt.type_bigint() }}) as reported_tickets,
        cast(first_fit.reported_negative_tickets as {{ dbt.type_bigint() }}) as reported_negative_tickets,
        cast(first_fit.previous_tickets as {{ dbt.type_bigint() }}) as previous_tickets,
        cast(first_fit.previous_negative_tickets as {{ dbt.type_bigint() }}) as previous_negative_tickets,
        first_fit.baseline_weeks_used,
        first_fit.baseline_weekly_tickets,
        p_values.baseline_mean_tickets,
        p_values.baseline_neg_ratio,
        p_values.unit_alpha as baseline_dispersion,
        -- greatest() ignores NULLs on DuckDB, not on BigQuery: no band without a baseline on either.
        case
            when p_values.band_half_width is not null
                then greatest(p_values.baseline_mean_tickets - p_values.band_half_width, 0.0)
        end as expected_tickets_low,
        p_values.baseline_mean_tickets + p_values.band_half_width as expected_tickets_high,
        p_values.p_value_increase,
        p_values.p_value_decrease,
        p_values.p_value_negative_rise
    from first_fit
    left join p_values
        on
            first_fit.report_week_start = p_values.report_week_start
            and first_fit.category1 = p_values.category1
            and first_fit.category2 = p_values.category2
            and first_fit.category3 = p_values.category3

)

select * from final
