-- One row per reported week per roll-up of the category hierarchy: each category1 (level 1) and
-- each category1 / category2 (level 2) with tickets in the reported week or the week before, as a
-- whole: its counts, its evidence against its own multi-week baseline (the same statistics as the
-- categories, int_voc_category_baselines_computed), a Benjamini–Hochberg q-value across the week's
-- roll-ups, and the children that drive the change. A change spread thinly over many small
-- categories shows here even when no single category is significant.
-- Incremental: a run replaces its reported weeks whole, as voc_weekly_comparison does.
{{ config(**voc_replace_weeks('report_week_start', voc_first_report_week(), voc_report_week())) }}

{#- The share of a roll-up's change its significant children must carry to explain it. #}
{%- set explained_share = 0.5 %}

with units as (

    -- The baselines model keeps every week built so far: this run's weeks only.
    select * from {{ ref('int_voc_category_baselines_computed') }}
    where
        report_week_start >= {{ voc_date_literal(voc_first_report_week()) }}
        and report_week_start <= {{ voc_date_literal(voc_report_week()) }}

),

comparison as (

    select * from {{ ref('voc_weekly_comparison') }}
    where
        report_week_start >= {{ voc_date_literal(voc_first_report_week()) }}
        and report_week_start <= {{ voc_date_literal(voc_report_week()) }}

),

rollups as (

    select * from units
    where level in (1, 2) and (previous_tickets > 0 or reported_tickets > 0)

),

-- Benjamini–Hochberg over one family per week: every roll-up's three one-sided hypotheses (as for
-- the categories, apart from them).
hypothesis_q_values as (

    {{ voc_benjamini_hochberg('rollups', ['level', 'category1', 'category2']) }}

),

-- The roll-up's strongest hypothesis: its q-value and direction.
strongest as (

    select
        report_week_start,
        level,
        category1,
        category2,
        direction,
        q_value
    from (
        select
            *,
            row_number() over (
                partition by report_week_start, level, category1, category2
                order by q_value asc, p_value asc, direction asc
            ) as strength_rank
        from hypothesis_q_values
    ) as ranked
    where strength_rank = 1

),

rollup_evidence as (

    select
        rollups.*,
        strongest.direction as strongest_direction,
        strongest.q_value,
        coalesce(strongest.q_value <= {{ var('fdr_alpha') }}, false) as is_significant
    from rollups
    left join strongest
        on
            rollups.report_week_start = strongest.report_week_start
            and rollups.level = strongest.level
            and rollups.category1 = strongest.category1
            and rollups.category2 = strongest.category2

),

-- The direct children: a category1's category2 roll-ups, a category1 / category2's categories.
children as (

    select
        report_week_start,
        1 as parent_level,
        category1,
        '' as parent_category2,
        category2 as child_name,
        previous_tickets as before_tickets,
        reported_tickets as after_tickets,
        previous_negative_tickets as before_negative_tickets,
        reported_negative_tickets as after_negative_tickets,
        is_significant
    from rollup_evidence
    where level = 2
    union all
    select
        report_week_start,
        2 as parent_level,
        category1,
        category2 as parent_category2,
        category3 as child_name,
        previous_tickets as before_tickets,
        reported_tickets as after_tickets,
        previous_negative_tickets as before_negative_tickets,
        reported_negative_tickets as after_negative_tickets,
        is_significant
    from comparison

),

-- Each child's change in the measure of its parent's direction: tickets, or negative tickets for a
-- negative-share rise. Positive when it moves the parent's way.
child_changes as (

    select
        children.*,
        rollup_evidence.strongest_direction,
        case rollup_evidence.strongest_direction
            when 'negative_rise' then children.after_negative_tickets - children.before_negative_tickets
            when 'decrease' then children.before_tickets - children.after_tickets
            else children.after_tickets - children.before_tickets
        end as change_towards_parent
    from children
    inner join rollup_evidence
        on
            children.report_week_start = rollup_evidence.report_week_start
            and children.parent_level = rollup_evidence.level
            and children.category1 = rollup_evidence.category1
            and children.parent_category2 = rollup_evidence.category2

),

ranked_children as (

    select
        *,
        row_number() over (
            partition by report_week_start, parent_level, category1, parent_category2
            order by change_towards_parent desc, child_name asc
        ) as driver_rank
    from child_changes

),

driver_texts as (

    select
        *,
        case
            when driver_rank <= 3 and change_towards_parent > 0
                then {{ dbt.concat([
                    'child_name', "' '",
                    'cast(case when strongest_direction = ' ~ "'negative_rise'" ~ ' then before_negative_tickets else before_tickets end as ' ~ dbt.type_string() ~ ')',
                    "'→'",
                    'cast(case when strongest_direction = ' ~ "'negative_rise'" ~ ' then after_negative_tickets else after_tickets end as ' ~ dbt.type_string() ~ ')',
                ]) }}
        end as driver_text
    from ranked_children

),

