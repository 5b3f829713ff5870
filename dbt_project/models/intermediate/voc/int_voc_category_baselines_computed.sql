-- One row per category per reported week: the category's multi-week baseline (the baseline_weeks
-- weeks before the reported week, a missing week counting as 0), its over-dispersion, this week's
-- expected band, and the p-values of a volume increase, a volume decrease and a negative-share rise.
-- Reads only the weeks this run rebuilt (see voc_scan_start_week), so it never depends on earlier runs.
-- Incremental: a run replaces its reported weeks whole, so a build of another week at the same time
-- keeps its own rows (dbt_project.yml, models).
{{ config(**voc_replace_weeks('report_week_start', voc_first_report_week(), voc_report_week())) }}

{%- set baseline_weeks = [var('baseline_weeks') | int, 1] | max %}
{#- The pooled dispersion counts as this many weeks of a category's own history when the two are
    blended: eight weeks of one category say about as much as the pooled figure. #}
{%- set dispersion_prior_weeks = 8 %}
{#- Two-sided 95% normal quantile, for the expected band. #}
{%- set band_z = 1.959963984540054 %}

with category_weeks as (

    select * from {{ ref('int_voc_category_weeks_filled') }}

),

reported_weeks as (

    select * from category_weeks
    where week_number >= {{ baseline_weeks }}

),

history as (

    select * from category_weeks
    where week_number >= first_data_week_number

),

baseline_summed as (

    select
        reported_weeks.week_start as report_week_start,
        reported_weeks.category1,
        reported_weeks.category2,
        reported_weeks.category3,
        reported_weeks.ticket_count as last_tickets,
        reported_weeks.negative_ticket_count as last_negative_tickets,
        count(history.week_number) as baseline_weeks_used,
        cast(sum(history.ticket_count) as {{ voc_type_double() }}) as baseline_tickets,
        cast(sum(history.negative_ticket_count) as {{ voc_type_double() }}) as baseline_negative_tickets,
        cast(sum(history.ticket_count * history.ticket_count) as {{ voc_type_double() }})
            as baseline_sum_of_squares,
        {{ dbt.listagg(
            'cast(history.ticket_count as ' ~ dbt.type_string() ~ ')',
            "','",
            'order by history.week_number',
        ) }} as baseline_weekly_tickets
    from reported_weeks
    left join history
        on
            reported_weeks.category1 = history.category1
            and reported_weeks.category2 = history.category2
            and reported_weeks.category3 = history.category3
            and history.week_number >= reported_weeks.week_number - {{ baseline_weeks }}
            and reported_weeks.week_number > history.week_number
    group by
        reported_weeks.week_start,
        reported_weeks.category1,
        reported_weeks.category2,
        reported_weeks.category3,
        reported_weeks.ticket_count,
        reported_weeks.negative_ticket_count

),

moments as (

    select
        *,
        case when baseline_weeks_used > 0 then baseline_tickets / baseline_weeks_used end
            as baseline_mean_tickets,
        case
            when baseline_weeks_used > 1
                then
                    (baseline_sum_of_squares - baseline_tickets * baseline_tickets / baseline_weeks_used)
                    / (baseline_weeks_used - 1)
        end as baseline_variance_tickets
    from baseline_summed

),

-- Negative-binomial over-dispersion by the method of moments: variance = mean + alpha * mean^2.
category_dispersion as (

    select
        *,
        case
            when baseline_variance_tickets is not null and baseline_mean_tickets > 0
                then greatest(
                    (baseline_variance_tickets - baseline_mean_tickets)
                    / (baseline_mean_tickets * baseline_mean_tickets),
                    0.0
                )
        end as category_alpha
    from moments

),

-- The same estimate pooled over every category of the week (a ratio of sums, so the categories
-- with the most tickets, whose estimates are the most precise, weigh most).
pooled_dispersion as (

    select
        report_week_start,
        greatest(
            sum(baseline_variance_tickets - baseline_mean_tickets)
            / nullif(sum(baseline_mean_tickets * baseline_mean_tickets), 0),
            0.0
        ) as pooled_alpha
    from category_dispersion
    where baseline_variance_tickets is not null and baseline_mean_tickets > 0
    group by report_week_start

),

-- A few weeks of one category are a noisy estimate: shrink it toward the pooled one.
shrunk as (

    select
        category_dispersion.*,
        case
            when category_dispersion.category_alpha is null
                then coalesce(pooled_dispersion.pooled_alpha, {{ var('default_dispersion') }})
            else (
                (category_dispersion.baseline_weeks_used - 1) * category_dispersion.category_alpha
                + {{ dispersion_prior_weeks }}
                * coalesce(pooled_dispersion.pooled_alpha, {{ var('default_dispersion') }})
            ) / (category_dispersion.baseline_weeks_used - 1 + {{ dispersion_prior_weeks }})
        end as baseline_dispersion
    from category_dispersion
    left join pooled_dispersion
        on category_dispersion.report_week_start = pooled_dispersion.report_week_start

),

-- The count this week is tested against: the baseline mean (a history without tickets counts as
-- half a ticket over its weeks, so a new category is measurable), with variance
-- dispersion_factor * mean. The factor is the negative binomial's (1 + alpha * mean), times
-- (1 + 1 / weeks) for the uncertainty of a mean estimated from that many weeks.
test_parameters as (

    select
        *,
        greatest(baseline_mean_tickets, 0.5 / baseline_weeks_used) as tested_mean_tickets,
        (1.0 + baseline_dispersion * greatest(baseline_mean_tickets, 0.5 / baseline_weeks_used))
        * (1.0 + 1.0 / baseline_weeks_used) as dispersion_factor,
        cast(last_tickets as {{ voc_type_double() }}) as last_tickets_value,
        cast(last_negative_tickets as {{ voc_type_double() }}) as last_negative_tickets_value
    from shrunk
    where baseline_weeks_used > 0

),

z_scores as (

    select
        *,
        case
            when last_tickets > 0
                then {{ voc_count_increase_z('last_tickets_value', 'tested_mean_tickets', 'dispersion_factor') }}
        end as increase_z,
        {{ voc_count_decrease_z('last_tickets_value', 'tested_mean_tickets', 'dispersion_factor') }}
            as decrease_z,
        {{ voc_proportion_rise_z(
            'last_negative_tickets_value', 'last_tickets_value',
            'baseline_negative_tickets', 'baseline_tickets',
        ) }} as negative_rise_z
    from test_parameters

),

p_values as (

    select
        *,
        case when last_tickets = 0 then 1.0 else {{ voc_normal_upper_tail('increase_z') }} end
            as p_value_increase,
        {{ voc_normal_upper_tail('decrease_z') }} as p_value_decrease,
        -- No negative tickets at all, or only negative ones: the share cannot have risen.
        case
            when
                last_negative_tickets_value + baseline_negative_tickets = 0
                or last_negative_tickets_value + baseline_negative_tickets = last_tickets_value + baseline_tickets
                then case when negative_rise_z is not null then 1.0 end
            else {{ voc_normal_upper_tail('negative_rise_z') }}
        end as p_value_negative_rise,
        {{ band_z }} * sqrt(dispersion_factor * tested_mean_tickets) as band_half_width
    from z_scores

),

final as (

    select
        shrunk.report_week_start,
        shrunk.category1,
        shrunk.category2,
        shrunk.category3,
        shrunk.last_tickets,
        shrunk.last_negative_tickets,
        shrunk.baseline_weeks_used,
        shrunk.baseline_weekly_tickets,
        shrunk.baseline_mean_tickets,
        case
            when shrunk.baseline_tickets > 0
                then shrunk.baseline_negative_tickets / shrunk.baseline_tickets
        end as baseline_neg_ratio,
        case when shrunk.baseline_weeks_used > 0 then shrunk.baseline_dispersion end as baseline_dispersion,
        case
            when p_values.band_half_width is not null
                then greatest(shrunk.baseline_mean_tickets - p_values.band_half_width, 0.0)
        end as expected_tickets_low,
        shrunk.baseline_mean_tickets + p_values.band_half_width as expected_tickets_high,
        p_values.p_value_increase,
        p_values.p_value_decrease,
        p_values.p_value_negative_rise
    from shrunk
    left join p_values
        on
            shrunk.report_week_start = p_values.report_week_start
            and shrunk.category1 = p_values.category1
            and shrunk.category2 = p_values.category2
            and shrunk.category3 = p_values.category3

)

select * from final
