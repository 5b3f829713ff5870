-- One row per Zendesk ticket created from the scan start until a week after the reported week (and
-- per ticket dated after this run started): the row of each id chosen as of the end of the reported
-- week. Both bounds on event_create_time are literals, so a run reads only the partitions of the
-- weeks it reports (and the week after, which shows whether the data reaches past the reported
-- week), never the whole history.
-- (No apostrophes in these comments: the BigQuery emulator misreads text after one.)
{{ voc_staged_tickets(voc_source_read_start(), voc_source_read_end(), with_future_dated=true) }}
