{% macro voc_render_pii_mask() %}
    {#- CI only: prints the current adapter's rendering of voc_mask_pii over `tickets.detail` as JSON, so
        the masking corpus runs through the exact SQL staging uses with one dbt call per test session. -#}
    {{ print(tojson({'voc_mask_pii': voc_mask_pii('tickets.detail')})) }}
{% endmacro %}
