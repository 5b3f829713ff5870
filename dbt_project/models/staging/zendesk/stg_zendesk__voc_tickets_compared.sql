-- One row per Zendesk ticket created in the two compared weeks (the previous week and the reported
-- week, KST): the same rows as stg_zendesk__voc_tickets for those weeks, read from their partitions
-- only. The samples and keyword marts read the text of these two weeks and nothing else, so they
-- never pay for the text of the multi-week history.
-- (No apostrophes in these comments: the BigQuery emulator misreads text after one.)
{{ voc_staged_tickets(voc_kst_midnight_utc(voc_previous_week()), voc_dedup_as_of(), with_future_dated=false) }}
