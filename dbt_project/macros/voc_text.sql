{#- Text cleaning shared by every model that touches ticket text. -#}

{% macro voc_mask_pii(expression) -%}
    {#- Replaces personal data with placeholders (SPEC §6), by class rather than by spelling. Applied in
        staging, so no unmasked text ever leaves the warehouse; tests/pii_corpus.py lists what each rule
        must catch and what must survive (dates, times, prices, counts, versions).
        Full-width forms are folded to ASCII first, so one set of rules covers both widths. Then the
        specific shapes run before the generic ones. Patterns are RE2 (DuckDB and BigQuery both use it):
        no lookaround, so a number's edges are explicit non-digit captures re-emitted by the replacement;
        `\b` as a third leading alternative starts a match right after one that consumed the separator.
        Patterns must not contain a single quote. Business numbers such as 1588-1234 are not personal
        and stay. -#}
    {#- A slash separates digits only on its own: '5678 / 0109…' is a list, not one number. -#}
    {%- set sep = '[\\s\\p{Z}\\p{Pd}\\p{Cf}.~_−ㅡ─]' -%}
    {%- set gap = '(?:' ~ sep ~ '{0,3}|/)' -%}
    {%- set split = '(?:' ~ sep ~ '{1,3}|/)' -%}
    {%- set dash = '\\s?[\\p{Pd}−ㅡ~]\\s?' -%}
    {%- set start = '(^|[^0-9]|\\b)' -%}
    {%- set end = '([^0-9]|$)' -%}
    {%- set area = '0(?:1[016789]|2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70|80|50[0-9])' -%}
    {%- set dial = '(?:(?:\\+|00[0-9]{0,3})' ~ gap ~ ')?' -%}
    {%- set hint = '[가-힣\\s:：]{0,8}' -%}
    {%- set region = '(?:서울|부산|경기|강원|충북|충남|전북|전남|경북|경남|제주|대구|인천|광주|대전|울산)' -%}
    {%- set banks = '(?:KB|NH|IBK|SC|KEB|국민|신한|우리|하나|농협|기업|카카오뱅크|카카오|토스뱅크|토스|케이뱅크|SC제일|제일|씨티|새마을금고|새마을|우체국|수협|신협|산업|부산|대구|광주|전북|경남|제주)(?:은행)?' -%}
    {%- set birth_date = '(?:(?:19|20)?[0-9]{2}\\s?[./\\p{Pd}년]\\s?[0-9]{1,2}\\s?[./\\p{Pd}월]\\s?[0-9]{1,2}(?:\\s?일)?'
        ~ '|[0-9]{1,2}\\s?월\\s?[0-9]{1,2}\\s?일|(?:19|20)?[0-9]{6}|(?:19|20)[0-9]{2}(?:\\s?년)?)' -%}
    {%- set octet = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])' -%}
    {%- set hex = '[0-9A-Fa-f]{1,4}' -%}
    {#- URL paths and queries may carry tokens and names: keep the scheme and host only. -#}
    {%- set url = ('((?i:https?://|www\\.)[^\\s/?#<>"]+)[/?#][^\\s<>"]*', '\\1/[URL]') -%}
    {#- Emails, non-ASCII names and domains included, and spelled-out ats ([at], 골뱅이). -#}
    {%- set email = ('[\\p{L}\\p{N}._%+\\-]+\\s?(?:@|\\[at\\]|\\(at\\)|\\s골뱅이\\s)\\s?(?:[\\p{L}\\p{N}\\-]+\\.)+'
        ~ '(?:xn--[A-Za-z0-9\\-]+|[A-Za-z]{2,}|한국|[\\p{Han}\\p{Hiragana}\\p{Katakana}]{1,4})', '[이메일]') -%}
    {#- Resident and foreign registration numbers: a date, then 1-8 and six digits (or masks like 1******).
        Glued into 13 digits only after 주민/외국인/등록: a bare 13-digit run may be an account. -#}
    {%- set resident = ('(?:' ~ start ~ '[0-9]{2}[01][0-9][0-3][0-9]' ~ split ~ '[1-8][0-9*xX]{6}'
        ~ '|((?:주민|외국인|등록)' ~ hint ~ ')[0-9]{2}[01][0-9][0-3][0-9]' ~ gap ~ '[1-8][0-9*xX]{6})' ~ end,
        '\\1\\2[주민번호]\\3') -%}
    {#- Card numbers 4-4-4-4 (middle groups may be masked with *) and Amex 4-6-5. -#}
    {%- set card = (start ~ '(?:[0-9]{4}(?:' ~ gap ~ '[0-9*]{4}){2}' ~ gap ~ '[0-9]{4}|[0-9]{4}' ~ gap ~ '[0-9]{6}' ~ gap ~ '[0-9]{5})' ~ end,
        '\\1[카드번호]\\2') -%}
    {#- Driver's licences 2-2-6-2, the first part a number or a region; glued only after 면허. -#}
    {%- set licence = ('(?:' ~ start ~ '(?:[0-9]{2}' ~ split ~ '|' ~ region ~ gap ~ ')[0-9]{2}' ~ split ~ '[0-9]{6}' ~ split ~ '[0-9]{2}'
        ~ '|(면허' ~ hint ~ ')(?:[0-9]{2}|' ~ region ~ ')' ~ gap ~ '[0-9]{2}' ~ gap ~ '[0-9]{6}' ~ gap ~ '[0-9]{2})' ~ end,
        '\\1\\2[운전면허번호]\\3') -%}
    {#- Passports: M/S/R/G/D and 8 digits, or the newer 3 digits, a letter, 4 digits; other prefixes only after 여권. -#}
    {%- set passport = ('(?:(^|[^A-Za-z0-9]|\\b)[MSRGDmsrgd][0-9]{3}[A-Za-z0-9][0-9]{4}'
        ~ '|(여권' ~ hint ~ ')[A-Za-z]{1,2}[0-9]{3}[A-Za-z0-9]?[0-9]{4})([^A-Za-z0-9]|$)', '\\1\\2[여권번호]\\3') -%}
    {#- Business registration numbers 3-2-5; glued only after 사업자. -#}
    {%- set business = ('(?:' ~ start ~ '[0-9]{3}' ~ split ~ '[0-9]{2}' ~ split ~ '[0-9]{5}'
        ~ '|(사업자' ~ hint ~ ')[0-9]{3}' ~ gap ~ '[0-9]{2}' ~ gap ~ '[0-9]{5})' ~ end, '\\1\\2[사업자번호]\\3') -%}
    {#- Accounts after a bank name or a money word, in any grouping with a long group, 10-14 glued
        digits or 3-4/3-4/4(/1-3) groups; elsewhere only dash-separated numbers with a 5-7 digit group.
        Before phones: '3333 02 9876543' is an account whose middle looks like a Seoul number. -#}
    {%- set account = ('(?:((?:' ~ banks ~ '|계좌|입금|환불|송금|이체)[가-힣A-Za-z\\s:：()]{0,12})'
        ~ '(?:[1-9][0-9]{9,13}|[0-9]{2,6}(?:' ~ split ~ '[0-9]{1,7}){0,2}' ~ split ~ '[0-9]{5,7}(?:' ~ split ~ '[0-9]{1,7}){0,2}'
        ~ '|[1-9][0-9]{2,3}' ~ split ~ '[0-9]{3,4}' ~ split ~ '[0-9]{4}(?:' ~ split ~ '[0-9]{1,3})?)'
        ~ '|' ~ start ~ '[0-9]{2,6}' ~ dash ~ '(?:[0-9]{5,7}' ~ dash ~ '[0-9]{2,7}|[0-9]{2,7}' ~ dash ~ '[0-9]{5,7})'
        ~ '(?:' ~ dash ~ '[0-9]{1,7})?)' ~ end, '\\1\\2[계좌번호]\\3') -%}
    {#- Phones: +82/82/0082 (and +82 (0)) or a Korean area/mobile/050x/070/080 prefix, then 3-4 and 4
        digits. 1588-style business numbers have no leading 0 and stay. -#}
    {%- set phone = (start ~ '(?:(?:\\(' ~ dial ~ '82\\)|' ~ dial ~ '82)' ~ gap ~ '(?:\\(0\\)|0)?' ~ gap
        ~ '(?:\\([1-9][0-9]?\\)|[1-9][0-9]?)|\\(' ~ area ~ '\\)|' ~ area ~ ')' ~ gap ~ '[0-9]{3,4}' ~ gap ~ '[0-9]{4}' ~ end,
        '\\1[전화번호]\\2') -%}
    {#- Birth dates only after 생년월일/생일/출생/DOB: elsewhere a date is ordinary text. -#}
    {%- set birth = ('((?:생년월일|생일|출생[가-힣]{0,2}|(?i:dob|birth))[\\s:：은는이가()]{0,4})' ~ birth_date ~ end, '\\1[생년월일]\\2') -%}
    {#- IPv4 (octets up to 255, not inside a version like v1.2.3.4) and IPv6. -#}
    {%- set ip = ('(^|[^0-9A-Za-z.:]|\\b)(?:' ~ octet ~ '(?:\\.' ~ octet ~ '){3}|' ~ hex ~ '(?::' ~ hex ~ '){7}'
        ~ '|' ~ hex ~ '(?::' ~ hex ~ '){0,6}::(?:' ~ hex ~ '(?::' ~ hex ~ '){0,6})?)([^0-9A-Za-z]|$)', '\\1[IP]\\2') -%}
    {#- Any other run of 8+ digits, except an amount glued to 원. -#}
    {%- set digits = ('[0-9]{8,}([^0-9원]|$)', '[숫자]\\1') -%}
    {%- set rules = [url, email, resident, card, licence, passport, business, account, phone, birth, ip, digits] -%}
    {#- Full-width ASCII forms (and the ideographic space) as ASCII; the apostrophe and backslash are
        left out because they would need escaping differently on each adapter. -#}
    {%- set masked = namespace(sql="translate(" ~ expression
        ~ ", '！＂＃＄％＆（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　'"
        ~ ", '!\"#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~ ')") -%}
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

{% macro voc_invisible_pattern() -%}
    {#- Characters no one can see that still make two texts differ: format characters (zero-width
        spaces and joiners, the byte-order mark, bidi marks: Unicode Cf) and control characters other
        than whitespace (C0, DEL, C1). -#}
    {{ return('[\\x00-\\x08\\x0B\\x0E-\\x1F\\x7F-\\x9F\\p{Cf}]') }}
{%- endmacro %}

{% macro voc_clean_text(expression) -%}
    {#- Text that is compared or grouped (ids, the category levels, the emotion, keywords), the same
        on every adapter: invisible characters removed, Unicode NFC, whitespace trimmed. '부정' typed
        in NFD (decomposed jamo), with a zero-width space or a BOM, is then '부정', and a category in
        NFD is the same category as in NFC, not a second one that looks identical in Slack. -#}
    {{ voc_trim(voc_nfc(voc_regexp_replace(expression, voc_invisible_pattern(), ''))) }}
{%- endmacro %}

{% macro voc_strip_controls(expression) -%}
    {#- Free text (titles, bodies): control characters removed, tab and newline kept. Nothing from a
        ticket can then clear a terminal, retitle its window or hide text (ESC sequences), in a
        preview, a prompt or a Slack message. -#}
    {{ voc_regexp_replace(expression, '[\\x00-\\x08\\x0B-\\x1F\\x7F-\\x9F]', '') }}
{%- endmacro %}

{% macro voc_missing_texts() -%}
    {#- What exports write for "no value" (pandas' and spreadsheets' placeholders), lowercase. -#}
    {{ return(['', 'none', 'null', 'nan', 'nat', 'na', 'n/a', '<na>', '#n/a', '#na', 'nil', 'undefined',
        '-nan', '-']) }}
{%- endmacro %}

{% macro voc_nullif_placeholder(cleaned) -%}
    {#- Cleaned text (voc_clean_text), or NULL when it is blank or a placeholder ('None', 'nan', …). -#}
    case
        when lower({{ cleaned }}) in ('{{ voc_missing_texts() | join("', '") }}') then null
        else {{ cleaned }}
    end
{%- endmacro %}

{% macro voc_ticket_id(column) -%}
    {#- A source id as the ticket's key: text, cleaned like every compared text (so ' D13', 'D13 ' and
        'D13' are one ticket), and NULL when blank or a placeholder: such rows are counted as rows
        without an id (stg_zendesk__voc_tickets_rejected), never merged into a few "tickets". -#}
    {{ voc_nullif_placeholder(voc_clean_text('cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')')) }}
{%- endmacro %}

{% macro voc_nfc(expression) -%}
    {#- Unicode normalization form C (composed characters). -#}
    {{ return(adapter.dispatch('voc_nfc', 'voc_weekly')(expression)) }}
{%- endmacro %}

{% macro default__voc_nfc(expression) -%}
    nfc_normalize({{ expression }})
{%- endmacro %}

{% macro bigquery__voc_nfc(expression) -%}
    normalize({{ expression }}, nfc)
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
