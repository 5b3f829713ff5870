"""VOC Weekly: weekly voice-of-customer changes from dbt marts to Slack."""
