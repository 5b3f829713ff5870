-- One row per category per reported week of voc_weekly_comparison: who gets asked about it. The
-- owners seed's most specific matching row wins (all three levels, then two, then one, then the
-- catch-all; an empty level matches any value). A view: the seed can change any time, and the
-- reply reads the owners as they are when it is posted.

with comparison as (

    select * from {{ ref('voc_weekly_comparison') }}

),

owner_rules as (

    select * from {{ ref('voc_category_owners') }}

),

cleaned_rules as (

    select
        nullif({{ voc_trim('category1') }}, '') as category1,
        nullif({{ voc_trim('category2') }}, '') as category2,
        nullif({{ voc_trim('category3') }}, '') as category3,
        nullif({{ voc_trim(voc_regexp_replace('owners', '\\s+', ' ')) }}, '') as owners,
        note,
        true as is_rule
    from owner_rules

),

matched as (

    select
        comparison.report_week_start,
        comparison.category_label,
        comparison.category1,
        comparison.category2,
        comparison.category3,
        cleaned_rules.owners,
        {{ voc_row_name(['cleaned_rules.category1', 'cleaned_rules.category2', 'cleaned_rules.category3']) }}
            as owners_rule,
        cleaned_rules.note as owners_note,
        cleaned_rules.is_rule,
        row_number() over (
            partition by
                comparison.report_week_start,
                comparison.category1,
                comparison.category2,
                comparison.category3
            order by
                case when cleaned_rules.category1 is null then 0 else 1 end
                + case when cleaned_rules.category2 is null then 0 else 1 end
                + case when cleaned_rules.category3 is null then 0 else 1 end desc,
                cleaned_rules.category3 is null,
                cleaned_rules.category2 is null
        ) as specificity_rank
    from comparison
    left join cleaned_rules
        on
            (cleaned_rules.category1 is null or comparison.category1 = cleaned_rules.category1)
            and (cleaned_rules.category2 is null or comparison.category2 = cleaned_rules.category2)
            and (cleaned_rules.category3 is null or comparison.category3 = cleaned_rules.category3)

),

final as (

    select
        report_week_start,
        category_label,
        category1,
        category2,
        category3,
        owners,
        case when is_rule then owners_rule end as owners_rule,
        owners_note
    from matched
    where specificity_rank = 1

)

select * from final
