{% macro voc_render_dispatch_macros() %}
    {#- CI only: prints the current adapter's rendering of every dispatched macro as one JSON object,
        so tests can check the BigQuery SQL with a BigQuery-dialect parser without reaching BigQuery.
        Each SQL value is a complete statement; config-valued macros render as their value. Keep in step with the adapter.dispatch calls in macros/. -#}
    {%- set rendered = {
        'voc_kst_week_start': 'select ' ~ voc_kst_week_start('tickets.created_at') ~ ' as week_start from tickets',
        'voc_regexp_replace': 'select ' ~ voc_mask_pii('tickets.detail') ~ ' as detail from tickets',
        'voc_nfc': 'select ' ~ voc_clean_text('tickets.category1') ~ ' as category1, '
            ~ voc_ticket_id('tickets.id') ~ ' as ticket_id from tickets',
        'voc_unnest_keywords': 'select keyword from tickets ' ~ voc_unnest_keywords('tickets.keywords'),
        'voc_register_source': voc_register_source() | trim,
        'voc_type_double': 'select cast(1 as ' ~ voc_type_double() ~ ') / 3 as ratio, '
            ~ voc_count_at_least_p('t.x', 't.mu', 't.alpha') ~ ' as p_value, '
            ~ voc_share_at_least_p('t.k', 't.n', 't.share', 't.inflation') ~ ' as share_p_value from t',
        'voc_feedback_table_options': voc_create_feedback_table() | trim,
        'voc_replace_weeks': voc_replace_weeks('report_week_start', voc_previous_week(), voc_report_week()),
    } -%}
    {{ print(tojson(rendered)) }}
{% endmacro %}