children_summarized as (

    select
        report_week_start,
        parent_level,
        category1,
        parent_category2,
        count(*) as child_categories,
        cast(sum(case when is_significant then 1 else 0 end) as {{ dbt.type_bigint() }}) as significant_children,
        sum(case when is_significant and change_towards_parent > 0 then change_towards_parent else 0 end)
            as significant_children_change,
        -- Up to three children that moved most the roll-up's way, with their counts before → after.
        {{ dbt.listagg('driver_text', "', '", 'order by driver_rank') }} as top_drivers
    from driver_texts
    group by report_week_start, parent_level, category1, parent_category2

),

final as (

    select
        rollup_evidence.report_week_start,
        cast({{ dbt.dateadd('day', -7, 'rollup_evidence.report_week_start') }} as date) as previous_week_start,
        rollup_evidence.level,
        rollup_evidence.category1,
        case when rollup_evidence.level = 2 then rollup_evidence.category2 end as category2,
        case
            when rollup_evidence.level = 2
                then {{ dbt.concat(['rollup_evidence.category1', "' / '", 'rollup_evidence.category2']) }}
            else rollup_evidence.category1
        end as rollup_label,
        rollup_evidence.reported_tickets,
        rollup_evidence.previous_tickets,
        rollup_evidence.reported_tickets - rollup_evidence.previous_tickets as ticket_change,
        case
            when rollup_evidence.previous_tickets > 0
                then
                    100 * cast(
                        rollup_evidence.reported_tickets - rollup_evidence.previous_tickets
                        as {{ voc_type_double() }}
                    ) / rollup_evidence.previous_tickets
        end as pct_change,
        rollup_evidence.reported_negative_tickets,
        rollup_evidence.previous_negative_tickets,
        case
            when rollup_evidence.reported_tickets > 0
                then cast(rollup_evidence.reported_negative_tickets as {{ voc_type_double() }}) / rollup_evidence.reported_tickets
        end as reported_neg_ratio,
        case
            when rollup_evidence.previous_tickets > 0
                then
                    cast(rollup_evidence.previous_negative_tickets as {{ voc_type_double() }})
                    / rollup_evidence.previous_tickets
        end as previous_neg_ratio,
        coalesce(rollup_evidence.baseline_weeks_used, 0) as baseline_weeks_used,
        rollup_evidence.baseline_weekly_tickets,
        rollup_evidence.baseline_mean_tickets,
        rollup_evidence.baseline_neg_ratio as baseline_mean_negative_ratio,
        rollup_evidence.expected_tickets_low,
        rollup_evidence.expected_tickets_high,
        rollup_evidence.p_value_increase,
        rollup_evidence.p_value_decrease,
        rollup_evidence.p_value_negative_rise,
        rollup_evidence.q_value,
        rollup_evidence.is_significant,
        rollup_evidence.strongest_direction as direction,
        coalesce(children_summarized.child_categories, 0) as child_categories,
        coalesce(children_summarized.significant_children, 0) as significant_children,
        children_summarized.top_drivers,
        -- Significant children carry at least half of the roll-up's change in its direction
        -- (week over week): the summary lists the children, not the roll-up.
        coalesce(
            children_summarized.significant_children_change
            >= {{ explained_share }} * (
                case rollup_evidence.strongest_direction
                    when 'negative_rise'
                        then rollup_evidence.reported_negative_tickets - rollup_evidence.previous_negative_tickets
                    when 'decrease' then rollup_evidence.previous_tickets - rollup_evidence.reported_tickets
                    else rollup_evidence.reported_tickets - rollup_evidence.previous_tickets
                end
            )
            and children_summarized.significant_children_change > 0,
            false
        ) as is_explained_by_children
    from rollup_evidence
    left join children_summarized
        on
            rollup_evidence.report_week_start = children_summarized.report_week_start
            and rollup_evidence.level = children_summarized.parent_level
            and rollup_evidence.category1 = children_summarized.category1
            and rollup_evidence.category2 = children_summarized.parent_category2

),

-- The names before this release, kept one release for dashboards that read them (README, "Upgrading"):
-- "baseline" now means only the multi-week history, the week before is "previous", this week "reported".
with_deprecated_names as (

    select
        *,
        previous_week_start as baseline_week_start,
        previous_tickets as baseline_tickets,
        previous_negative_tickets as baseline_negative_tickets,
        reported_neg_ratio as negative_ratio,
        previous_neg_ratio as baseline_negative_ratio
    from final

)

select * from with_deprecated_names
