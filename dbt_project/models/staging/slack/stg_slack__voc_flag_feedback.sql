-- One row per reply message, reaction and user: the team's reactions on the report's thread replies,
-- with what each reaction means. Reactions other than the four feedback ones are left out.

with source as (

    select * from {{ source('slack', 'voc_flag_feedback') }}

),

renamed as (

    select
        cast(report_week_start as date) as report_week_start,
        category1,
        category2,
        category3,
        reaction,
        case reaction
            when '+1' then 'useful'
            when '-1' then 'false_alarm'
            when 'white_check_mark' then 'handled'
            when 'no_bell' then 'snooze'
        end as feedback,
        user_id,
        message_ts,
        read_at
    from source

),

final as (

    select * from renamed
    where feedback is not null

)

select * from final
