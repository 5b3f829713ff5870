{% macro get_fixture_sql(rows, column_name_to_data_types) -%}
    {#- dbt's unit-test fixture, for ephemeral inputs too. dbt types a dict or CSV fixture by reading
        the input's columns from its relation in the warehouse, and an ephemeral model has none
        (dbt-core#11263), so its columns come from voc_ephemeral_model_columns. Every other input
        is dbt's own fixture. -#}
    {%- set columns = voc_ephemeral_model_columns().get(model.name) -%}
    {%- if column_name_to_data_types or columns is none -%}
        {{- return(dbt.get_fixture_sql(rows, column_name_to_data_types)) -}}
    {%- endif -%}
    {%- for row in rows or [{}] %}
        {%- set given = format_row(row, columns) %}
        select
        {%- for name, data_type in columns.items() %}
            {{ given.get(name, safe_cast('null', data_type)) }} as {{ adapter.quote(name) }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
        {%- if not rows %}
        limit 0
        {%- elif not loop.last %}
        union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{% macro voc_ephemeral_model_columns() -%}
    {#- The columns of the ephemeral models and their types, for unit-test fixtures that give their
        rows (get_fixture_sql). A column added to one of these models is added here too. -#}
    {%- set string, date, timestamp = dbt.type_string(), 'date', dbt.type_timestamp() -%}
    {%- set integer, bigint, boolean, double = dbt.type_int(), dbt.type_bigint(), dbt.type_boolean(),
        voc_type_double() -%}
    {{ return({
        'stg_zendesk__voc_tickets': {
            'ticket_id': string, 'created_at': timestamp, 'week_start': date,
            'category1': string, 'category2': string, 'category3': string, 'category_label': string,
            'emotion': string, 'is_negative': dbt.type_boolean(),
            'title': string, 'detail': string, 'main_topic': string, 'keywords': string,
        },
        'stg_zendesk__voc_tickets_compared': {
            'ticket_id': string, 'created_at': timestamp, 'week_start': date,
            'category1': string, 'category2': string, 'category3': string, 'category_label': string,
            'emotion': string, 'is_negative': dbt.type_boolean(),
            'title': string, 'detail': string, 'main_topic': string, 'keywords': string,
        },
        'stg_zendesk__voc_tickets_rejected': {
            'created_at': timestamp, 'week_start': date, 'rejection_reason': string,
        },
        'stg_slack__voc_flag_feedback': {
            'report_week_start': date, 'category1': string, 'category2': string, 'category3': string,
            'reaction': string, 'feedback': string, 'user_id': string, 'message_ts': string,
            'read_at': timestamp,
        },
        'int_voc_category_weeks_filled': {
            'category1': string, 'category2': string, 'category3': string, 'category_label': string,
            'week_start': date, 'week_number': dbt.type_int(),
            'ticket_count': dbt.type_bigint(), 'negative_ticket_count': dbt.type_bigint(),
            'first_data_week_number': dbt.type_int(),
        },
        'int_voc_category_weeks_classified': {
            'category_label': string, 'category1': string, 'category2': string, 'category3': string,
            'week_start': date, 'week_number': integer,
            'previous_tickets': bigint, 'reported_tickets': bigint,
            'previous_negative_tickets': bigint, 'reported_negative_tickets': bigint,
            'volume': bigint, 'is_up_from_zero': boolean, 'severity': string, 'pct_change': double,
            'previous_neg_ratio': double, 'reported_neg_ratio': double, 'neg_ratio_delta_pp': double,
            'week_severity': string, 'previous_severity': string, 'flagged_weeks_in_a_row': bigint,
        },
        'int_voc_category_evidence': {
            'report_week_start': date, 'category1': string, 'category2': string, 'category3': string,
            'baseline_weeks_used': integer, 'baseline_weekly_tickets': string,
            'baseline_mean_tickets': double, 'baseline_neg_ratio': double, 'baseline_dispersion': double,
            'expected_tickets_low': double, 'expected_tickets_high': double,
            'p_value_increase': double, 'p_value_decrease': double, 'p_value_negative_rise': double,
            'q_value_increase': double, 'q_value_decrease': double, 'q_value_negative_rise': double,
        },
        'int_voc_categories_flagged': {
            'report_week_start': date, 'category1': string, 'category2': string, 'category3': string,
            'severity': string,
        },
        'int_voc_category_tickets_flagged': {
            'report_week_start': date, 'severity': string,
            'ticket_id': string, 'created_at': timestamp, 'week_start': date,
            'category1': string, 'category2': string, 'category3': string, 'category_label': string,
            'emotion': string, 'is_negative': dbt.type_boolean(),
            'title': string, 'detail': string, 'main_topic': string, 'keywords': string,
        },
        'int_voc_categories_snoozed': {
            'report_week_start': date, 'category1': string, 'category2': string, 'category3': string,
            'snoozed_week_start': date, 'snoozed_until': date,
        },
    }) }}
{%- endmacro %}
