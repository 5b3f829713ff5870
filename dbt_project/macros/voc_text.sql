{#- Text cleaning shared by every model that touches ticket text. -#}

{% macro voc_mask_pii(expression) -%}
    {#- Replaces personal data with placeholders (SPEC §6). Applied in staging, so no unmasked text ever
        leaves the warehouse. Order matters: specific shapes first, then the generic digit runs.
        Patterns are RE2 (DuckDB and BigQuery both use it) and must not contain a single quote. -#}
    {%- set rules = [
        ('(https?://[^\\s/?#<>"]+)[/?#][^\\s<>"]*', '\\1/[URL]'),
        ('[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}', '[이메일]'),
        ('((?:계좌|입금|환불)\\s*(?:번호)?\\s*[:：]?\\s*(?:[가-힣A-Za-z]{2,6}(?:은행)?\\s*)?)\\d[\\d\\s-]{6,}\\d', '\\1[계좌번호]'),
        ('((?:생년월일|생일|출생)\\s*[:：은는이]?\\s*)\\d{2,4}\\s*[./년-]\\s*\\d{1,2}\\s*[./월-]\\s*\\d{1,2}일?', '\\1[생년월일]'),
        ('\\b\\d{6}\\s?-\\s?[1-8]\\d{6}\\b', '[주민번호]'),
        ('\\b\\d{4}[- ]\\d{4}[- ]\\d{4}[- ]\\d{4}\\b', '[카드번호]'),
        ('\\b\\d{3}-\\d{2}-\\d{5}\\b', '[사업자번호]'),
        ('\\+82[-\\s.]?\\(?0?\\)?\\d{1,2}[-\\s.)]{0,2}\\d{3,4}[-\\s.]?\\d{4}\\b', '[전화번호]'),
        ('\\b0\\d{1,2}[-\\s.)]\\d{3,4}[-\\s.]\\d{4}\\b|\\b01[016789]\\d{7,8}\\b', '[전화번호]'),
        ('\\b\\d{3,6}-\\d{2,6}-\\d{4,7}\\b', '[계좌번호]'),
        ('\\b\\d{1,3}(?:\\.\\d{1,3}){3}\\b', '[IP]'),
        ('\\d{8,}', '[숫자]'),
    ] -%}
    {%- set masked = namespace(sql=expression) -%}
    {%- for pattern, replacement in rules -%}
        {%- set masked.sql = voc_regexp_replace(masked.sql, pattern, replacement) -%}
    {%- endfor -%}
    {{ masked.sql }}
{%- endmacro %}

{% macro voc_trim(expression) -%}
    {#- Strip leading and trailing whitespace of any kind (tabs, newlines, no-break and ideographic spaces), the
        same on every adapter: DuckDB's trim() removes only spaces. -#}
    {{ voc_regexp_replace(expression, '^[\\s\\p{Z}]+|[\\s\\p{Z}]+$', '') }}
{%- endmacro %}

{% macro voc_truncate(expression, max_chars) -%}
    {#- Cuts text to max_chars, marking the cut with an ellipsis so nobody mistakes it for the whole. -#}
    case
        when length({{ expression }}) > {{ max_chars }}
            then {{ dbt.concat(["substr(" ~ expression ~ ", 1, " ~ (max_chars - 1) ~ ")", "'…'"]) }}
        else {{ expression }}
    end
{%- endmacro %}

{% macro voc_regexp_replace(expression, pattern, replacement) -%}
    {#- Replace every match of an RE2 pattern. -#}
    {{ return(adapter.dispatch('voc_regexp_replace', 'voc_weekly')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__voc_regexp_replace(expression, pattern, replacement) -%}
    {#- DuckDB replaces only the first match unless told 'g'; its string literals keep backslashes. -#}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro bigquery__voc_regexp_replace(expression, pattern, replacement) -%}
    {#- BigQuery replaces every match; raw strings keep the backslashes of the pattern. -#}
    regexp_replace({{ expression }}, r'{{ pattern }}', r'{{ replacement }}')
{%- endmacro %}

{% macro voc_unnest_keywords(keywords_column) -%}
    {#- A join clause giving one row per comma-separated keyword, as column `keyword`. -#}
    {{ return(adapter.dispatch('voc_unnest_keywords', 'voc_weekly')(keywords_column)) }}
{%- endmacro %}

{% macro default__voc_unnest_keywords(keywords_column) -%}
    cross join unnest(string_split({{ keywords_column }}, ',')) as split_keywords (keyword)
{%- endmacro %}

{% macro bigquery__voc_unnest_keywords(keywords_column) -%}
    cross join unnest(split({{ keywords_column }}, ',')) as keyword
{%- endmacro %}
